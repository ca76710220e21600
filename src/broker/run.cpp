// `cairn start` (see run.hpp): loads the configuration, then hands over to a Runner, which
// owns the state directory, the broker and the initial program (runner.hpp).
// SIGPIPE is ignored from before the statedir exists until after it is gone.
#include "broker/run.hpp"

#include <signal.h>

#include <cstdlib>
#include <iostream>

#include "broker/config.hpp"
#include "broker/runner.hpp"

namespace cairn::broker {

namespace {

// SIGPIPE would kill the broker when whoever reads its stdout goes away.
struct IgnoreSigpipe {
  IgnoreSigpipe() { old = signal(SIGPIPE, SIG_IGN); }
  ~IgnoreSigpipe() { signal(SIGPIPE, old); }
  sighandler_t old;
};

// Applies the configuration file, the -o options and --rank (which wins over broker.rank) to
// `config`. On failure prints `cairn: ...` to stderr and returns false.
bool configure(const RunOptions& opts, Config& config) {
  if (opts.rank && *opts.rank < 0) {
    std::cerr << "cairn: start: --rank " << *opts.rank << ": must be 0 or more" << std::endl;
    return false;
  }
  try {
    if (opts.config_file) config.load_file(*opts.config_file);
    for (const auto& o : opts.options) config.set_option(o);
    if (opts.rank) config.set_rank(*opts.rank);
  } catch (const ConfigError& e) {
    std::cerr << "cairn: config: " << e.what() << std::endl;
    return false;
  }
  return true;
}

}  // namespace

int run(const RunOptions& opts) {
  const char* statsd = getenv("CAIRN_STATSD");
  Config config(module_config_keys(opts.modules), statsd ? statsd : "");
  if (!configure(opts, config)) return 1;
  IgnoreSigpipe ignore_sigpipe;
  Runner runner(opts);
  if (!runner.start(config)) return 1;
  return runner.run();
}

}  // namespace cairn::broker
