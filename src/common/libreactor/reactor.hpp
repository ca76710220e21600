// cairn::reactor: a thin RAII layer over one event loop. libev does the work; nothing of it
// shows here (its loop and watchers live behind each class's Impl, in reactor.cpp), so users
// neither include <ev.h> nor link libev themselves.
// Invariants: a watcher belongs to exactly one Loop, is neither copied nor moved (the loop keeps
// a pointer to it), and stops itself when destroyed; callbacks run on the loop's thread only.
// ZmqWatcher turns ZeroMQ's edge-triggered ZMQ_FD into level-triggered readiness
// (doc/architecture.md).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>

namespace cairn::reactor {

// Event bits passed to Io and ZmqWatcher callbacks.
constexpr int kRead = 0x01;
constexpr int kWrite = 0x02;
constexpr int kError = static_cast<int>(0x80000000u);

// Watcher priorities (set_priority): among the callbacks due in one loop iteration, those of
// higher priority run first.
constexpr int kMinPriority = -2;
constexpr int kMaxPriority = 2;

// Owns one event loop. The first Loop alive in a process takes libev's default loop, the only
// one that can watch child processes; a Loop created while another holds it gets a private loop
// (Child watchers then refuse to start).
class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Runs until no active watcher is left or stop() is called.
  void run();
  // Runs one iteration; blocks for events if `block`.
  void run_once(bool block = true);
  // Makes run() return after the current iteration (safe from any callback).
  void stop();
  // The loop's clock: wall-clock seconds since the Unix epoch, read once at the start of each
  // iteration (every callback of one iteration sees the same time). now_update() reads it
  // afresh.
  double now() const;
  void now_update();
  bool is_default() const;

 private:
  friend struct Libev;  // reactor.cpp: the watchers' way to the libev loop
  struct Impl;          // the libev loop
  std::unique_ptr<Impl> impl_;
};

// What every watcher has: whether it is started, whether its callback is due, its priority.
class Watcher {
 public:
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  bool active() const;
  // Has an event that is queued for its callback in this loop iteration.
  bool pending() const;
  // kMinPriority..kMaxPriority (default 0); only while inactive.
  void set_priority(int pri);
  Loop& loop() const { return loop_; }

 protected:
  explicit Watcher(Loop& loop);
  ~Watcher();
  // Called on the loop thread when the watcher's event happens.
  virtual void fire(int revents) = 0;

  friend struct Libev;  // reactor.cpp: calls fire() from libev's callback
  struct Impl;          // the libev watcher, of the kind of the subclass
  Loop& loop_;
  std::unique_ptr<Impl> impl_;
};

// One-shot (repeat == 0) or repeating timer relative to the loop time.
class Timer : public Watcher {
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
  void fire(int revents) override;
  Callback cb_;
};

// Wall-clock periodic: fires at offset + k*interval.
class Periodic : public Watcher {
 public:
  using Callback = std::function<void(Periodic&)>;
  Periodic(Loop& loop, double offset, double interval, Callback cb);
  ~Periodic();
  void start();
  void stop();

 private:
  void fire(int revents) override;
  Callback cb_;
};

// File descriptor readiness (kRead | kWrite).
class Io : public Watcher {
 public:
  using Callback = std::function<void(Io&, int revents)>;
  Io(Loop& loop, int fd, int events, Callback cb);
  ~Io();
  void start();
  void stop();
  void set_events(int events);
  int fd() const { return fd_; }

 private:
  void fire(int revents) override;
  int fd_;
  Callback cb_;
};

// A POSIX signal delivered on the loop thread (libev blocks it from reaching a handler).
class Signal : public Watcher {
 public:
  using Callback = std::function<void(Signal&, int signum)>;
  Signal(Loop& loop, int signum, Callback cb);
  ~Signal();
  void start();
  void stop();

 private:
  void fire(int revents) override;
  int signum_;
  Callback cb_;
};

// Exit of a child process; status is as from waitpid(). Default loop only.
class Child : public Watcher {
 public:
  using Callback = std::function<void(Child&, pid_t pid, int status)>;
  Child(Loop& loop, pid_t pid, Callback cb);
  ~Child();
  // Returns false (and does nothing) on a non-default loop.
  bool start();
  void stop();

 private:
  void fire(int revents) override;
  Callback cb_;
};

// Prepare runs just before the loop blocks, Check just after it wakes, Idle whenever it has
// nothing else to do (and keeps it from blocking while started).
enum class HookKind { kPrepare, kCheck, kIdle };

template <HookKind K>
class Hook : public Watcher {
 public:
  using Callback = std::function<void(Hook&)>;
  Hook(Loop& loop, Callback cb);
  ~Hook();
  void start();
  void stop();

 private:
  void fire(int revents) override;
  Callback cb_;
};

using Prepare = Hook<HookKind::kPrepare>;
using Check = Hook<HookKind::kCheck>;
using Idle = Hook<HookKind::kIdle>;
// Defined for these three in reactor.cpp.
extern template class Hook<HookKind::kPrepare>;
extern template class Hook<HookKind::kCheck>;
extern template class Hook<HookKind::kIdle>;

// Wakes the loop from another thread: send() is thread- and signal-safe; the callback runs on
// the loop thread, once for any number of send() calls since it last ran.
class Async : public Watcher {
 public:
  using Callback = std::function<void(Async&)>;
  Async(Loop& loop, Callback cb);
  ~Async();
  void start();
  void stop();
  void send();

 private:
  void fire(int revents) override;
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
