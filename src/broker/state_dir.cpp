// StateDir (see state_dir.hpp): creates, checks and, when temporary, removes the statedir.
#include "broker/state_dir.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "broker/broker.hpp"

namespace cairn::broker {

namespace {

namespace fs = std::filesystem;

// A directory of mode 0700 owned by this user.
bool private_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & 0777) == 0700;
}

}  // namespace

StateDir::StateDir(const std::optional<std::string>& given) {
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
  socket_dir_ = private_dir(path_) ? path_ : path_ + "/run";
  if (socket_dir_ != path_) {
    if (mkdir(socket_dir_.c_str(), 0700) < 0 && errno != EEXIST)
      throw StartupError("statedir",
                         fmt::format("cannot create {}: {}", socket_dir_, std::strerror(errno)));
    if (!private_dir(socket_dir_) && chmod(socket_dir_.c_str(), 0700) < 0)
      throw StartupError("statedir", fmt::format("{} must be a directory of mode 0700 owned "
                                                 "by you: {}",
                                                 socket_dir_, std::strerror(errno)));
  }
}

StateDir::~StateDir() {
  if (temporary_) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

std::string StateDir::socket_uri() const {
  std::string p = socket_dir_ + "/cairn.sock";
  if (p.size() >= sizeof(sockaddr_un{}.sun_path))
    throw StartupError("statedir", fmt::format("socket path {} is {} bytes, more than a Unix "
                                               "socket allows ({}): use a shorter --statedir "
                                               "or TMPDIR",
                                               p, p.size(), sizeof(sockaddr_un{}.sun_path) - 1));
  return "ipc://" + p;
}

}  // namespace cairn::broker
