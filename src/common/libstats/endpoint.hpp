// cairn::stats endpoint parsing: "HOST:PORT" (IPv4 or a name) and "[IPv6]:PORT" -> host + port.
// Pure text work, no resolution; the Sender resolves the host once with getaddrinfo.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::stats {

struct Endpoint {
  std::string host;  // without the brackets of an IPv6 literal
  uint16_t port = 0;
};

// The endpoint named by `text`, or nullopt with `why` saying what is wrong.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::string& why);

}  // namespace cairn::stats
