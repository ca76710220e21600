// The error format and broker connection shared by the `cairn` subcommands (see common.hpp).
#include "cmd/common.hpp"

#include <cerrno>
#include <iostream>

namespace cairn::cmd {

int fail(std::string_view what, std::string_view why) {
  std::cerr << "cairn: " << what << ": " << why << std::endl;
  return 1;
}

std::optional<client::Client> connect_or_fail() {
  client::ConnectError err;
  std::optional<client::Client> c = client::Client::connect({}, &err);
  if (!c) fail(err.what, err.why);
  return c;
}

int fail_response(std::string_view what, std::string_view topic, const client::Response& r) {
  return fail(r.errnum == ETIMEDOUT ? topic : what, r.error_text());
}

}  // namespace cairn::cmd
