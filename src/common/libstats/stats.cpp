// cairn::stats: contexts, metric tables, aggregation and the flush timer (DESIGN §4).
//
// Architecture. A Stats owns one Sender (sender.hpp: socket, packet builder, self counters),
// shared with every Context it creates so a Context may outlive it. A Context owns three
// metric tables (counters, gauges, timers: statsd keeps the types apart, so do we), keyed by
// name without the prefix. Each table entry is a Slot whose address never changes (node-based
// map), so a handle is just (Slot*, Context*) and an update is a few stores.
//
// Invariants:
// - A Slot is on the context's pending list iff slot.pending; the list keeps first-update order,
//   which is the order lines are sent in.
// - The flush timer (one-shot, `period` s) is armed iff the pending list is non-empty and the
//   period is positive; an idle context has no timer running. In immediate mode (period 0)
//   nothing is ever pending: each update is formatted and sent as its own datagram.
// - A disabled context (no endpoint) has no timer and no slots: by-name calls only check the
//   name, handles carry a null slot and do nothing.
// - Steady state allocates nothing: lines are formatted into stack buffers and copied once into
//   the sender's packet buffer; timer sample vectors keep their capacity across periods and are
//   bounded by kMaxSamples (the rest are counted in dropped_samples).
// - Signed arithmetic on metric values wraps (via uint64_t) instead of overflowing.
#include "libstats/stats.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <vector>

#include "libstats/c_api.hpp"
#include "libstats/sender.hpp"

namespace cairn::stats {

namespace {

constexpr size_t kMaxPrefix = 127;
// Timer samples kept per metric per period.
constexpr size_t kMaxSamples = 1024;

int64_t wrap_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

bool valid_char(unsigned char c) {
  return c > ' ' && c != 0x7f && c != ':' && c != '|' && c != '@';
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!valid_char(c)) return false;
  return true;
}

bool valid_prefix(std::string_view prefix) {
  if (prefix.size() > kMaxPrefix) return false;
  for (unsigned char c : prefix)
    if (!valid_char(c)) return false;
  return true;
}

bool valid_period(double seconds) { return std::isfinite(seconds) && seconds >= 0; }

// A formatted metric value; big enough for any finite double in fixed notation.
struct Value {
  char buf[384];
  size_t len = 0;
  std::string_view view() const { return {buf, len}; }
};

// An integer; with `sign`, non-negative values get an explicit '+' (a statsd gauge delta).
Value format_int(int64_t v, bool sign = false) {
  Value out;
  char* p = out.buf;
  if (sign && v >= 0) *p++ = '+';
  p = std::to_chars(p, out.buf + sizeof out.buf, v).ptr;
  out.len = static_cast<size_t>(p - out.buf);
  return out;
}

// A finite, non-negative double, shortest round-trip form without an exponent.
Value format_ms(double v) {
  Value out;
  auto r = std::to_chars(out.buf, out.buf + sizeof out.buf, v, std::chars_format::fixed);
  out.len = static_cast<size_t>(r.ptr - out.buf);
  return out;
}

struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace

enum class Kind : uint8_t { kCounter, kGauge, kTimer };

struct Slot {
  const std::string* name = nullptr;  // the key of this slot in its table
  Kind kind = Kind::kCounter;
  bool pending = false;
  bool gauge_set = false;   // gauge: an absolute value was set this period
  Slot* next_pending = nullptr;
  int64_t value = 0;        // counter: delta of the period; gauge: absolute value if gauge_set
  int64_t delta = 0;        // gauge: sum of the increments of the period if !gauge_set
  int64_t last_total = 0;   // counter: the last running total given to count()
  std::vector<double> samples;  // timer: the samples of the period
};

using Table = std::unordered_map<std::string, Slot, NameHash, std::equal_to<>>;

struct Context::Impl {
  Impl(std::shared_ptr<Sender> s, reactor::Loop& loop, std::string p, double seconds)
      : sender(std::move(s)), enabled(sender->enabled()), prefix(std::move(p)), period(seconds) {
    if (enabled) timer.emplace(loop, period, 0.0, [this](reactor::Timer&) { flush(); });
  }

  Slot* slot(Kind kind, std::string_view name) {
    Table& table = kind == Kind::kCounter ? counters : kind == Kind::kGauge ? gauges : timers;
    auto it = table.find(name);
    if (it == table.end()) {
      it = table.emplace(std::string(name), Slot{}).first;
      it->second.name = &it->first;
      it->second.kind = kind;
    }
    return &it->second;
  }

