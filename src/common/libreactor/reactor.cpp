// cairn::reactor implementation over libev, the only file that sees it. Each watcher owns its
// libev watcher (Watcher::Impl) and keeps `this` in the libev watcher's data field; one
// callback per watcher type (Libev::on_event) turns libev's C callback back into the
// watcher's fire(), which calls the user's std::function.
#include "libreactor/reactor.hpp"

#include <ev.h>
#include <zmq.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>

namespace cairn::reactor {

static_assert(kRead == EV_READ && kWrite == EV_WRITE && kError == EV_ERROR,
              "reactor event bits are libev's");
static_assert(kMinPriority == EV_MINPRI && kMaxPriority == EV_MAXPRI,
              "reactor priorities are libev's");

struct Loop::Impl {
  struct ev_loop* loop;
  bool is_default;
};

// The libev watcher of a Watcher: one of these, as the subclass's kind says.
struct Watcher::Impl {
  union {
    ev_watcher base;
    ev_timer timer;
    ev_periodic periodic;
    ev_io io;
    ev_signal signal;
    ev_child child;
    ev_prepare prepare;
    ev_check check;
    ev_idle idle;
    ev_async async;
  };
};

// The glue between libev and the watchers (a friend of Loop and Watcher).
struct Libev {
  static struct ev_loop* loop(const Watcher& w) { return w.loop_.impl_->loop; }
  static Watcher::Impl& impl(const Watcher& w) { return *w.impl_; }
  // Every libev watcher's callback: the Watcher is in the data field.
  template <typename W>
  static void on_event(struct ev_loop*, W* w, int revents) {
    static_cast<Watcher*>(w->data)->fire(revents);
  }
};

namespace {
// Whether libev's default loop (the only one with child watchers) is held by a live Loop.
std::atomic<bool> default_in_use{false};
}  // namespace

// --- Loop ----------------------------------------------------------------------------------
Loop::Loop() : impl_(std::make_unique<Impl>()) {
  bool expected = false;
  if (default_in_use.compare_exchange_strong(expected, true)) {
    impl_->loop = ev_default_loop(EVFLAG_AUTO);
    impl_->is_default = true;
  } else {
    impl_->loop = ev_loop_new(EVFLAG_AUTO);
    impl_->is_default = false;
  }
  if (!impl_->loop) {
    if (impl_->is_default) default_in_use = false;
    throw std::runtime_error("libev: cannot create an event loop (bad $LIBEV_FLAGS?)");
  }
}

Loop::~Loop() {
  ev_loop_destroy(impl_->loop);
  if (impl_->is_default) default_in_use = false;
}

void Loop::run() { ev_run(impl_->loop, 0); }
void Loop::run_once(bool block) { ev_run(impl_->loop, block ? EVRUN_ONCE : EVRUN_NOWAIT); }
void Loop::stop() { ev_break(impl_->loop, EVBREAK_ALL); }
double Loop::now() const { return ev_now(impl_->loop); }
void Loop::now_update() { ev_now_update(impl_->loop); }
bool Loop::is_default() const { return impl_->is_default; }

// --- Watcher -------------------------------------------------------------------------------
Watcher::Watcher(Loop& loop) : loop_(loop), impl_(std::make_unique<Impl>()) {
  impl_->base.data = this;  // for Libev::on_event; the subclasses' ev_*_init leave it alone
}
Watcher::~Watcher() = default;
bool Watcher::active() const { return ev_is_active(&impl_->base); }
bool Watcher::pending() const { return ev_is_pending(&impl_->base); }
void Watcher::set_priority(int pri) { ev_set_priority(&impl_->base, pri); }

// --- Timer ---------------------------------------------------------------------------------
Timer::Timer(Loop& loop, double after, double repeat, Callback cb)
    : Watcher(loop), cb_(std::move(cb)) {
  ev_timer_init(&impl_->timer, &Libev::on_event<ev_timer>, after, repeat);
}
Timer::~Timer() { stop(); }
void Timer::start() { ev_timer_start(Libev::loop(*this), &impl_->timer); }
void Timer::stop() { ev_timer_stop(Libev::loop(*this), &impl_->timer); }
void Timer::again() { ev_timer_again(Libev::loop(*this), &impl_->timer); }
void Timer::set(double after, double repeat) {
  bool was_active = active();
  stop();
  ev_timer_set(&impl_->timer, after, repeat);
  if (was_active) start();
}
double Timer::remaining() const {
  return active() ? ev_timer_remaining(Libev::loop(*this), &impl_->timer) : 0;
}
void Timer::fire(int) { cb_(*this); }

// --- Periodic ------------------------------------------------------------------------------
Periodic::Periodic(Loop& loop, double offset, double interval, Callback cb)
    : Watcher(loop), cb_(std::move(cb)) {
  ev_periodic_init(&impl_->periodic, &Libev::on_event<ev_periodic>, offset, interval, nullptr);
}
Periodic::~Periodic() { stop(); }
void Periodic::start() { ev_periodic_start(Libev::loop(*this), &impl_->periodic); }
void Periodic::stop() { ev_periodic_stop(Libev::loop(*this), &impl_->periodic); }
void Periodic::fire(int) { cb_(*this); }

// --- Io ------------------------------------------------------------------------------------
Io::Io(Loop& loop, int fd, int events, Callback cb) : Watcher(loop), fd_(fd), cb_(std::move(cb)) {
  ev_io_init(&impl_->io, &Libev::on_event<ev_io>, fd, events);
}
Io::~Io() { stop(); }
void Io::start() { ev_io_start(Libev::loop(*this), &impl_->io); }
void Io::stop() { ev_io_stop(Libev::loop(*this), &impl_->io); }
void Io::set_events(int events) {
  bool was_active = active();
  stop();
  ev_io_set(&impl_->io, fd_, events);
  if (was_active) start();
}
void Io::fire(int revents) { cb_(*this, revents); }

// --- Signal --------------------------------------------------------------------------------
Signal::Signal(Loop& loop, int signum, Callback cb)
    : Watcher(loop), signum_(signum), cb_(std::move(cb)) {
  ev_signal_init(&impl_->signal, &Libev::on_event<ev_signal>, signum);
}
Signal::~Signal() { stop(); }
void Signal::start() { ev_signal_start(Libev::loop(*this), &impl_->signal); }
void Signal::stop() { ev_signal_stop(Libev::loop(*this), &impl_->signal); }
void Signal::fire(int) { cb_(*this, signum_); }

// --- Child ---------------------------------------------------------------------------------
Child::Child(Loop& loop, pid_t pid, Callback cb) : Watcher(loop), cb_(std::move(cb)) {
  ev_child_init(&impl_->child, &Libev::on_event<ev_child>, pid, 0);
}
Child::~Child() { stop(); }
bool Child::start() {
  if (!loop_.is_default()) return false;
  ev_child_start(Libev::loop(*this), &impl_->child);
  return true;
}
void Child::stop() {
  if (loop_.is_default()) ev_child_stop(Libev::loop(*this), &impl_->child);
}
void Child::fire(int) { cb_(*this, impl_->child.rpid, impl_->child.rstatus); }

// --- Prepare / Check / Idle ----------------------------------------------------------------
namespace {
// The libev calls of each hook kind.
template <HookKind K>
struct HookCalls;
template <>
struct HookCalls<HookKind::kPrepare> {
  static ev_prepare& of(const Watcher& w) { return Libev::impl(w).prepare; }
  static void init(ev_prepare* w) { ev_prepare_init(w, &Libev::on_event<ev_prepare>); }
  static constexpr auto start = ev_prepare_start;
  static constexpr auto stop = ev_prepare_stop;
};
template <>
struct HookCalls<HookKind::kCheck> {
  static ev_check& of(const Watcher& w) { return Libev::impl(w).check; }
  static void init(ev_check* w) { ev_check_init(w, &Libev::on_event<ev_check>); }
  static constexpr auto start = ev_check_start;
  static constexpr auto stop = ev_check_stop;
};
template <>
struct HookCalls<HookKind::kIdle> {
  static ev_idle& of(const Watcher& w) { return Libev::impl(w).idle; }
  static void init(ev_idle* w) { ev_idle_init(w, &Libev::on_event<ev_idle>); }
  static constexpr auto start = ev_idle_start;
  static constexpr auto stop = ev_idle_stop;
};
}  // namespace

template <HookKind K>
Hook<K>::Hook(Loop& loop, Callback cb) : Watcher(loop), cb_(std::move(cb)) {
  HookCalls<K>::init(&HookCalls<K>::of(*this));
}
template <HookKind K>
Hook<K>::~Hook() {
  stop();
}
template <HookKind K>
void Hook<K>::start() {
  HookCalls<K>::start(Libev::loop(*this), &HookCalls<K>::of(*this));
}
template <HookKind K>
void Hook<K>::stop() {
  HookCalls<K>::stop(Libev::loop(*this), &HookCalls<K>::of(*this));
}
template <HookKind K>
void Hook<K>::fire(int) {
  cb_(*this);
}

template class Hook<HookKind::kPrepare>;
template class Hook<HookKind::kCheck>;
template class Hook<HookKind::kIdle>;

// --- Async ---------------------------------------------------------------------------------
Async::Async(Loop& loop, Callback cb) : Watcher(loop), cb_(std::move(cb)) {
  ev_async_init(&impl_->async, &Libev::on_event<ev_async>);
}
Async::~Async() { stop(); }
void Async::start() { ev_async_start(Libev::loop(*this), &impl_->async); }
void Async::stop() { ev_async_stop(Libev::loop(*this), &impl_->async); }
void Async::send() { ev_async_send(Libev::loop(*this), &impl_->async); }
void Async::fire(int) { cb_(*this); }

// --- ZmqWatcher ----------------------------------------------------------------------------
// ZMQ_FD only signals that ZMQ_EVENTS may have changed, and only on an edge. So before the loop
// blocks (prepare) we ask ZMQ_EVENTS: if the socket is already ready we keep an idle watcher
// running so the loop does not block, otherwise we wait on the fd. After the loop wakes (check)
// we call back if the socket is ready. Asking ZMQ_EVENTS also lets libzmq process its command
// pipe, which is what re-arms the fd.
// Each ZMQ_EVENTS query costs libzmq a poll() on its command pipe, so the check asks only when
// the fd fired. Nothing can touch the socket between prepare and check (only the loop's poll
// runs there), so when the socket was ready at prepare the answer found then still holds, and
// when neither the fd fired nor the socket was ready, the wake-up was for another watcher.
static int zmq_fd_of(void* socket) {
  int fd = -1;
  size_t len = sizeof(fd);
  if (zmq_getsockopt(socket, ZMQ_FD, &fd, &len) < 0)
    throw std::runtime_error("zmq_getsockopt(ZMQ_FD) failed: not a zmq socket?");
  return fd;
}

ZmqWatcher::ZmqWatcher(Loop& loop, void* socket, int events, Callback cb)
    : loop_(loop),
      socket_(socket),
      events_(events),
      cb_(std::move(cb)),
      prepare_(loop, [this](Prepare&) { on_prepare(); }),
      check_(loop, [this](Check&) { on_check(); }),
      idle_(loop, [](Idle&) {}),
      io_(loop, zmq_fd_of(socket), kRead, [](Io&, int) {}) {
  // The check must see io_ still pending, so it runs before any other callback (libev's advice
  // for check watchers that integrate another event source).
  check_.set_priority(kMaxPriority);
}

ZmqWatcher::~ZmqWatcher() { stop(); }

void ZmqWatcher::start() {
  if (active_) return;
  active_ = true;
  prepare_.start();
  check_.start();
}

void ZmqWatcher::stop() {
  active_ = false;
  prepare_.stop();
  check_.stop();
  idle_.stop();
  io_.stop();
}

int ZmqWatcher::ready_events() const {
  int zevents = 0;
  size_t len = sizeof(zevents);
  if (zmq_getsockopt(socket_, ZMQ_EVENTS, &zevents, &len) < 0) return kError;
  int revents = 0;
  if (zevents & ZMQ_POLLIN) revents |= kRead;
  if (zevents & ZMQ_POLLOUT) revents |= kWrite;
  return revents & (events_ | kError);
}

void ZmqWatcher::on_prepare() {
  ready_at_prepare_ = ready_events();
  if (ready_at_prepare_) {
    idle_.start();
  } else {
    io_.start();
  }
}

void ZmqWatcher::on_check() {
  int ready = 0;
  if (idle_.active())
    ready = ready_at_prepare_;
  else if (io_.pending())
    ready = ready_events();
  io_.stop();
  idle_.stop();
  if (ready) cb_(*this, ready);
}

}  // namespace cairn::reactor
