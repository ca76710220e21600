// The error format and broker connection shared by the `cairn` subcommands (see common.hpp).
#include "cmd/common.hpp"

#include <cerrno>
#include <iostream>
#include <utility>

namespace cairn::cmd {

int fail(std::string_view what, std::string_view why) {
  std::cerr << "cairn: " << what << ": " << why << std::endl;
  return 1;
}

int fail(const util::Error& error) {
  std::cerr << "cairn: " << error.text << std::endl;
  return 1;
}

std::optional<client::Client> connect_or_fail() {
  auto c = client::Client::connect();
  if (!c) {
    fail(c.error());
    return std::nullopt;
  }
  return std::move(c).value();
}

int fail_response(std::string_view what, std::string_view topic, const client::Response& r) {
  return fail(r.errnum == ETIMEDOUT ? topic : what, r.error_text());
}

}  // namespace cairn::cmd
