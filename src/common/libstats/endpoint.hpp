// cairn::stats endpoint parsing: "HOST:PORT" (IPv4 or a name) and "[IPv6]:PORT" -> host + port.
// Pure text work, no resolution; the Sender resolves the host once with getaddrinfo.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "libutil/result.hpp"

namespace cairn::stats {

struct Endpoint {
  std::string host;  // without the brackets of an IPv6 literal
  uint16_t port = 0;
};

// The endpoint named by `text`, or EINVAL with a text saying what is wrong (e.g. "the port is
// missing"; it does not quote `text`).
util::Result<Endpoint> parse_endpoint(std::string_view text);

}  // namespace cairn::stats