  void mark_pending(Slot* s) {
    s->pending = true;
    *tail = s;
    tail = &s->next_pending;
    if (!timer->active()) {
      timer->set(period, 0.0);
      timer->start();
    }
  }

  // One unit of lines for this slot's name, sent now as its own datagram.
  void send_now(const Line* lines, size_t n) {
    sender->add(lines, n);
    sender->send_packet();
  }
  Line line(const Slot* s, const Value& v, std::string_view type) const {
    return Line{prefix, *s->name, v.view(), type};
  }

  // Appends an absolute gauge value; a negative one is preceded by 0 in the same packet, since
  // statsd reads a leading '-' as a decrement.
  void add_gauge_abs(const Slot* s, int64_t v) {
    Value val = format_int(v);
    if (v < 0) {
      Value zero = format_int(0);
      Line lines[2] = {line(s, zero, "g"), line(s, val, "g")};
      sender->add(lines, 2);
    } else {
      Line l = line(s, val, "g");
      sender->add(&l, 1);
    }
  }

  void counter_add(Slot* s, int64_t delta) {
    if (period == 0) {
      Value v = format_int(delta);
      Line l = line(s, v, "c");
      send_now(&l, 1);
      return;
    }
    s->value = wrap_add(s->value, delta);
    if (!s->pending) mark_pending(s);
  }
  void counter_total(Slot* s, int64_t total) {
    int64_t delta = wrap_add(total, -static_cast<int64_t>(static_cast<uint64_t>(s->last_total)));
    s->last_total = total;
    counter_add(s, delta);
  }
  void gauge_set(Slot* s, int64_t value) {
    if (period == 0) {
      add_gauge_abs(s, value);
      sender->send_packet();
      return;
    }
    s->value = value;
    s->gauge_set = true;
    if (!s->pending) mark_pending(s);
  }
  void gauge_inc(Slot* s, int64_t delta) {
    if (period == 0) {
      Value v = format_int(delta, true);
      Line l = line(s, v, "g");
      send_now(&l, 1);
      return;
    }
    if (s->gauge_set)
      s->value = wrap_add(s->value, delta);
    else
      s->delta = wrap_add(s->delta, delta);
    if (!s->pending) mark_pending(s);
  }
  void timing(Slot* s, double ms) {
    if (period == 0) {
      Value v = format_ms(ms);
      Line l = line(s, v, "ms");
      send_now(&l, 1);
      return;
    }
    if (s->samples.size() >= kMaxSamples) {
      ++sender->counters().dropped_samples;
      return;
    }
    s->samples.push_back(ms);
    if (!s->pending) mark_pending(s);
  }

  // Appends the lines of one pending slot and resets it for the next period.
  void emit(Slot* s) {
    switch (s->kind) {
      case Kind::kCounter: {
        Value v = format_int(s->value);
        Line l = line(s, v, "c");
        sender->add(&l, 1);
        s->value = 0;
        break;
      }
      case Kind::kGauge:
        if (s->gauge_set) {
          add_gauge_abs(s, s->value);
        } else {
          Value v = format_int(s->delta, true);
          Line l = line(s, v, "g");
          sender->add(&l, 1);
        }
        s->gauge_set = false;
        s->delta = 0;
        break;
      case Kind::kTimer:
        for (double ms : s->samples) {
          Value v = format_ms(ms);
          Line l = line(s, v, "ms");
          sender->add(&l, 1);
        }
        s->samples.clear();
        break;
    }
  }

  void flush() {
    if (!head) return;
    timer->stop();
    Slot* s = head;
    head = nullptr;
    tail = &head;
    while (s) {
      emit(s);
      Slot* next = s->next_pending;
      s->next_pending = nullptr;
      s->pending = false;
      s = next;
    }
    sender->send_packet();
  }

