// File helpers (see file.hpp).
#include "libutil/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>

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

int read_all(int fd, std::string& data) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    off_t at = ::lseek(fd, 0, SEEK_CUR);
    if (at >= 0 && at < st.st_size)
      data.reserve(data.size() + static_cast<size_t>(st.st_size - at));
  }
  auto block = std::make_unique<char[]>(kReadBlockSize);
  for (;;) {
    ssize_t n = ::read(fd, block.get(), kReadBlockSize);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.append(block.get(), static_cast<size_t>(n));
  }
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
