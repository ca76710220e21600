// cairn::stats: contexts, metric tables, aggregation and the flush timer (cairn-stats(3)).
//
// Architecture. A Stats owns one Sender (sender.hpp: socket, packet builder, self counters),
// shared with every Context it creates so a Context may outlive it. A Context owns one metric
// table (metric_table.hpp) keyed by (type, name without the prefix); statsd keeps the types
// apart, so do we. A Slot's address never changes, so a handle is just (Slot*, Context*) and,
// once the metric is pending, an update is a few inline stores (stats.hpp).
//
// Invariants:
// - A Slot is on the context's pending list iff slot.pending; the list keeps first-update order,
//   which is the order lines are sent in.
// - The flush timer (one-shot, `period` s) is armed iff the pending list is non-empty and the
//   period is positive; an idle context has no timer running. In immediate mode (period 0)
//   nothing is ever pending: each update is formatted and sent as its own datagram.
// - Every counter the context knows (declared by a Context::counter() handle or by its first
//   by-name update) is on `counters`, in declaration order, and every flush sends each of them,
//   0 for one not updated that period, so a statsd server sees the counter from the first
//   flush on instead of "no data". A zero is not pending: it rides along with a flush that
//   something else caused and never arms the timer itself (an idle context stays idle).
// - A disabled context (no endpoint) has no timer and no slots: by-name calls only check the
//   name, handles carry a null slot and do nothing.
// - Steady state allocates nothing: a slot's line head "PREFIX.NAME:" is built once per prefix
//   (inside the slot unless it is long); a flush writes each counter and gauge line straight
//   into the sender's packet buffer (Sender::add_int_line: head, digits, suffix, no
//   intermediate copy), other lines are formatted into stack buffers and copied once; timer
//   sample vectors keep their capacity across periods and are bounded by kMaxSamples (the rest
//   count as dropped_samples). Names were checked when their slot was made, never at a flush.
// - Everything runs on the loop's thread; nothing here is thread-safe.
// - Signed arithmetic on metric values wraps (via uint64_t) instead of overflowing.
#include "libstats/stats.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

#include "libstats/c_api.hpp"
#include "libstats/metric_table.hpp"
#include "libstats/name.hpp"
#include "libstats/sender.hpp"

