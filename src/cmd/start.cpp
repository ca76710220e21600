// `cairn start` as cairn-broker reads it (start.hpp): parses start's command line and hands
// over to the broker (src/broker/run.hpp); this process IS the broker, and the initial program
// is its direct child.
#include "cmd/start.hpp"

#include <iostream>
#include <limits>
#include <memory>
#include <utility>

#include "broker/config.hpp"
#include "broker/run.hpp"
#include "cmd/common.hpp"

namespace cairn::cmd {

namespace {

// `-o KEY=VALUE`, checked as the broker will apply it (a declared key, a value of its type and
// range), so that a bad -o is a usage error, found before anything starts.
CLI::Validator config_option(std::shared_ptr<const broker::ConfigKeys> module_keys) {
  return CLI::Validator(
      [module_keys](std::string& kv) -> std::string {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
          return "'" + kv + "' is not KEY=VALUE (e.g. -o heartbeat.period=2)";
        try {
          broker::Config probe(*module_keys);
          probe.set_option(kv);
        } catch (const broker::ConfigError& e) {
          return e.what();
        }
        return {};
      },
      "");
}

}  // namespace

void add_start(CLI::App& app, int& status, broker::ModuleSpecs modules) {
  auto module_keys =
      std::make_shared<const broker::ConfigKeys>(broker::module_config_keys(modules));
  auto opts = std::make_shared<broker::RunOptions>();
  opts->modules = std::move(modules);
  auto* sub = app.add_subcommand("start", "run a broker, and the initial program if given");
  sub->add_option("--config", opts->config_file, "TOML configuration file (see cairn.toml(5))")
      ->type_name("FILE");
  sub->add_option(
         "--listen", opts->listen,
         "endpoint to bind: local://PATH (default: in the statedir), or tcp://HOST:PORT (needs "
         "CURVE; port * picks one)")
      ->type_name("URI");
  sub->add_option("--statedir", opts->statedir,
                  "state directory, created if missing and kept (default: a temporary one)")
      ->type_name("DIR");
  sub->add_option("--rank", opts->rank, "rank of this broker (default: broker.rank, 0)")
      ->type_name("N")
      ->check(at_least(0, std::numeric_limits<int>::max()));
  sub->add_option("-o,--option", opts->options, "set a configuration key: -o KEY=VALUE")
      ->type_name("KEY=VALUE")
      ->check(config_option(module_keys))
      ->allow_extra_args(false);
  sub->add_flag_callback(
      "--help-config",
      [module_keys] {
        std::cout << broker::config_help(broker::all_config_keys("$CAIRN_STATSD", *module_keys));
        throw CLI::Success();
      },
      "print every configuration key (type, range, default, meaning) and exit");
  // Everything from the first non-option word on is the initial program and its arguments.
  sub->prefix_command();
  sub->footer(
      "[COMMAND [ARG...]]: the initial program, run with CAIRN_URI set; one argument runs\n"
      "through /bin/sh -c. cairn start exits with its status. Without a command, cairn start\n"
      "prints its URI and runs until SIGINT or SIGTERM. See cairn-start(1).");
  sub->callback([opts, sub, &status]() {
    opts->command = sub->remaining();
    status = broker::run(*opts);
  });
}

}  // namespace cairn::cmd
