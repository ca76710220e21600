// cairn::stats: the statsd client (cairn-stats(3); doc/architecture.md, Telemetry).
// One Stats per process owns the UDP socket, the endpoint and the self counters; each component
// gets its own Context (prefix, period, metric table) from it. Updates are aggregated per
// context and flushed by one reactor timer per context, armed only while something is pending.
// Invariants: with no endpoint nothing is allocated per update and no socket or timer exists;
// a line is sent whole or not at all; a datagram never exceeds max_packet bytes. Not
// thread-safe: use a Stats and its contexts from the loop's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "libreactor/reactor.hpp"
#include "libutil/result.hpp"

struct cairn_stats;  // the C API's context type (cairn/stats.h)

namespace cairn::stats {

// Called for the library's own log lines (e.g. "parse error" for a bad endpoint).
// level uses syslog numbering (3 = error, 4 = warning, 6 = info, 7 = debug).
using LogFn = std::function<void(int level, const std::string& text)>;

struct Options {
  std::string endpoint;      // "HOST:PORT", "[IPv6]:PORT"; empty: telemetry disabled
  size_t max_packet = 1440;  // largest datagram, bytes
  LogFn log;                 // may be empty
};

// The library's own counters (readable through `cairn stats status`).
struct SelfCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t send_errors = 0;      // e.g. ECONNREFUSED from a dead server
  uint64_t dropped_lines = 0;    // a line longer than max_packet
  uint64_t dropped_samples = 0;  // timer samples beyond the per-period bound
  uint64_t invalid_names = 0;    // updates refused for a name outside [A-Za-z0-9_.-] (name.hpp)
};

class Context;
class Sender;
enum class Kind : uint8_t;  // metric_table.hpp

namespace detail {
// The values of one metric that handle updates touch inline; stats.cpp's Slot extends it.
// pending: the slot is on its context's pending list, which happens only in aggregated mode;
// while it is set an update needs nothing but these stores.
struct SlotValues {
  int64_t value = 0;       // counter: delta of the period; gauge: absolute value if gauge_set
  int64_t delta = 0;       // gauge: sum of the increments of the period if !gauge_set
  int64_t last_total = 0;  // counter: the last running total given to count()/total()
  bool pending = false;
  bool gauge_set = false;  // gauge: an absolute value was set this period
};
// Signed addition that wraps instead of overflowing.
inline int64_t wrap_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t wrap_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
}  // namespace detail

// Handles: looked up once, updated with no string work on the hot path (inline stores while
// the metric is pending; the first update of a period, or immediate mode, takes a call).
// A handle stays valid as long as its Context lives. A handle from a disabled context (or a
// default-constructed one) is a cheap no-op. A handle made with an invalid name sends nothing:
// each update through it is refused and counted in SelfCounters::invalid_names.
class Gauge {
 public:
  void set(int64_t value) {
    if (slot_ && slot_->pending) {
      slot_->value = value;
      slot_->gauge_set = true;
    } else {
      set_slow(value);
    }
  }
  void inc(int64_t delta) {
    if (slot_ && slot_->pending) {
      int64_t& sum = slot_->gauge_set ? slot_->value : slot_->delta;
      sum = detail::wrap_add(sum, delta);
    } else {
      inc_slow(delta);
    }
  }

 private:
  friend class Context;
  void set_slow(int64_t value);
  void inc_slow(int64_t delta);
  detail::SlotValues* slot_ = nullptr;
  Context* ctx_ = nullptr;
};
class Counter {
 public:
  void add(int64_t delta) {
    if (slot_ && slot_->pending)
      slot_->value = detail::wrap_add(slot_->value, delta);
    else
      add_slow(delta);
  }
  // Running total, sent as the delta since the last flush.
  void total(int64_t total) {
    if (slot_ && slot_->pending) {
      slot_->value = detail::wrap_add(slot_->value, detail::wrap_sub(total, slot_->last_total));
      slot_->last_total = total;
    } else {
      total_slow(total);
    }
  }

 private:
  friend class Context;
  void add_slow(int64_t delta);
  void total_slow(int64_t total);
  detail::SlotValues* slot_ = nullptr;
  Context* ctx_ = nullptr;
};
class Timing {
 public:
  bool record(double ms);  // false if ms is negative or not finite, or the name was invalid
 private:
  friend class Context;
  detail::SlotValues* slot_ = nullptr;
  Context* ctx_ = nullptr;
};

class Stats {
 public:
  // Parses opts.endpoint; on a malformed or unresolvable endpoint logs "parse error: ..." with
  // the offending text and stays disabled. Never throws for a bad endpoint.
  Stats(reactor::Loop& loop, Options opts);
  ~Stats();
  Stats(const Stats&) = delete;
  Stats& operator=(const Stats&) = delete;

  bool enabled() const;
  // A new context; prefix default "cairn.<rank>" is the caller's to give. An invalid prefix
  // (see Context::set_prefix) or period is logged and replaced by "cairn" / 1 s.
  // A Context must not outlive the Loop; it may outlive the Stats.
  std::unique_ptr<Context> context(std::string prefix, double period = 1.0);
  SelfCounters self_counters() const;
  // The endpoint text in use ("host:port"), empty when disabled.
  const std::string& endpoint() const;

 private:
  std::shared_ptr<Sender> sender_;
  reactor::Loop& loop_;
};

class Context {
 public:
  ~Context();  // flushes what is pending
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  bool enabled() const;
  // By-name calls. A name must be non-empty and use only [A-Za-z0-9_.-] (name.hpp); any other
  // is refused: nothing is sent, the call returns false and SelfCounters::invalid_names counts
  // it (also on a disabled context).
  bool count(std::string_view name, int64_t total);
  bool counter_add(std::string_view name, int64_t delta);
  bool gauge_set(std::string_view name, int64_t value);
  bool gauge_inc(std::string_view name, int64_t delta);
  bool timing(std::string_view name, double ms);  // false for negative / non-finite ms

  // Handles for hot paths. The name is checked here, once: an invalid name gives a handle
  // whose every update is refused and counted (see Gauge).
  Gauge gauge(std::string_view name);
  Counter counter(std::string_view name);
  Timing timer(std::string_view name);

  // 0 = immediate mode. EINVAL if seconds < 0 (or not finite); the period stays.
  util::Status set_period(double seconds);
  // EINVAL if longer than 127 characters or if it holds a character outside [A-Za-z0-9_.-]
  // (the error names the character; the old prefix stays). May be empty. Pending updates are
  // flushed under the old prefix first.
  util::Status set_prefix(std::string_view prefix);
  const std::string& prefix() const;
  double period() const;

  // Sends everything pending now (also done by the flush timer).
  void flush();
  // True while the flush timer is armed, i.e. while an aggregated update waits to be sent.
  bool timer_armed() const;

  // The same context seen through the C API (cairn/stats.h); owned by this Context.
  cairn_stats* c_api();

 private:
  friend class Stats;
  friend class Gauge;
  friend class Counter;
  friend class Timing;
  struct Impl;
  explicit Context(std::unique_ptr<Impl> impl);
  template <typename Handle>
  Handle make_handle(Kind kind, std::string_view name);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::stats
