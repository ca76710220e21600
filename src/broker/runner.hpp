// One run of `cairn start` (see run.hpp) once its configuration is loaded: owns the state
// directory, the loop, the broker, the signal watchers and the initial program. Invariants:
// child_ > 0 exactly while the initial program runs; the broker is destroyed before the loop.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "broker/config.hpp"
#include "broker/run.hpp"
#include "broker/state_dir.hpp"
#include "libreactor/reactor.hpp"

namespace cairn::broker {

// Shutdown runs in this order: signal -> SIGTERM to the initial program (if running) -> its
// exit -> module shutdown hooks -> loop stops -> modules destroyed in reverse order -> lost
// data reported -> statedir unlocked (a temporary one removed).
class Runner {
 public:
  // Keeps a reference to `opts`, which must outlive the Runner.
  explicit Runner(const RunOptions& opts);
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Creates the state directory and the broker. On failure prints `cairn: ...` to stderr and
  // returns false.
  bool start(const Config& config);
  // After start(): starts the initial program (or prints the start-up hint), runs the loop
  // until shutdown completes and destroys the broker. Returns the exit status (run.hpp).
  int run();

 private:
  // SIGINT/SIGTERM: passes it on to the initial program (SIGKILL from the second on), or with
  // none shuts down.
  void on_signal(int signum);
  // Shuts the broker down; the loop stops once every module has finished.
  void stop();
  // Spawns opts_.command with CAIRN_URI (and CAIRN_SERVER_KEY) set and the directory of the
  // running `cairn` at the front of PATH; if it cannot be run, status_ is 127 or 126 and the
  // broker shuts down.
  void start_initial_program();
  // The initial program's exit status becomes ours, and the broker shuts down.
  void on_child_exit(int wstatus);
  // No initial program: the URI on stdout (scripts wait for it) and how to reach it on stderr.
  void print_startup_hint() const;
  // Once the broker is gone: prints what its modules reported lost (Broker::lost_data()) on
  // stderr and makes a status of 0 kExitLostData.
  void report_lost_data(const std::vector<std::string>& lost);

  const RunOptions& opts_;
  std::unique_ptr<StateDir> statedir_;
  reactor::Loop loop_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<reactor::Child> child_watcher_;
  reactor::Signal sigint_;
  reactor::Signal sigterm_;
  pid_t child_ = -1;
  int status_ = 0;
  int signals_seen_ = 0;
  bool finished_ = false;  // ev_run forgets an ev_break made before it starts
};

}  // namespace cairn::broker
