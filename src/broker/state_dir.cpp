// StateDir (see state_dir.hpp): creates, locks, checks and, when temporary, removes the
// statedir. The lock is flock(2) on an open file description, so it dies with the broker even
// after SIGKILL, is not inherited across exec (O_CLOEXEC), and two StateDirs in one process
// exclude each other as two processes do.
#include "broker/state_dir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "broker/startup_error.hpp"
#include "libutil/file.hpp"

namespace cairn::broker {

namespace {

namespace fs = std::filesystem;

// A directory of mode 0700 owned by this user.
bool private_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & 0777) == 0700;
}

// The user name of `uid`, or its number if it has none.
std::string user_name(uid_t uid) {
  struct passwd pw, *found = nullptr;
  char buf[1024];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) return found->pw_name;
  return std::to_string(uid);
}

// "uid 65534 (nobody)".
std::string describe_uid(uid_t uid) { return fmt::format("uid {} ({})", uid, user_name(uid)); }

// The pid a lock holder wrote into the lock file, or "unknown" (it may not have written it yet).
std::string holder_pid(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "unknown";
  buf[n] = '\0';
  char* end = nullptr;
  long pid = std::strtol(buf, &end, 10);
  if (pid <= 0 || end == buf || (*end != '\n' && *end != '\0')) return "unknown";
  return std::to_string(pid);
}

}  // namespace

StateDir::StateDir(const std::optional<std::string>& given, const SocketAccess& access)
    : access_(access) {
  if (given) {
    std::error_code ec;
    path_ = fs::absolute(*given, ec).lexically_normal().string();
    if (ec) throw StartupError("statedir", fmt::format("{}: {}", *given, ec.message()));
    if (!fs::exists(path_)) {
      fs::create_directories(path_, ec);
      if (ec)
        throw StartupError("statedir", fmt::format("cannot create {}: {}", path_, ec.message()));
      chmod(path_.c_str(), 0700);
    } else if (!fs::is_directory(path_)) {
      throw StartupError("statedir", fmt::format("{} exists and is not a directory", path_));
    }
  } else {
    const char* tmp = getenv("TMPDIR");
    std::string templ = fmt::format("{}/cairn-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(templ.data()))
      throw StartupError("statedir", fmt::format("cannot create a temporary directory {}: {} "
                                                 "(set TMPDIR or give --statedir)",
                                                 templ, std::strerror(errno)));
    path_ = templ;
    temporary_ = true;
  }
  try {
    lock();
    socket_dir_ = private_dir(path_) && !access_.configured() ? path_ : path_ + "/run";
    if (socket_dir_ != path_) make_socket_dir();
    if (access_.shared()) open_path_for_group(path_, access_);
  } catch (...) {
    if (temporary_) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
    throw;
  }
}

StateDir::~StateDir() {
  if (temporary_) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  } else {
    // The pid goes before the lock does; should emptying fail, a reader of the file finds a
    // stale pid, and the next broker still gets the lock.
    [[maybe_unused]] int rc = ftruncate(lock_.get(), 0);
  }
}

void StateDir::lock() {
  std::string file = path_ + "/cairn.lock";
  util::UniqueFd fd(open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd)
    throw StartupError("statedir",
                       fmt::format("cannot open the lock file {}: {}", file, std::strerror(errno)));
  if (flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK)
      throw StartupError(
          "statedir",
          fmt::format("{} is in use by another broker (pid {}, which holds {}): stop that "
                      "broker first, or give this one a --statedir of its own",
                      path_, holder_pid(fd.get()), file));
    throw StartupError("statedir", fmt::format("cannot lock {}: {}", file, std::strerror(errno)));
  }
  int err = ftruncate(fd.get(), 0) < 0 ? errno : 0;
  if (!err) err = util::write_all(fd.get(), fmt::format("{}\n", getpid()));
  if (err)
    throw StartupError("statedir",
                       fmt::format("cannot write the lock file {}: {}", file, std::strerror(err)));
  lock_ = std::move(fd);
}

void StateDir::make_socket_dir() {
  const std::string& dir = socket_dir_;
  if (mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST)
    throw StartupError("statedir", fmt::format("cannot create {}: {}", dir, std::strerror(errno)));
  // Checked and changed through one descriptor, so what is checked is what is changed.
  util::UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) < 0) {
    int err = errno;
    if (err == ENOTDIR || err == ELOOP)
      throw StartupError("statedir", fmt::format("{} (the socket's directory) is not a "
                                                 "directory but a file or a symbolic link: "
                                                 "remove it, or give another --statedir",
                                                 dir));
    throw StartupError("statedir", fmt::format("{}: {}", dir, std::strerror(err)));
  }
  if (st.st_uid != geteuid())
    throw StartupError(
        "statedir",
        fmt::format("{} (the socket's directory) is owned by {}, not by {} who runs the broker, "
                    "so its owner could reach or replace the socket: remove it (rm -r {}) or "
                    "chown it to {}, or give another --statedir",
                    dir, describe_uid(st.st_uid), describe_uid(geteuid()), dir,
                    user_name(geteuid())));
  if (access_.configured()) {
    set_dir_access(fd.get(), dir, access_);
  } else if ((st.st_mode & 07777) != 0700 && fchmod(fd.get(), 0700) < 0) {
    throw StartupError("statedir", fmt::format("{} must be a directory of mode 0700 owned "
                                               "by you: {}",
                                               dir, std::strerror(errno)));
  }
}

std::string StateDir::socket_uri() const {
  std::string p = socket_dir_ + "/cairn.sock";
  if (p.size() >= sizeof(sockaddr_un{}.sun_path))
    throw StartupError("statedir", fmt::format("socket path {} is {} bytes, more than a Unix "
                                               "socket allows ({}): use a shorter --statedir "
                                               "or TMPDIR",
                                               p, p.size(), sizeof(sockaddr_un{}.sun_path) - 1));
  return "local://" + p;
}

}  // namespace cairn::broker
