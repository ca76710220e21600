// The broker's state directory (--statedir, or a private temporary one) and its ipc://
// socket's directory: the statedir if it is mode 0700 and ours, else its run/ made so.
// Invariant: a temporary statedir is removed with all it holds on destruction; a given one never.
#pragma once

#include <optional>
#include <string>

namespace cairn::broker {

class StateDir {
 public:
  // Uses `given` (created mode 0700 if missing), or with none a new cairn-XXXXXX directory
  // under $TMPDIR (default /tmp). The socket goes in the statedir itself if that is mode 0700
  // and ours, else in its `run/` subdirectory (made so). Throws StartupError ("statedir").
  explicit StateDir(const std::optional<std::string>& given);
  ~StateDir();
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

  const std::string& path() const { return path_; }
  // ipc://<socket dir>/cairn.sock; throws StartupError if the path is too long for a Unix
  // socket.
  std::string socket_uri() const;

 private:
  std::string path_;
  std::string socket_dir_;
  bool temporary_ = false;
};

}  // namespace cairn::broker
