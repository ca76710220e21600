// The bulk request pipeline of `cairn content` (see pipeline.hpp). In-flight requests sit in a
// deque in send order; a reply is parked on its entry until every earlier one is handled.
#include "cmd/pipeline.hpp"

#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>

#include "cmd/common.hpp"

namespace cairn::cmd {

namespace {

struct InFlight {
  uint32_t matchtag;
  Item item;
  std::optional<client::Response> reply;
};

}  // namespace

int pipeline(client::Client& c, const std::string& topic, const ItemSource& next,
             const ReplyHandler& on_reply, Progress& progress) {
  auto failed = [&progress](const util::Error& e) {
    progress.clear();
    return fail(e);
  };
  std::deque<InFlight> window;
  size_t window_bytes = 0;
  std::optional<util::Error> source_error;
  bool source_done = false;
  for (;;) {
    // Fill the window; a lone item larger than kWindowBytes still goes, alone.
    while (!source_done && window.size() < kWindow &&
           (window.empty() || window_bytes < kWindowBytes)) {
      Item item;
      auto more = next(item);
      if (!more) {
        source_error = more.error();
        source_done = true;
        break;
      }
      if (!*more) {
        source_done = true;
        break;
      }
      uint32_t tag = c.send(topic, item.payload);
      if (tag == 0) return failed(util::Error{errno, topic + ": send: " + std::strerror(errno)});
      item.sent_bytes = item.payload.size();
      std::string().swap(item.payload);  // the request is sent: its bytes are not needed
      window_bytes += item.sent_bytes;
      window.push_back(InFlight{tag, std::move(item), std::nullopt});
    }
    if (window.empty()) break;
    client::Response r = c.recv();
    InFlight* at = nullptr;
    for (InFlight& f : window)
      if (f.matchtag == r.matchtag && !f.reply) at = &f;
    if (!at)  // a timeout, or the connection failed
      return failed(util::Error{r.errnum ? r.errnum : EPROTO, topic + ": " + r.error_text()});
    at->reply = std::move(r);
    while (!window.empty() && window.front().reply) {
      InFlight& f = window.front();
      auto counted = on_reply(f.item, *f.reply);
      if (!counted) return failed(counted.error());
      progress.add(*counted);
      window_bytes -= f.item.sent_bytes;
      window.pop_front();
    }
  }
  if (source_error) return failed(*source_error);
  return 0;
}

}  // namespace cairn::cmd
