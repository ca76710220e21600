// The error format and broker connection shared by the `cairn` subcommands (see common.hpp).
#include "cmd/common.hpp"

#include <cerrno>
#include <iostream>
#include <limits>
#include <string>
#include <utility>

namespace cairn::cmd {

int fail(std::string_view what, std::string_view why) {
  std::cerr << "cairn: " << what << ": " << why << std::endl;
  return 1;
}

int usage_fail(std::string_view what, std::string_view why) {
  fail(what, why);
  return kExitUsage;
}

int fail(const util::Error& error) {
  std::cerr << "cairn: " << error.text << std::endl;
  return 1;
}

namespace {

// A check that `value` is a number in [min, max], with `expected` saying what is allowed.
CLI::Validator number_check(long long min, long long max, const std::string& expected) {
  return CLI::Validator(
      [min, max, expected](std::string& value) -> std::string {
        double number = 0;
        if (!CLI::detail::lexical_cast(value, number)) return value + " is not a number";
        if (number < static_cast<double>(min) || number > static_cast<double>(max))
          return value + " is not allowed: expected " + expected;
        return {};
      },
      expected);
}

}  // namespace

CLI::Validator at_least(long long min) {
  return number_check(min, std::numeric_limits<long long>::max(), std::to_string(min) + " or more");
}

CLI::Validator in_range(long long min, long long max) {
  return number_check(min, max, std::to_string(min) + " to " + std::to_string(max));
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
