// cairn::util durable file helpers: what a writer that must not lose data after a crash does
// (the files backing store and its benchmark's raw baseline). Each returns 0 or an errno.
#pragma once

#include <string>
#include <string_view>

namespace cairn::util {

// Writes all of `data` to `fd`, retrying short writes and EINTR.
int write_all(int fd, std::string_view data);
// Makes a directory entry just created or renamed in `dir` durable. Some filesystems cannot
// fsync a directory (EINVAL, ENOTSUP); their entries are as durable as they get.
int fsync_dir(const std::string& dir);
// Creates `dir` (mode 0755) unless it exists; on creation, fsyncs its parent so the new entry
// lasts.
int make_dir(const std::string& dir);

}  // namespace cairn::util