  std::shared_ptr<Sender> sender;
  const bool enabled;
  std::string prefix;
  double period;
  std::optional<reactor::Timer> timer;  // only when enabled
  Table counters, gauges, timers;
  Slot* head = nullptr;
  Slot** tail = &head;
  cairn_stats c_api;
};

// --- handles -------------------------------------------------------------------------------

void Gauge::set(int64_t value) {
  if (slot_) ctx_->impl_->gauge_set(slot_, value);
}
void Gauge::inc(int64_t delta) {
  if (slot_) ctx_->impl_->gauge_inc(slot_, delta);
}
void Counter::add(int64_t delta) {
  if (slot_) ctx_->impl_->counter_add(slot_, delta);
}
void Counter::total(int64_t total) {
  if (slot_) ctx_->impl_->counter_total(slot_, total);
}
bool Timing::record(double ms) {
  if (!std::isfinite(ms) || ms < 0) return false;
  if (slot_) ctx_->impl_->timing(slot_, ms);
  return true;
}

// --- Stats ---------------------------------------------------------------------------------

Stats::Stats(reactor::Loop& loop, Options opts)
    : sender_(std::make_shared<Sender>(std::move(opts))), loop_(loop) {}

Stats::~Stats() = default;

bool Stats::enabled() const { return sender_->enabled(); }

const std::string& Stats::endpoint() const { return sender_->endpoint(); }

SelfCounters Stats::self_counters() const { return sender_->counters(); }

std::unique_ptr<Context> Stats::context(std::string prefix, double period) {
  if (!valid_prefix(prefix)) {
    sender_->log(4, "stats: invalid prefix \"" + prefix +
                        "\" (at most 127 characters, none of ':|@', space or control); using "
                        "\"cairn\"");
    prefix = "cairn";
  }
  if (!valid_period(period)) {
    sender_->log(4, "stats: invalid period " + std::to_string(period) +
                        " (must be a finite number >= 0); using 1 s");
    period = 1.0;
  }
  // The constructor is private; the unique_ptr owns the object from the start.
  return std::unique_ptr<Context>(
      new Context(std::make_unique<Context::Impl>(sender_, loop_, std::move(prefix), period)));
}

// --- Context -------------------------------------------------------------------------------

Context::Context(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  detail::bind_c_api(impl_->c_api, this);
}

Context::~Context() { impl_->flush(); }

bool Context::enabled() const { return impl_->enabled; }

bool Context::count(std::string_view name, int64_t total) {
  if (!valid_name(name)) return false;
  if (impl_->enabled) impl_->counter_total(impl_->slot(Kind::kCounter, name), total);
  return true;
}

bool Context::counter_add(std::string_view name, int64_t delta) {
  if (!valid_name(name)) return false;
  if (impl_->enabled) impl_->counter_add(impl_->slot(Kind::kCounter, name), delta);
  return true;
}

bool Context::gauge_set(std::string_view name, int64_t value) {
  if (!valid_name(name)) return false;
  if (impl_->enabled) impl_->gauge_set(impl_->slot(Kind::kGauge, name), value);
  return true;
}

bool Context::gauge_inc(std::string_view name, int64_t delta) {
  if (!valid_name(name)) return false;
  if (impl_->enabled) impl_->gauge_inc(impl_->slot(Kind::kGauge, name), delta);
  return true;
}

bool Context::timing(std::string_view name, double ms) {
  if (!valid_name(name) || !std::isfinite(ms) || ms < 0) return false;
  if (impl_->enabled) impl_->timing(impl_->slot(Kind::kTimer, name), ms);
  return true;
}

Gauge Context::gauge(std::string_view name) {
  Gauge g;
  if (impl_->enabled && valid_name(name)) {
    g.slot_ = impl_->slot(Kind::kGauge, name);
    g.ctx_ = this;
  }
  return g;
}

Counter Context::counter(std::string_view name) {
  Counter c;
  if (impl_->enabled && valid_name(name)) {
    c.slot_ = impl_->slot(Kind::kCounter, name);
    c.ctx_ = this;
  }
  return c;
}

Timing Context::timer(std::string_view name) {
  Timing t;
  if (impl_->enabled && valid_name(name)) {
    t.slot_ = impl_->slot(Kind::kTimer, name);
    t.ctx_ = this;
  }
  return t;
}

int Context::set_period(double seconds) {
  if (!valid_period(seconds)) {
    errno = EINVAL;
    return -1;
  }
  impl_->period = seconds;
  if (!impl_->enabled) return 0;
  if (seconds == 0) {
    impl_->flush();
  } else if (impl_->timer->active()) {
    impl_->timer->stop();
    impl_->timer->set(seconds, 0.0);
    impl_->timer->start();
  }
  return 0;
}

int Context::set_prefix(std::string_view prefix) {
  if (!valid_prefix(prefix)) {
    errno = EINVAL;
    return -1;
  }
  if (prefix != impl_->prefix) {
    impl_->flush();
    impl_->prefix.assign(prefix);
  }
  return 0;
}

const std::string& Context::prefix() const { return impl_->prefix; }

double Context::period() const { return impl_->period; }

void Context::flush() { impl_->flush(); }

bool Context::timer_armed() const { return impl_->timer && impl_->timer->active(); }

cairn_stats* Context::c_api() { return &impl_->c_api; }

}  // namespace cairn::stats
