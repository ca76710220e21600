// Durable file helpers (see file.hpp).
#include "libutil/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "libutil/fd.hpp"

namespace cairn::util {

int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

int fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno;
  if (::fsync(fd.get()) < 0 && errno != EINVAL && errno != ENOTSUP) return errno;
  return 0;
}

int make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) < 0) return errno == EEXIST ? 0 : errno;
  return fsync_dir(std::filesystem::path(dir).parent_path().string());
}

}  // namespace cairn::util
