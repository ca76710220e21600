// What every `cairn` subcommand shares: the one error format, `cairn: <what>: <why>` on
// stderr, and the connection to the broker with its failures reported in that format.
// Every function that prints a failure returns 1, the exit status, for `return fail(...)`.
// A usage error (bad command line) exits kExitUsage instead; see main() in cairn.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <limits>
#include <optional>
#include <string_view>

#include "libclient/client.hpp"
#include "libutil/result.hpp"

namespace cairn::cmd {

// The exit status of every usage error: unknown command or option, bad or missing argument
// (cairn(1), EXIT STATUS).
inline constexpr int kExitUsage = 2;

inline constexpr long long kMaxInteger = std::numeric_limits<long long>::max();

// Checks of an option's value, whose failure CLI11 prints after the option's name as a usage
// error: `--count: 0 is not allowed: expected 1 or more`. Without them CLI11 would print its
// raw `Could not convert: ...` for a value its type cannot hold.
// A whole decimal number from MIN, at most `max` (the largest the option's type holds): else
// `'abc' is not a non-negative integer` (`a positive integer` for MIN 1), `-1 is not allowed:
// expected 0 or more`, `99999999999 is not allowed: expected at most 2147483647`. A value that
// passes is handed on in plain decimal, so CLI11 never reads `010` as octal.
CLI::Validator at_least(long long min, long long max = kMaxInteger);
// The same from MIN to MAX: `65536 is not allowed: expected 0 to 65535`.
CLI::Validator in_range(long long min, long long max);
// A number that may have a fraction (seconds), MIN or more: else `'abc' is not a number`.
CLI::Validator number_at_least(double min);
// Seconds, more than 0 and at most 1e7 (as $CAIRN_RPC_TIMEOUT): else `'abc' is not a number`,
// `0 is not allowed: expected more than 0 seconds`.
CLI::Validator positive_seconds();

// Prints `cairn: <what>: <why>` to stderr; returns 1.
int fail(std::string_view what, std::string_view why);
// A usage error found by a command itself (CLI11 finds the rest; see cairn.cpp): prints
// `cairn: <what>: <why>`; returns kExitUsage.
int usage_fail(std::string_view what, std::string_view why);
// Prints `cairn: <text>` for an Error whose text already reads `<what>: <why>` (libclient's);
// returns 1.
int fail(const util::Error& error);

// Adds `cairn`'s own options `--uri URI` and `--timeout SECONDS` to the top-level `app`: they
// set what $CAIRN_URI and $CAIRN_RPC_TIMEOUT set, and win over them (cairn(1)).
void add_connect_options(CLI::App& app);

// Connects to the broker named by --uri, else $CAIRN_URI (libclient's Client::connect), with
// the reply timeout of --timeout, else $CAIRN_RPC_TIMEOUT. On failure prints why (e.g.
// `cairn: CAIRN_URI is not set: ...`) and returns nullopt.
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
