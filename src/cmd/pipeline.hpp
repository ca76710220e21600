// cairn::cmd::pipeline: many requests of one topic in flight on one connection, their replies
// handled in request order, for the bulk modes of `cairn content`. Invariants: at most
// kWindow requests and (beyond the first) kWindowBytes of request payload are in flight; items
// are pulled from their source only as the window has room, so input is streamed, never read
// whole; replies are handed on in the order the items came, each exactly once; a source error
// ends the run only after every item before it has been handled.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "cmd/progress.hpp"
#include "libclient/client.hpp"
#include "libutil/result.hpp"

namespace cairn::cmd {

// One request of a bulk run: its payload, and how an error names it ("line 7", "FILE",
// "sha1-...").
struct Item {
  std::string payload;  // dropped once sent
  std::string label;
  size_t sent_bytes = 0;  // the payload's size, set by pipeline() when it is sent
};

// Fills `item` with the next one and returns true; false when there are no more. An Error
// (text `<what>: <why>`, as `cairn: <text>` prints it) ends the run.
using ItemSource = std::function<util::Result<bool>(Item& item)>;
// Handles the reply to `item`, in item order; returns the size to count in the progress line,
// or an Error (text `<what>: <why>`) that ends the run.
using ReplyHandler = std::function<util::Result<size_t>(const Item& item, client::Response& r)>;

inline constexpr size_t kWindow = 64;
inline constexpr size_t kWindowBytes = size_t{64} << 20;

// Sends one `topic` request per item of `next` and hands each reply to `on_reply`, counting
// each in `progress`. Returns the exit status: 0, or 1 after printing the first error as
// `cairn: <text>` (with the progress line cleared first).
int pipeline(client::Client& c, const std::string& topic, const ItemSource& next,
             const ReplyHandler& on_reply, Progress& progress);

}  // namespace cairn::cmd
