// cairn::stats::Sender: the one connected UDP socket of a Stats, the packet builder and the self
// counters. Invariants: a datagram holds whole lines only and never exceeds max_packet bytes;
// every byte of a line is copied once into the packet buffer (no re-building); a send error is
// counted, never reported or retried. With no endpoint there is no socket and no buffer.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "libstats/stats.hpp"

namespace cairn::stats {

// One statsd line: PREFIX.NAME:VALUE|TYPE\n (no '.' when the prefix is empty).
struct Line {
  std::string_view prefix;
  std::string_view name;
  std::string_view value;
  std::string_view type;
  size_t size() const {
    return prefix.size() + (prefix.empty() ? 0 : 1) + name.size() + value.size() + type.size() + 3;
  }
};

class Sender {
 public:
  // Parses, resolves and connects opts.endpoint; logs "parse error ..." and stays disabled when
  // that fails.
  explicit Sender(Options opts);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  bool enabled() const { return fd_ >= 0; }
  const std::string& endpoint() const { return endpoint_; }
  SelfCounters& counters() { return counters_; }
  size_t max_packet() const { return max_packet_; }

  // Appends lines[0..n) to the current packet as one unit (they travel in the same datagram),
  // first sending the packet if the unit does not fit. A unit that can never fit is dropped and
  // its lines counted in dropped_lines.
  void add(const Line* lines, size_t n);
  // Sends the current packet, if any.
  void send_packet();

  void log(int level, const std::string& text) const {
    if (log_) log_(level, text);
  }

 private:
  bool open(const std::string& text);
  static char* write(char* out, const Line& line);

  int fd_ = -1;
  std::string endpoint_;
  size_t max_packet_;
  LogFn log_;
  SelfCounters counters_;
  std::unique_ptr<char[]> packet_;
  size_t used_ = 0;
};

}  // namespace cairn::stats
