// cairn::stats: the statsd client (DESIGN §4).
// One Stats per process owns the UDP socket, the endpoint and the self counters; each component
// gets its own Context (prefix, period, metric table) from it. Updates are aggregated per
// context and flushed by one reactor timer per context, armed only while something is pending.
// Invariants: with no endpoint nothing is allocated per update and no socket or timer exists;
// a line is sent whole or not at all; a datagram never exceeds max_packet bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "libreactor/reactor.hpp"

struct cairn_stats;  // the C API's context type (cairn/stats.h)

namespace cairn::stats {

// Called for the library's own log lines (e.g. "parse error" for a bad endpoint).
// level uses syslog numbering (3 = error, 4 = warning, 6 = info, 7 = debug).
using LogFn = std::function<void(int level, const std::string& text)>;

struct Options {
  std::string endpoint;     // "HOST:PORT", "[IPv6]:PORT"; empty: telemetry disabled
  size_t max_packet = 1440; // largest datagram, bytes
  LogFn log;                // may be empty
};

// The library's own counters (readable through `cairn stats status`).
struct SelfCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t send_errors = 0;      // e.g. ECONNREFUSED from a dead server
  uint64_t dropped_lines = 0;    // a line longer than max_packet
  uint64_t dropped_samples = 0;  // timer samples beyond the per-period bound
};

class Context;
class Sender;

// Handles: looked up once, updated with no string work on the hot path. A handle stays valid
// as long as its Context lives. A handle from a disabled context is a cheap no-op.
class Gauge {
 public:
  void set(int64_t value);
  void inc(int64_t delta);
 private:
  friend class Context;
  struct Slot* slot_ = nullptr;
  Context* ctx_ = nullptr;
};
class Counter {
 public:
  void add(int64_t delta);
  void total(int64_t total);  // running total, sent as the delta since the last flush
 private:
  friend class Context;
  struct Slot* slot_ = nullptr;
  Context* ctx_ = nullptr;
};
class Timing {
 public:
  bool record(double ms);  // false if ms is negative or not finite
 private:
  friend class Context;
  struct Slot* slot_ = nullptr;
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
  // By-name calls; a name with ':', '|', '@', newline or space is refused (returns false).
  bool count(std::string_view name, int64_t total);
  bool counter_add(std::string_view name, int64_t delta);
  bool gauge_set(std::string_view name, int64_t value);
  bool gauge_inc(std::string_view name, int64_t delta);
  bool timing(std::string_view name, double ms);  // false for negative / non-finite ms

  // Handles for hot paths (invalid names give a no-op handle).
  Gauge gauge(std::string_view name);
  Counter counter(std::string_view name);
  Timing timer(std::string_view name);

  // -1 and errno EINVAL if seconds < 0 (or not finite); 0 = immediate mode.
  int set_period(double seconds);
  // -1 and errno EINVAL if longer than 127 characters or if it holds a character refused in
  // names (the old prefix stays). Pending updates are flushed under the old prefix first.
  int set_prefix(std::string_view prefix);
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
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::stats
