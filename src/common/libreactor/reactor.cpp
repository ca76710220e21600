// cairn::reactor implementation: each watcher keeps `this` in the libev watcher's data field and
// a static trampoline turns the C callback back into the std::function.
#include "libreactor/reactor.hpp"

#include <zmq.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>

namespace cairn::reactor {

namespace {
// Whether libev's default loop (the only one with child watchers) is held by a live Loop.
std::atomic<bool> default_in_use{false};
}  // namespace

Loop::Loop() {
  bool expected = false;
  if (default_in_use.compare_exchange_strong(expected, true)) {
    loop_ = ev_default_loop(EVFLAG_AUTO);
    is_default_ = true;
  } else {
    loop_ = ev_loop_new(EVFLAG_AUTO);
    is_default_ = false;
  }
  if (!loop_) {
    if (is_default_) default_in_use = false;
    throw std::runtime_error("libev: cannot create an event loop (bad $LIBEV_FLAGS?)");
  }
}

Loop::~Loop() {
  ev_loop_destroy(loop_);
  if (is_default_) default_in_use = false;
}

void Loop::run() { ev_run(loop_, 0); }
void Loop::run_once(bool block) { ev_run(loop_, block ? EVRUN_ONCE : EVRUN_NOWAIT); }
void Loop::stop() { ev_break(loop_, EVBREAK_ALL); }
double Loop::now() const { return ev_now(loop_); }
void Loop::now_update() { ev_now_update(loop_); }

// --- Timer ---------------------------------------------------------------------------------
Timer::Timer(Loop& loop, double after, double repeat, Callback cb)
    : Watcher(loop), cb_(std::move(cb)) {
  ev_timer_init(&w_, &Timer::trampoline, after, repeat);
  w_.data = this;
}
Timer::~Timer() { stop(); }
void Timer::start() { ev_timer_start(loop_.raw(), &w_); }
void Timer::stop() { ev_timer_stop(loop_.raw(), &w_); }
void Timer::again() { ev_timer_again(loop_.raw(), &w_); }
void Timer::set(double after, double repeat) {
  bool was_active = active();
  stop();
  ev_timer_set(&w_, after, repeat);
  if (was_active) start();
}
double Timer::remaining() const {
  return active() ? ev_timer_remaining(loop_.raw(), const_cast<ev_timer*>(&w_)) : 0;
}
void Timer::trampoline(struct ev_loop*, ev_timer* w, int) {
  auto* self = static_cast<Timer*>(w->data);
  self->cb_(*self);
}

// --- Periodic ------------------------------------------------------------------------------
Periodic::Periodic(Loop& loop, double offset, double interval, Callback cb)
    : Watcher(loop), cb_(std::move(cb)) {
  ev_periodic_init(&w_, &Periodic::trampoline, offset, interval, nullptr);
  w_.data = this;
}
Periodic::~Periodic() { stop(); }
void Periodic::start() { ev_periodic_start(loop_.raw(), &w_); }
void Periodic::stop() { ev_periodic_stop(loop_.raw(), &w_); }
void Periodic::trampoline(struct ev_loop*, ev_periodic* w, int) {
  auto* self = static_cast<Periodic*>(w->data);
  self->cb_(*self);
}

// --- Io ------------------------------------------------------------------------------------
Io::Io(Loop& loop, int fd, int events, Callback cb) : Watcher(loop), cb_(std::move(cb)) {
  ev_io_init(&w_, &Io::trampoline, fd, events);
  w_.data = this;
}
Io::~Io() { stop(); }
void Io::start() { ev_io_start(loop_.raw(), &w_); }
void Io::stop() { ev_io_stop(loop_.raw(), &w_); }
void Io::set_events(int events) {
  bool was_active = active();
  stop();
  ev_io_set(&w_, w_.fd, events);
  if (was_active) start();
}
void Io::trampoline(struct ev_loop*, ev_io* w, int revents) {
  auto* self = static_cast<Io*>(w->data);
  self->cb_(*self, revents);
}

// --- Signal --------------------------------------------------------------------------------
Signal::Signal(Loop& loop, int signum, Callback cb) : Watcher(loop), cb_(std::move(cb)) {
  ev_signal_init(&w_, &Signal::trampoline, signum);
  w_.data = this;
}
Signal::~Signal() { stop(); }
void Signal::start() { ev_signal_start(loop_.raw(), &w_); }
void Signal::stop() { ev_signal_stop(loop_.raw(), &w_); }
void Signal::trampoline(struct ev_loop*, ev_signal* w, int) {
  auto* self = static_cast<Signal*>(w->data);
  self->cb_(*self, w->signum);
}

// --- Child ---------------------------------------------------------------------------------
Child::Child(Loop& loop, pid_t pid, Callback cb) : Watcher(loop), cb_(std::move(cb)) {
  ev_child_init(&w_, &Child::trampoline, pid, 0);
  w_.data = this;
}
Child::~Child() { stop(); }
bool Child::start() {
  if (!loop_.is_default()) return false;
  ev_child_start(loop_.raw(), &w_);
  return true;
}
void Child::stop() {
  if (loop_.is_default()) ev_child_stop(loop_.raw(), &w_);
}
void Child::trampoline(struct ev_loop*, ev_child* w, int) {
  auto* self = static_cast<Child*>(w->data);
  self->cb_(*self, w->rpid, w->rstatus);
}

// --- Prepare / Check / Idle ----------------------------------------------------------------
namespace detail {
void prepare_init(ev_prepare* w, void (*cb)(struct ev_loop*, ev_prepare*, int)) {
  ev_prepare_init(w, cb);
}
void check_init(ev_check* w, void (*cb)(struct ev_loop*, ev_check*, int)) { ev_check_init(w, cb); }
void idle_init(ev_idle* w, void (*cb)(struct ev_loop*, ev_idle*, int)) { ev_idle_init(w, cb); }
}  // namespace detail

// --- Async ---------------------------------------------------------------------------------
Async::Async(Loop& loop, Callback cb) : Watcher(loop), cb_(std::move(cb)) {
  ev_async_init(&w_, &Async::trampoline);
  w_.data = this;
}
Async::~Async() { stop(); }
void Async::start() { ev_async_start(loop_.raw(), &w_); }
void Async::stop() { ev_async_stop(loop_.raw(), &w_); }
void Async::send() { ev_async_send(loop_.raw(), &w_); }
void Async::trampoline(struct ev_loop*, ev_async* w, int) {
  auto* self = static_cast<Async*>(w->data);
  self->cb_(*self);
}

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
  check_.set_priority(EV_MAXPRI);
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
