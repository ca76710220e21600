// Who besides the broker's own user may connect to its local:// socket: the configuration keys
// broker.socket-group and broker.socket-mode, applied to the socket's directory and the socket.
// Invariants: the owner always keeps rwx on the directory; users outside the owner and the
// group never get any access; a directory is changed only when it belongs to the broker's user
// (checked and changed through one descriptor, so what is checked is what is changed).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "broker/module-api/config_key.hpp"

namespace cairn::broker {

class Config;  // config.hpp, which lists the two keys below among the broker's own

struct SocketAccess {
  mode_t dir_mode = 0700;    // of the socket's directory (broker.socket-mode)
  std::optional<gid_t> gid;  // group of the directory and socket (broker.socket-group)
  std::string group;         // its name, for messages

  // "group cairn", or "the broker's group" when none is configured.
  std::string group_text() const { return gid ? "group " + group : "the broker's group"; }

  // The group may connect (the directory lets it in).
  bool shared() const { return (dir_mode & 0070) != 0; }
  // Not the default (owner only): the directory and the socket are then set as configured.
  bool configured() const { return dir_mode != 0700 || gid.has_value(); }
  // The socket file: read-write for the owner, and for the group when shared.
  mode_t socket_mode() const { return shared() ? 0660 : 0600; }
};

// The declarations of broker.socket-group and broker.socket-mode (config.cpp lists them).
ConfigKey socket_group_key();
ConfigKey socket_mode_key();

// The access the configuration asks for. Throws ConfigError naming the key when a group is
// given while the mode keeps it out.
SocketAccess socket_access(const Config& config);

// Sets the group and mode of the socket's directory, open as `fd` and already checked to be
// ours. Throws StartupError ("socket").
void set_dir_access(int fd, const std::string& dir, const SocketAccess& access);

// Opens `dir` (a directory, not a symbolic link), checks that it belongs to the broker's user,
// and sets its mode and group. Throws StartupError ("socket") saying what is wrong and what to
// do: a foreign owner, a group the broker's user may not give files to.
void apply_to_socket_dir(const std::string& dir, const SocketAccess& access);

// Lets the group pass through `dir` (the statedir above the socket's directory): sets its group
// and adds group search (x) permission, never read. Throws StartupError ("socket").
void open_path_for_group(const std::string& dir, const SocketAccess& access);

// Sets the bound socket's mode and group. Throws StartupError ("socket").
void apply_to_socket(const std::string& path, const SocketAccess& access);

}  // namespace cairn::broker
