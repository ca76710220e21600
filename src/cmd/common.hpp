// What every `cairn` subcommand shares: the one error format, `cairn: <what>: <why>` on
// stderr, and the connection to the broker with its failures reported in that format.
// Every function that prints a failure returns 1, the exit status, for `return fail(...)`.
// A usage error (bad command line) exits kExitUsage instead; see main() in cairn.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string_view>

#include "libclient/client.hpp"
#include "libutil/result.hpp"

namespace cairn::cmd {

// The exit status of every usage error: unknown command or option, bad or missing argument
// (cairn(1), EXIT STATUS).
inline constexpr int kExitUsage = 2;

// Option checks whose failure reads `<value> is not allowed: expected <what>`; CLI11 puts the
// option's name in front. A value that is not a number reads `<value> is not a number`.
CLI::Validator at_least(long long min);                 // expected MIN or more
CLI::Validator in_range(long long min, long long max);  // expected MIN to MAX

// Prints `cairn: <what>: <why>` to stderr; returns 1.
int fail(std::string_view what, std::string_view why);
// A usage error found by a command itself (CLI11 finds the rest; see cairn.cpp): prints
// `cairn: <what>: <why>`; returns kExitUsage.
int usage_fail(std::string_view what, std::string_view why);
// Prints `cairn: <text>` for an Error whose text already reads `<what>: <why>` (libclient's);
// returns 1.
int fail(const util::Error& error);

// Connects to the broker named by $CAIRN_URI (libclient's Client::connect). On failure prints
// why (e.g. `cairn: CAIRN_URI is not set: ...`) and returns nullopt.
std::optional<client::Client> connect_or_fail();

// Prints the failure of the request `topic`, made for the command `what` ("content store"),
// as `cairn: <what>: <why>`; a timeout names the topic instead, since that is what did not
// answer (doc/protocol.md). Returns 1.
int fail_response(std::string_view what, std::string_view topic, const client::Response& r);
// The same where the command is named by the topic itself (`cairn rpc`, `cairn ping`).
inline int fail_response(std::string_view topic, const client::Response& r) {
  return fail_response(topic, topic, r);
}

}  // namespace cairn::cmd
