// cairn::stats::Sender: the one connected UDP socket of a Stats, the packet builder and the self
// counters. Invariants: a datagram holds whole lines only and never exceeds max_packet bytes;
// every byte of a line is copied once into the packet buffer (no re-building); full packets
// wait in a batch that goes out with one sendmmsg() (a flush of many metrics costs a few
// system calls, not one per packet); a send error is counted, never reported or retried.
// With no endpoint there is no socket and no buffer.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "libstats/line_text.hpp"
#include "libstats/stats.hpp"
#include "libutil/fd.hpp"

namespace cairn::stats {

// One statsd line: head "PREFIX.NAME:", value, suffix "|TYPE\n".
struct Line {
  std::string_view head;
  std::string_view value;
  std::string_view suffix;
  size_t size() const { return head.size() + value.size() + suffix.size(); }
};

class Sender {
 public:
  // Parses, resolves and connects opts.endpoint; logs "parse error ..." and stays disabled when
  // that fails.
  explicit Sender(Options opts);
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  bool enabled() const { return fd_.get() >= 0; }
  const std::string& endpoint() const { return endpoint_; }
  SelfCounters& counters() { return counters_; }
  size_t max_packet() const { return max_packet_; }

  // Appends lines[0..n) to the current packet as one unit (they travel in the same datagram),
  // first sending the packet if the unit does not fit. A unit that can never fit is dropped and
  // its lines counted in dropped_lines.
  void add(const Line* lines, size_t n);
  // The same for the one line head + value + suffix of a counter or gauge (`plus`: a '+'
  // before a non-negative value), the flush's hot path: while the line surely fits in the
  // current packet it is written there directly, else add() decides, so the packets are
  // exactly add()'s. `head` must be followed in memory by kHeadPadding readable bytes, and
  // `suffix` (at most 4 bytes) by readable bytes up to 4: both are copied in whole blocks.
  void add_int_line(std::string_view head, int64_t value, bool plus, std::string_view suffix) {
    if (enabled() && used_ + head.size() + kIntLineRoom <= max_packet_) [[likely]] {
      char* start = packet(closed_) + used_;
      char* out = start;
      for (size_t i = 0; i < head.size(); i += kHeadPadding)
        std::memcpy(out + i, head.data() + i, kHeadPadding);
      out = write_int(out + head.size(), value, plus);
      std::memcpy(out, suffix.data(), 4);
      used_ += static_cast<size_t>(out - start) + suffix.size();
      return;
    }
    add_int_line_slow(head, value, plus, suffix);
  }
  // Sends the current packet and any full ones waiting, if any.
  void send_packet();

  void log(int level, const std::string& text) const {
    if (log_) log_(level, text);
  }

 private:
  // Room past a head that add_int_line() may write into: the longest value and suffix (more
  // than a block copy's overrun, which is under kHeadPadding bytes).
  static constexpr size_t kIntLineRoom = kMaxIntText + 4;
  static_assert(kIntLineRoom >= kHeadPadding);
  void add_int_line_slow(std::string_view head, int64_t value, bool plus, std::string_view suffix);
  bool open(const std::string& text);
  static char* write(char* out, const Line& line);
  // Closes the current packet; sends the batch when it is full.
  void close_packet();
  void send_batch();
  char* packet(size_t i) { return buffer_.get() + i * max_packet_; }

  util::UniqueFd fd_;
  std::string endpoint_;
  size_t max_packet_;
  LogFn log_;
  SelfCounters counters_;
  size_t batch_ = 1;                 // packets per sendmmsg()
  std::unique_ptr<char[]> buffer_;   // batch_ packets of max_packet_ bytes
  std::unique_ptr<size_t[]> sizes_;  // bytes of each closed packet
  size_t closed_ = 0;                // packets closed and waiting to be sent
  size_t used_ = 0;                  // bytes in the current packet (number closed_)
};

}  // namespace cairn::stats
