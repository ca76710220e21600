// Test helpers' side of local://: connect to a broker's socket and write length-prefixed frames
// with plain system calls, as a misbehaving client would (send_raw, flood). Header-only.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <string_view>

#include "libmsg/stream.hpp"
#include "libutil/fd.hpp"

namespace cairn::test {

constexpr std::string_view kLocalScheme = "local://";

inline bool is_local(std::string_view uri) { return uri.starts_with(kLocalScheme); }

// A connection to the local:// URI `uri`, or -1 (errno set).
inline util::UniqueFd connect_local(std::string_view uri) {
  std::string path(uri.substr(kLocalScheme.size()));
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) {
    errno = ENAMETOOLONG;
    return util::UniqueFd();
  }
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  util::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd && connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) fd.reset();
  return fd;
}

// Writes `bytes` whole (blocking); false with errno on failure (EPIPE once the peer is gone).
inline bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Writes `frame` behind its length prefix.
inline bool write_frame(int fd, std::string_view frame) {
  char prefix[msg::kStreamPrefixBytes];
  msg::encode_stream_prefix(static_cast<uint32_t>(frame.size()), prefix);
  return write_all(fd, std::string_view(prefix, sizeof prefix)) && write_all(fd, frame);
}

}  // namespace cairn::test