namespace cairn::stats {

namespace {

constexpr size_t kMaxPrefix = 127;
// Timer samples kept per metric per period.
constexpr size_t kMaxSamples = 1024;

// Names and prefixes: the portable set of name.hpp only (one table lookup per byte).
bool valid_name(std::string_view name) {
  return !name.empty() && bad_name_char(name) == std::string_view::npos;
}

bool valid_prefix(std::string_view prefix) {
  return prefix.size() <= kMaxPrefix && bad_name_char(prefix) == std::string_view::npos;
}

bool valid_period(double seconds) { return std::isfinite(seconds) && seconds >= 0; }

// The EINVAL of a prefix or period refused by valid_prefix() or valid_period(), in words.
util::Error invalid_prefix(std::string_view prefix) {
  std::string why;
  if (size_t bad = bad_name_char(prefix); bad != std::string_view::npos)
    why = "it contains " + describe_name_char(prefix[bad]) + ", outside ";
  else
    why = "it is longer than 127 characters; at most 127 of ";
  // A refused prefix may be long or binary: quote only its head, other bytes escaped.
  std::string shown = printable(prefix.substr(0, 40));
  if (prefix.size() > 40) shown += "...";
  return util::Error{EINVAL,
                     "invalid prefix \"" + shown + "\": " + why + std::string(kNameCharSet)};
}
util::Error invalid_period(double seconds) {
  return util::Error{
      EINVAL, "invalid period " + std::to_string(seconds) + " (must be a finite number >= 0)"};
}

// A formatted metric value; big enough for any finite double in fixed notation.
struct Value {
  char buf[384];
  size_t len = 0;
  std::string_view view() const { return {buf, len}; }
};

// Each is followed in memory by its literal's NUL, so 4 bytes may be read from any of them
// (Sender::add_int_line).
constexpr std::string_view kCounterSuffix = "|c\n";
constexpr std::string_view kGaugeSuffix = "|g\n";
constexpr std::string_view kTimerSuffix = "|ms\n";

// An integer; with `sign`, non-negative values get an explicit '+' (a statsd gauge delta).
[[gnu::always_inline]] inline Value format_int(int64_t v, bool sign = false) {
  Value out;
  out.len = static_cast<size_t>(write_int(out.buf, v, sign) - out.buf);
  return out;
}

// Significant digits of a timer value: a timing is measured far less precisely than a double
// holds, and 15 digits of noise only lengthen lines.
constexpr int kTimerDigits = 6;

// A finite, non-negative double rounded to kTimerDigits significant digits, in fixed notation
// (no exponent: statsd servers do not all read one) without trailing zeros.
Value format_ms(double v) {
  Value out;
  char* const limit = out.buf + sizeof out.buf;
  // Decimals that leave kTimerDigits significant digits, from the position of the leading
  // digit; rounding may carry one further (999999.7 -> 1000000), which only shortens the text.
  int decimals = v > 0 ? kTimerDigits - 1 - static_cast<int>(std::floor(std::log10(v))) : 0;
  char* end;
  if (decimals >= 0) {
    end = std::to_chars(out.buf, limit, v, std::chars_format::fixed, decimals).ptr;
    if (decimals > 0) {
      while (end[-1] == '0') --end;
      if (end[-1] == '.') --end;
    }
  } else {
    // 10^6 ms and more: the leading digits, then zeros (a double this large would print
    // digits of binary noise after them).
    double lead = std::round(v / std::pow(10.0, -decimals));
    end = std::to_chars(out.buf, limit, lead, std::chars_format::fixed, 0).ptr;
    for (int i = 0; i < -decimals && end < limit; ++i) *end++ = '0';
  }
  out.len = static_cast<size_t>(end - out.buf);
  return out;
}

}  // namespace

using detail::wrap_add;
using detail::wrap_sub;

struct Context::Impl {
  Impl(std::shared_ptr<Sender> s, reactor::Loop& loop, std::string p, double seconds)
      : sender(std::move(s)), enabled(sender->enabled()), prefix(std::move(p)), period(seconds) {
    if (enabled) timer.emplace(loop, period, 0.0, [this](reactor::Timer&) { flush(); });
  }

  // The slot of a valid name, created on first use.
  Slot* slot(Kind kind, std::string_view name) {
    Slot* s = metrics.find(kind, name);
    return s ? s : insert(kind, name);
  }
  // The slot of a name from a by-name call, or null (counted) if the name is invalid. A name
  // found in the table was checked when it was inserted.
  [[gnu::always_inline]] Slot* checked_slot(Kind kind, std::string_view name) {
    if (Slot* s = metrics.find(kind, name)) return s;
    if (valid_name(name)) return insert(kind, name);
    refuse_name();
    return nullptr;
  }
  // A new metric; a counter is declared from now on (sent with every flush).
  [[gnu::noinline]] Slot* insert(Kind kind, std::string_view name) {
    Slot* s = metrics.insert(kind, name);
    if (kind == Kind::kCounter) counters.push_back(s);
    return s;
  }
  // A by-name call on a disabled context: only the name is checked (and a refusal counted).
  bool check_name(std::string_view name) {
    if (valid_name(name)) return true;
    refuse_name();
    return false;
  }
  // An update refused for its name: nothing is sent, the refusal is counted.
  void refuse_name() { ++sender->counters().invalid_names; }

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
  // The "PREFIX.NAME:" of a slot, built once per prefix (allocates only then, and only for a
  // long one), followed in memory by kHeadPadding bytes for Sender::add_int_line().
  [[gnu::always_inline]] std::string_view line_head(Slot* s) {
    if (s->head_generation != prefix_generation) [[unlikely]]
      s->set_head(prefix, prefix_generation);
    return {s->head, s->head_size};
  }
  Line line(Slot* s, const Value& v, std::string_view suffix) {
    return Line{line_head(s), v.view(), suffix};
  }

