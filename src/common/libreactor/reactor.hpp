// cairn::reactor: a thin RAII layer over one libev loop.
// Invariants: a watcher belongs to exactly one Loop, is neither copied nor moved (libev keeps a
// pointer to it), and stops itself when destroyed; callbacks run on the loop's thread only.
// ZmqWatcher turns ZeroMQ's edge-triggered ZMQ_FD into level-triggered readiness (see
// doc/architecture.md, Threads).
#pragma once

#include <ev.h>
#include <sys/types.h>

#include <functional>

namespace cairn::reactor {

// Event bits passed to Io and ZmqWatcher callbacks (same values as libev's).
constexpr int kRead = EV_READ;
constexpr int kWrite = EV_WRITE;
constexpr int kError = EV_ERROR;

// Owns one ev_loop. The first Loop alive in a process takes libev's default loop, the only one
// that can watch child processes; a Loop created while another holds it gets a private loop
// (Child watchers then refuse to start).
class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Runs until no active watcher is left or stop() is called. Returns false if stopped.
  void run();
  // Runs one iteration; blocks for events if `block`.
  void run_once(bool block = true);
  // Makes run() return after the current iteration (safe from any callback).
  void stop();
  // Loop time (cached at the start of each iteration) and a fresh reading.
  double now() const;
  void now_update();
  bool is_default() const { return is_default_; }
  struct ev_loop* raw() const {
    return loop_;
  }

 private:
  struct ev_loop* loop_;
  bool is_default_;
};

// Common base: start/stop/active for a libev watcher of type W.
template <typename W>
class Watcher {
 public:
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  bool active() const { return ev_is_active(&w_); }
  // Has an event that is queued for its callback in this loop iteration.
  bool pending() const { return ev_is_pending(&w_); }
  // libev priority, EV_MINPRI..EV_MAXPRI (higher runs first); only while inactive.
  void set_priority(int pri) { ev_set_priority(&w_, pri); }
  Loop& loop() const { return loop_; }

 protected:
  explicit Watcher(Loop& loop) : loop_(loop) { w_.data = this; }
  Loop& loop_;
  W w_{};
};

// One-shot (repeat == 0) or repeating timer relative to the loop time.
class Timer : public Watcher<ev_timer> {
 public:
  using Callback = std::function<void(Timer&)>;
  Timer(Loop& loop, double after, double repeat, Callback cb);
  ~Timer();
  void start();
  void stop();
  // Resets a repeating timer to fire `repeat` seconds from now (ev_timer_again semantics).
  void again();
  void set(double after, double repeat);
  // Seconds until the timer fires (0 if inactive).
  double remaining() const;

 private:
  static void trampoline(struct ev_loop*, ev_timer* w, int);
  Callback cb_;
};

// Wall-clock periodic: fires at offset + k*interval.
class Periodic : public Watcher<ev_periodic> {
 public:
  using Callback = std::function<void(Periodic&)>;
  Periodic(Loop& loop, double offset, double interval, Callback cb);
  ~Periodic();
  void start();
  void stop();

 private:
  static void trampoline(struct ev_loop*, ev_periodic* w, int);
  Callback cb_;
};

// File descriptor readiness (kRead | kWrite).
class Io : public Watcher<ev_io> {
 public:
  using Callback = std::function<void(Io&, int revents)>;
  Io(Loop& loop, int fd, int events, Callback cb);
  ~Io();
  void start();
  void stop();
  void set_events(int events);
  int fd() const { return w_.fd; }

 private:
  static void trampoline(struct ev_loop*, ev_io* w, int revents);
  Callback cb_;
};

// A POSIX signal delivered on the loop thread (libev blocks it from reaching a handler).
class Signal : public Watcher<ev_signal> {
 public:
  using Callback = std::function<void(Signal&, int signum)>;
  Signal(Loop& loop, int signum, Callback cb);
  ~Signal();
  void start();
  void stop();

