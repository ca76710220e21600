// Endpoint text -> host and port (see endpoint.hpp). Refuses anything ambiguous (an IPv6 address
// without brackets, a missing host or port) rather than guessing.
#include "libstats/endpoint.hpp"

#include <cerrno>

namespace cairn::stats {

namespace {

util::Result<uint16_t> parse_port(std::string_view text) {
  if (text.empty()) return util::Error{EINVAL, "the port is missing"};
  uint32_t port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return util::Error{EINVAL, "the port is not a number"};
    port = port * 10 + static_cast<uint32_t>(c - '0');
    if (port > 65535) break;
  }
  if (port == 0 || port > 65535) return util::Error{EINVAL, "the port must be between 1 and 65535"};
  return static_cast<uint16_t>(port);
}

}  // namespace

util::Result<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint ep;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos)
      return util::Error{EINVAL, "the IPv6 address has no closing ']'"};
    ep.host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':')
      return util::Error{EINVAL, "expected ':PORT' after ']'"};
    port_text = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return util::Error{EINVAL, "the port is missing"};
    ep.host = text.substr(0, colon);
    if (ep.host.find(':') != std::string::npos)
      return util::Error{EINVAL, "an IPv6 address must be written in brackets, as [ADDR]:PORT"};
    port_text = text.substr(colon + 1);
  }
  if (ep.host.empty()) return util::Error{EINVAL, "the host is missing"};
  auto port = parse_port(port_text);
  if (!port) return port.error();
  ep.port = *port;
  return ep;
}

}  // namespace cairn::stats
