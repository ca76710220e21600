// The broker's state directory (--statedir, or a private temporary one), its lock, and its
// local:// socket's directory: the statedir if it is mode 0700 and ours, else its run/ made so
// (or as broker.socket-mode and -group say).
// Invariants: while a StateDir exists it holds an exclusive flock on <statedir>/cairn.lock,
// which holds its pid, so no two brokers share a statedir; the socket's directory is ours and
// mode 0700 unless the configuration gives it to a group; a temporary statedir is removed with all
// it holds on destruction, a given one never.
#pragma once

#include <optional>
#include <string>

#include "broker/socket_access.hpp"
#include "libutil/fd.hpp"

namespace cairn::broker {

class StateDir {
 public:
  // Uses `given` (created mode 0700 if missing), or with none a new cairn-XXXXXX directory
  // under $TMPDIR (default /tmp), and locks it. The socket goes in the statedir itself if that
  // is mode 0700 and ours, else in its `run/` subdirectory (made so). Throws StartupError
  // ("statedir") if the statedir cannot be made or locked, if another broker holds its lock
  // (naming that broker's pid), or if run/ is not a directory owned by this user.
  // With `access` configured (broker.socket-mode / -group, socket_access.hpp) the socket always
  // goes in run/, which gets that mode and group, and the group may pass through the statedir
  // (search permission only) to reach it.
  explicit StateDir(const std::optional<std::string>& given, const SocketAccess& access = {});
  // Empties the lock file and releases the lock; removes a temporary statedir.
  ~StateDir();
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

  const std::string& path() const { return path_; }
  // local://<socket dir>/cairn.sock; throws StartupError if the path is too long for a Unix
  // socket.
  std::string socket_uri() const;

 private:
  // Takes the lock on <statedir>/cairn.lock and writes our pid in it.
  void lock();
  // Makes path_/run the socket's directory: created, or an existing directory of ours, set to
  // access_'s mode (0700 by default) and group; anything else is refused.
  void make_socket_dir();

  std::string path_;
  std::string socket_dir_;
  util::UniqueFd lock_;  // <statedir>/cairn.lock, flock()ed
  bool temporary_ = false;
  SocketAccess access_;
};

}  // namespace cairn::broker