 private:
  static void trampoline(struct ev_loop*, ev_signal* w, int);
  Callback cb_;
};

// Exit of a child process; status is as from waitpid(). Default loop only.
class Child : public Watcher<ev_child> {
 public:
  using Callback = std::function<void(Child&, pid_t pid, int status)>;
  Child(Loop& loop, pid_t pid, Callback cb);
  ~Child();
  // Returns false (and does nothing) on a non-default loop.
  bool start();
  void stop();

 private:
  static void trampoline(struct ev_loop*, ev_child* w, int);
  Callback cb_;
};

// Run just before the loop blocks / just after it wakes / whenever it has nothing else to do.
template <typename W, void (*StartFn)(struct ev_loop*, W*), void (*StopFn)(struct ev_loop*, W*),
          void (*InitFn)(W*, void (*)(struct ev_loop*, W*, int))>
class Hook : public Watcher<W> {
 public:
  using Callback = std::function<void(Hook&)>;
  Hook(Loop& loop, Callback cb) : Watcher<W>(loop), cb_(std::move(cb)) {
    InitFn(&this->w_, &Hook::trampoline);
    this->w_.data = this;
  }
  ~Hook() { stop(); }
  void start() { StartFn(this->loop_.raw(), &this->w_); }
  void stop() { StopFn(this->loop_.raw(), &this->w_); }

 private:
  static void trampoline(struct ev_loop*, W* w, int) {
    auto* self = static_cast<Hook*>(w->data);
    self->cb_(*self);
  }
  Callback cb_;
};

namespace detail {
void prepare_init(ev_prepare* w, void (*cb)(struct ev_loop*, ev_prepare*, int));
void check_init(ev_check* w, void (*cb)(struct ev_loop*, ev_check*, int));
void idle_init(ev_idle* w, void (*cb)(struct ev_loop*, ev_idle*, int));
}  // namespace detail

using Prepare = Hook<ev_prepare, ev_prepare_start, ev_prepare_stop, detail::prepare_init>;
using Check = Hook<ev_check, ev_check_start, ev_check_stop, detail::check_init>;
using Idle = Hook<ev_idle, ev_idle_start, ev_idle_stop, detail::idle_init>;

// Wakes the loop from another thread: send() is thread- and signal-safe; the callback runs on
// the loop thread, once for any number of send() calls since it last ran.
class Async : public Watcher<ev_async> {
 public:
  using Callback = std::function<void(Async&)>;
  Async(Loop& loop, Callback cb);
  ~Async();
  void start();
  void stop();
  void send();

 private:
  static void trampoline(struct ev_loop*, ev_async* w, int);
  Callback cb_;
};

// Readiness of a ZeroMQ socket (kRead: a message can be received; kWrite: one can be sent).
// The callback is called while the condition holds, once per loop iteration, so a callback
// that reads one message at a time still drains the socket without further fd activity.
class ZmqWatcher {
 public:
  using Callback = std::function<void(ZmqWatcher&, int revents)>;
  // `socket` is a libzmq socket (void*), not owned.
  ZmqWatcher(Loop& loop, void* socket, int events, Callback cb);
  ~ZmqWatcher();
  ZmqWatcher(const ZmqWatcher&) = delete;
  ZmqWatcher& operator=(const ZmqWatcher&) = delete;
  void start();
  void stop();
  bool active() const { return active_; }
  void* socket() const { return socket_; }

 private:
  int ready_events() const;  // ZMQ_EVENTS as kRead/kWrite, masked to events_ | kError
  void on_prepare();
  void on_check();

  Loop& loop_;
  void* socket_;
  int events_;
  Callback cb_;
  bool active_ = false;
  int ready_at_prepare_ = 0;  // readiness found by the last on_prepare()
  Prepare prepare_;
  Check check_;
  Idle idle_;
  Io io_;
};

}  // namespace cairn::reactor
