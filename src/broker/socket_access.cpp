// SocketAccess (see socket_access.hpp): the two keys, their checks, and chmod/chown of the
// socket's directory and the socket.
#include "broker/socket_access.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "broker/config.hpp"
#include "broker/startup_error.hpp"
#include "libutil/fd.hpp"

namespace cairn::broker {

namespace {

constexpr const char* kGroupKey = "broker.socket-group";
constexpr const char* kModeKey = "broker.socket-mode";

// The gid of group `name` (a name or a number), or nullopt if there is none.
std::optional<gid_t> group_id(const std::string& name) {
  struct group gr, *found = nullptr;
  char buf[4096];
  if (getgrnam_r(name.c_str(), &gr, buf, sizeof buf, &found) == 0 && found) return found->gr_gid;
  char* end = nullptr;
  errno = 0;
  unsigned long n = std::strtoul(name.c_str(), &end, 10);
  if (!name.empty() && errno == 0 && *end == '\0' &&
      getgrgid_r(static_cast<gid_t>(n), &gr, buf, sizeof buf, &found) == 0 && found)
    return found->gr_gid;
  return std::nullopt;
}

// "0750" -> 0750; nullopt unless 3 or 4 octal digits.
std::optional<mode_t> parse_mode(const std::string& s) {
  if (s.size() < 3 || s.size() > 4) return std::nullopt;
  mode_t m = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return std::nullopt;
    m = (m << 3) | static_cast<mode_t>(c - '0');
  }
  return m;
}

std::string check_group(const Value& v) {
  const auto& name = std::get<std::string>(v);
  if (name.empty() || group_id(name)) return {};
  return fmt::format("no group '{}' on this host (create it with groupadd, or give another)", name);
}

std::string check_mode(const Value& v) {
  const auto& text = std::get<std::string>(v);
  auto m = parse_mode(text);
  if (!m || *m > 0777)
    return fmt::format(
        "'{}' is not a directory mode: give octal permissions such as \"0700\" "
        "(owner only) or \"0750\" (owner and broker.socket-group)",
        text);
  if ((*m & 0700) != 0700)
    return fmt::format("'{}' takes rights from the broker's own user, which needs rwx (07..)",
                       text);
  if ((*m & 0007) != 0)
    return fmt::format(
        "'{}' lets every user of the host connect (and so read and fill its cache)"
        ": give access to a group instead, e.g. \"0750\" with "
        "broker.socket-group",
        text);
  return {};
}

std::string describe_errno(int err) { return std::strerror(err); }

// chown to the group, or a StartupError saying why it may not.
void give_to_group(int fd, const std::string& what, const SocketAccess& access) {
  if (!access.gid || fchown(fd, static_cast<uid_t>(-1), *access.gid) == 0) return;
  int err = errno;
  if (err == EPERM)
    throw StartupError("socket",
                       fmt::format("cannot give {} to group {} ({}): the broker's user (uid {}) "
                                   "must be a member of it (for the systemd unit: "
                                   "SupplementaryGroups={})",
                                   what, access.group, kGroupKey, geteuid(), access.group));
  throw StartupError("socket", fmt::format("cannot give {} to group {}: {}", what, access.group,
                                           describe_errno(err)));
}

// Opens a directory of ours without following a symbolic link, or throws.
util::UniqueFd open_own_dir(const std::string& dir, const char* role) {
  util::UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) < 0)
    throw StartupError("socket", fmt::format("{} ({}) cannot be opened as a directory: {}", dir,
                                             role, describe_errno(errno)));
  if (st.st_uid != geteuid())
    throw StartupError(
        "socket", fmt::format("{} ({}) belongs to uid {}, not to uid {} who runs the broker, so "
                              "its mode and group ({}, {}) cannot be set: chown it, or use "
                              "another directory",
                              dir, role, st.st_uid, geteuid(), kModeKey, kGroupKey));
  return fd;
}

}  // namespace

ConfigKey socket_group_key() {
  return ConfigKey::string(kGroupKey, "",
                           "group whose members may connect to the local:// socket; empty: the "
                           "broker user's own")
      .with_check(check_group);
}

ConfigKey socket_mode_key() {
  return ConfigKey::string(kModeKey, "0700",
                           "mode of the local:// socket's directory (octal); \"0750\" lets "
                           "broker.socket-group connect")
      .with_check(check_mode);
}

SocketAccess socket_access(const Config& config) {
  SocketAccess a;
  a.dir_mode = parse_mode(config.string(kModeKey)).value_or(0700);
  a.group = config.string(kGroupKey);
  if (!a.group.empty()) {
    a.gid = group_id(a.group);
    if (!a.gid) throw ConfigError(kGroupKey, check_group(a.group));
    if (!a.shared())
      throw ConfigError(kGroupKey,
                        fmt::format("group '{}' is given, but {} = \"{}\" keeps it out: set {} = "
                                    "\"0750\" so its members can connect",
                                    a.group, kModeKey, config.string(kModeKey), kModeKey));
  }
  return a;
}

void set_dir_access(int fd, const std::string& dir, const SocketAccess& access) {
  give_to_group(fd, dir, access);
  if (fchmod(fd, access.dir_mode) < 0)
    throw StartupError("socket", fmt::format("cannot set {} to mode {:04o}: {}", dir,
                                             access.dir_mode, describe_errno(errno)));
}

void apply_to_socket_dir(const std::string& dir, const SocketAccess& access) {
  util::UniqueFd fd = open_own_dir(dir, "the socket's directory");
  set_dir_access(fd.get(), dir, access);
}

void open_path_for_group(const std::string& dir, const SocketAccess& access) {
  util::UniqueFd fd = open_own_dir(dir, "the statedir, above the socket's directory");
  give_to_group(fd.get(), dir, access);
  struct stat st;
  if (fstat(fd.get(), &st) < 0 || fchmod(fd.get(), (st.st_mode & 07777) | 0010) < 0)
    throw StartupError("socket", fmt::format("cannot let {} pass through {}: {}",
                                             access.group_text(), dir, describe_errno(errno)));
}

void apply_to_socket(const std::string& path, const SocketAccess& access) {
  // A socket cannot be opened; lchown/chmod by name, right after bind, in our own directory.
  if (access.gid && lchown(path.c_str(), static_cast<uid_t>(-1), *access.gid) < 0)
    throw StartupError("socket", fmt::format("cannot give {} to group {}: {}", path, access.group,
                                             describe_errno(errno)));
  if (chmod(path.c_str(), access.socket_mode()) < 0)
    throw StartupError("socket", fmt::format("cannot set {} to mode {:04o}: {}", path,
                                             access.socket_mode(), describe_errno(errno)));
}

}  // namespace cairn::broker
