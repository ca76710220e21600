// What every `cairn` subcommand shares: the one error format, `cairn: <what>: <why>` on
// stderr, and the connection to the broker with its failures reported in that format.
// Every function that prints a failure returns 1, the exit status, for `return fail(...)`.
#pragma once

#include <optional>
#include <string_view>

#include "libclient/client.hpp"
#include "libutil/result.hpp"

namespace cairn::cmd {

// Prints `cairn: <what>: <why>` to stderr; returns 1.
int fail(std::string_view what, std::string_view why);
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
