// cairn::util::UniqueFd: the one owner of a file descriptor in cairn (sockets, pipes, files).
// Invariants: it holds -1 or a descriptor that it alone closes, exactly once: when destroyed,
// reset, or assigned over; a moved-from UniqueFd holds -1; release() hands the descriptor over
// without closing it. Header-only, so any library may use it without linking libutil.
#pragma once

#include <unistd.h>

#include <utility>

namespace cairn::util {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (-1: owns nothing).
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  // Closes the descriptor held, then takes `other`'s.
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  // The descriptor, or -1.
  int get() const { return fd_; }
  // Holds a descriptor.
  explicit operator bool() const { return fd_ >= 0; }
  // Gives the descriptor up without closing it; -1 is held afterwards.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  // Closes the descriptor held (if any) and takes `fd` instead.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace cairn::util