  // Appends an absolute gauge value; a negative one is preceded by 0 in the same packet, since
  // statsd reads a leading '-' as a decrement.
  void add_gauge_abs(Slot* s, int64_t v) {
    Value val = format_int(v);
    if (v < 0) {
      Value zero = format_int(0);
      Line lines[2] = {line(s, zero, kGaugeSuffix), line(s, val, kGaugeSuffix)};
      sender->add(lines, 2);
    } else {
      Line l = line(s, val, kGaugeSuffix);
      sender->add(&l, 1);
    }
  }

  void counter_add(Slot* s, int64_t delta) {
    if (period == 0) {
      Value v = format_int(delta);
      Line l = line(s, v, kCounterSuffix);
      send_now(&l, 1);
      return;
    }
    s->value = wrap_add(s->value, delta);
    if (!s->pending) mark_pending(s);
  }
  void counter_total(Slot* s, int64_t total) {
    int64_t delta = wrap_sub(total, s->last_total);
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
      Line l = line(s, v, kGaugeSuffix);
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
      Line l = line(s, v, kTimerSuffix);
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

  // Appends the lines of one pending slot and resets it for the next period. Counters and
  // gauges, the bulk of a flush, go straight into the packet (Sender::add_int_line).
  void emit(Slot* s) {
    switch (s->kind) {
      case Kind::kCounter:
        sender->add_int_line(line_head(s), s->value, false, kCounterSuffix);
        s->value = 0;
        break;
      case Kind::kGauge:
        if (!s->gauge_set)
          sender->add_int_line(line_head(s), s->delta, true, kGaugeSuffix);
        else if (s->value >= 0)
          sender->add_int_line(line_head(s), s->value, false, kGaugeSuffix);
        else
          add_gauge_abs(s, s->value);
        s->gauge_set = false;
        s->delta = 0;
        break;
      case Kind::kTimer:
        for (double ms : s->samples) {
          Value v = format_ms(ms);
          Line l = line(s, v, kTimerSuffix);
          sender->add(&l, 1);
        }
        s->samples.clear();
        break;
    }
  }

  // Sends the pending slots in first-update order, then a 0 for each declared counter that
  // was not updated this period.
  void flush() {
    if (!head) return;
    timer->stop();
    for (Slot* s = head; s; s = s->next_pending) emit(s);
    for (Slot* c : counters)
      if (!c->pending) sender->add_int_line(line_head(c), 0, false, kCounterSuffix);
    Slot* s = head;
    head = nullptr;
    tail = &head;
    while (s) {
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
  uint32_t prefix_generation = 1;  // bumped by every prefix change (see Slot::head)
  double period;
  std::optional<reactor::Timer> timer;  // only when enabled
  MetricTable metrics;                  // empty when disabled
  std::vector<Slot*> counters;          // the counters of `metrics`, in declaration order
  Slot* head = nullptr;
  Slot** tail = &head;
  cairn_stats c_api;
};

// --- handles -------------------------------------------------------------------------------

// The first update of a period (or any update in immediate mode); stats.hpp inlines the rest.
// A handle made with an invalid name has a context but no slot: each update through it is
// refused and counted, as a by-name call would be. A disabled or default handle has neither.
void Gauge::set_slow(int64_t value) {
  if (slot_)
    ctx_->impl_->gauge_set(static_cast<Slot*>(slot_), value);
  else if (ctx_)
    ctx_->impl_->refuse_name();
}
void Gauge::inc_slow(int64_t delta) {
  if (slot_)
    ctx_->impl_->gauge_inc(static_cast<Slot*>(slot_), delta);
  else if (ctx_)
    ctx_->impl_->refuse_name();
}
void Counter::add_slow(int64_t delta) {
  if (slot_)
    ctx_->impl_->counter_add(static_cast<Slot*>(slot_), delta);
  else if (ctx_)
    ctx_->impl_->refuse_name();
}
void Counter::total_slow(int64_t total) {
  if (slot_)
    ctx_->impl_->counter_total(static_cast<Slot*>(slot_), total);
  else if (ctx_)
    ctx_->impl_->refuse_name();
}
bool Timing::record(double ms) {
  if (!std::isfinite(ms) || ms < 0) return false;
  if (slot_) {
    ctx_->impl_->timing(static_cast<Slot*>(slot_), ms);
  } else if (ctx_) {
    ctx_->impl_->refuse_name();
    return false;
  }
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
    sender_->log(4, "stats: " + invalid_prefix(prefix).text + "; using \"cairn\"");
    prefix = "cairn";
  }
  if (!valid_period(period)) {
    sender_->log(4, "stats: " + invalid_period(period).text + "; using 1 s");
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

// By-name calls: a disabled context only checks the name; an enabled one looks the slot up
// (no allocation once it exists) and updates it as a handle would.
bool Context::count(std::string_view name, int64_t total) {
  if (!impl_->enabled) return impl_->check_name(name);
  Slot* s = impl_->checked_slot(Kind::kCounter, name);
  if (s) impl_->counter_total(s, total);
  return s != nullptr;
}

bool Context::counter_add(std::string_view name, int64_t delta) {
  if (!impl_->enabled) return impl_->check_name(name);
  Slot* s = impl_->checked_slot(Kind::kCounter, name);
  if (!s) return false;
  if (s->pending)
    s->value = wrap_add(s->value, delta);
  else
    impl_->counter_add(s, delta);
  return true;
}

bool Context::gauge_set(std::string_view name, int64_t value) {
  if (!impl_->enabled) return impl_->check_name(name);
  Slot* s = impl_->checked_slot(Kind::kGauge, name);
  if (!s) return false;
  if (s->pending) {
    s->value = value;
    s->gauge_set = true;
  } else {
    impl_->gauge_set(s, value);
  }
  return true;
}

bool Context::gauge_inc(std::string_view name, int64_t delta) {
  if (!impl_->enabled) return impl_->check_name(name);
  Slot* s = impl_->checked_slot(Kind::kGauge, name);
  if (s) impl_->gauge_inc(s, delta);
  return s != nullptr;
}

bool Context::timing(std::string_view name, double ms) {
  if (!std::isfinite(ms) || ms < 0) return false;
  if (!impl_->enabled) return impl_->check_name(name);
  Slot* s = impl_->checked_slot(Kind::kTimer, name);
  if (s) impl_->timing(s, ms);
  return s != nullptr;
}

// The name is checked once here, never per update: a valid name gets its slot (when enabled),
// an invalid one a handle whose updates are refused and counted.
template <typename Handle>
Handle Context::make_handle(Kind kind, std::string_view name) {
  Handle h;
  if (!valid_name(name)) {
    h.ctx_ = this;
  } else if (impl_->enabled) {
    h.slot_ = impl_->slot(kind, name);
    h.ctx_ = this;
  }
  return h;
}

Gauge Context::gauge(std::string_view name) { return make_handle<Gauge>(Kind::kGauge, name); }

Counter Context::counter(std::string_view name) {
  return make_handle<Counter>(Kind::kCounter, name);
}

Timing Context::timer(std::string_view name) { return make_handle<Timing>(Kind::kTimer, name); }

util::Status Context::set_period(double seconds) {
  if (!valid_period(seconds)) return invalid_period(seconds);
  impl_->period = seconds;
  if (!impl_->enabled) return {};
  if (seconds == 0) {
    impl_->flush();
  } else if (impl_->timer->active()) {
    impl_->timer->stop();
    impl_->timer->set(seconds, 0.0);
    impl_->timer->start();
  }
  return {};
}

util::Status Context::set_prefix(std::string_view prefix) {
  if (!valid_prefix(prefix)) return invalid_prefix(prefix);
  if (prefix != impl_->prefix) {
    impl_->flush();
    impl_->prefix.assign(prefix);
    ++impl_->prefix_generation;
  }
  return {};
}

const std::string& Context::prefix() const { return impl_->prefix; }

double Context::period() const { return impl_->period; }

void Context::flush() { impl_->flush(); }

bool Context::timer_armed() const { return impl_->timer && impl_->timer->active(); }

cairn_stats* Context::c_api() { return &impl_->c_api; }

}  // namespace cairn::stats
