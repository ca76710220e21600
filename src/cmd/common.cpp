// The error format and broker connection shared by the `cairn` subcommands (see common.hpp).
#include "cmd/common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>
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

// What a value must be to pass a whole-number check from `min` up: "a non-negative integer".
std::string integer_kind(long long min) {
  if (min == 0) return "a non-negative integer";
  if (min == 1) return "a positive integer";
  return "an integer";
}

// A check that `value` is a whole decimal number in [min, max]: `below` says what is allowed
// to a value under min, `above` to one over max. A value that passes is rewritten in plain
// decimal ("+07" becomes "7").
CLI::Validator integer_check(long long min, long long max, const std::string& below,
                             const std::string& above) {
  return CLI::Validator(
      [min, max, below, above](std::string& value) -> std::string {
        const char* first = value.data();
        const char* last = first + value.size();
        if (first != last && *first == '+') ++first;
        long long number = 0;
        auto [end, err] = std::from_chars(first, last, number);
        const bool whole = first != last && end == last;
        if (!whole || (err != std::errc() && err != std::errc::result_out_of_range))
          return "'" + value + "' is not " + integer_kind(min);
        const bool negative = *first == '-';
        if (err == std::errc::result_out_of_range ? negative : number < min)
          return value + " is not allowed: expected " + below;
        if (err == std::errc::result_out_of_range || number > max)
          return value + " is not allowed: expected " + above;
        value = std::to_string(number);
        return {};
      },
      below);
}

// `text` as a finite decimal number (a fraction and an exponent allowed), or nullopt.
std::optional<double> parse_number(const std::string& text) {
  double number = 0;
  const char* last = text.data() + text.size();
  auto [end, err] = std::from_chars(text.data(), last, number);
  if (text.empty() || end != last || err != std::errc() || !std::isfinite(number))
    return std::nullopt;
  return number;
}

// The longest reply timeout: libclient's bound on $CAIRN_RPC_TIMEOUT.
constexpr double kMaxSeconds = 1e7;

// What --uri and --timeout gave (add_connect_options); empty when not given.
struct ConnectOptions {
  std::string uri;
  std::optional<double> timeout;
};
ConnectOptions connect_options;

// Removes an environment variable until destroyed, then puts back the value it had.
class ScopedUnsetenv {
 public:
  explicit ScopedUnsetenv(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) saved_ = v;
    ::unsetenv(name);
  }
  ~ScopedUnsetenv() {
    if (saved_) ::setenv(name_, saved_->c_str(), 1);
  }
  ScopedUnsetenv(const ScopedUnsetenv&) = delete;
  ScopedUnsetenv& operator=(const ScopedUnsetenv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

}  // namespace

CLI::Validator at_least(long long min, long long max) {
  return integer_check(min, max, std::to_string(min) + " or more",
                       "at most " + std::to_string(max));
}

CLI::Validator in_range(long long min, long long max) {
  const std::string range = std::to_string(min) + " to " + std::to_string(max);
  return integer_check(min, max, range, range);
}

CLI::Validator number_at_least(double min) {
  const std::string expected = fmt::format("{} or more", min);
  return CLI::Validator(
      [min, expected](std::string& value) -> std::string {
        auto number = parse_number(value);
        if (!number) return "'" + value + "' is not a number";
        if (*number < min) return value + " is not allowed: expected " + expected;
        return {};
      },
      expected);
}

CLI::Validator positive_seconds() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto number = parse_number(value);
        if (!number) return "'" + value + "' is not a number of seconds";
        if (*number <= 0) return value + " is not allowed: expected more than 0 seconds";
        if (*number > kMaxSeconds)
          return value + " is not allowed: expected at most " + fmt::format("{}", kMaxSeconds) +
                 " seconds";
        return {};
      },
      "");
}

void add_connect_options(CLI::App& app) {
  app.add_option("--uri", connect_options.uri,
                 "the broker to connect to (default: $CAIRN_URI, which cairn start sets)")
      ->type_name("URI");
  app.add_option("--timeout", connect_options.timeout,
                 "seconds to wait for each reply of the broker (default: $CAIRN_RPC_TIMEOUT, "
                 "else 60)")
      ->type_name("SECONDS")
      ->check(positive_seconds());
}

std::optional<client::Client> connect_or_fail() {
  auto c = [] {
    // --timeout wins: $CAIRN_RPC_TIMEOUT is not even read, so a bad value there is no error.
    std::optional<ScopedUnsetenv> no_env_timeout;
    if (connect_options.timeout) no_env_timeout.emplace("CAIRN_RPC_TIMEOUT");
    return client::Client::connect(connect_options.uri);
  }();
  if (!c) {
    fail(c.error());
    return std::nullopt;
  }
  if (connect_options.timeout) {
    auto ms = std::llround(*connect_options.timeout * 1000);
    c->set_timeout(std::chrono::milliseconds(std::max<long long>(1, ms)));
  }
  return std::move(c).value();
}

int fail_response(std::string_view what, std::string_view topic, const client::Response& r) {
  return fail(r.errnum == ETIMEDOUT ? topic : what, r.error_text());
}

}  // namespace cairn::cmd
