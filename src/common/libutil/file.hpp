// cairn::util file helpers: what a writer that must not lose data after a crash does (the
// files backing store and its benchmark's raw baseline), and reading a whole file or pipe in
// large blocks (`cairn content store`). Each returns 0 or an errno.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn::util {

// Writes all of `data` to `fd`, retrying short writes and EINTR.
int write_all(int fd, std::string_view data);
// Appends what `fd` holds up to its end of file to `data`, in reads of up to kReadBlockSize
// bytes (a pipe's data as fast as it comes, a regular file's size reserved first), retrying
// EINTR. On an error `data` holds what was read before it.
int read_all(int fd, std::string& data);
inline constexpr size_t kReadBlockSize = size_t{1} << 20;
// Makes a directory entry just created or renamed in `dir` durable. Some filesystems cannot
// fsync a directory (EINVAL, ENOTSUP); their entries are as durable as they get.
int fsync_dir(const std::string& dir);
// Creates `dir` (mode 0755) unless it exists; on creation, fsyncs its parent so the new entry
// lasts.
int make_dir(const std::string& dir);

}  // namespace cairn::util
