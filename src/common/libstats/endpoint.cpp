// Endpoint text -> host and port (see endpoint.hpp). Refuses anything ambiguous (an IPv6 address
// without brackets, a missing host or port) rather than guessing.
#include "libstats/endpoint.hpp"

namespace cairn::stats {

namespace {

std::optional<uint16_t> parse_port(std::string_view text, std::string& why) {
  if (text.empty()) {
    why = "the port is missing";
    return std::nullopt;
  }
  uint32_t port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      why = "the port is not a number";
      return std::nullopt;
    }
    port = port * 10 + static_cast<uint32_t>(c - '0');
    if (port > 65535) break;
  }
  if (port == 0 || port > 65535) {
    why = "the port must be between 1 and 65535";
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text, std::string& why) {
  Endpoint ep;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      why = "the IPv6 address has no closing ']'";
      return std::nullopt;
    }
    ep.host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      why = "expected ':PORT' after ']'";
      return std::nullopt;
    }
    port_text = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      why = "the port is missing";
      return std::nullopt;
    }
    ep.host = text.substr(0, colon);
    if (ep.host.find(':') != std::string::npos) {
      why = "an IPv6 address must be written in brackets, as [ADDR]:PORT";
      return std::nullopt;
    }
    port_text = text.substr(colon + 1);
  }
  if (ep.host.empty()) {
    why = "the host is missing";
    return std::nullopt;
  }
  auto port = parse_port(port_text, why);
  if (!port) return std::nullopt;
  ep.port = *port;
  return ep;
}

}  // namespace cairn::stats
