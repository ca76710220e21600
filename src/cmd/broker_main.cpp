// cairn-broker: the broker as a program of its own, in libexecdir. `cairn start ARGS` execs
// `cairn-broker ARGS` (as `flux start` runs flux-broker), so the broker's libraries (SQLite,
// libsystemd, and the backing store modules it loads) are loaded by this program only. It reads
// ARGS exactly as cairn-start(1) documents: the same options, environment, usage errors, help
// and exit statuses. The modules it runs are listed in broker_modules.cpp.
#include <vector>

#include "cmd/broker_modules.hpp"
#include "cmd/start.hpp"
#include "cmd/usage.hpp"

int main(int argc, char** argv) {
  CLI::App app{"cairn: a content-addressed cache with built-in statsd telemetry", "cairn"};
  app.require_subcommand(1);
  int status = 0;
  cairn::cmd::add_start(app, status, cairn::cmd::broker_modules());
  // Read as `cairn start ARGS`, so that help and usage errors name what the user typed.
  std::vector<char*> args{argv[0], const_cast<char*>("start")};
  args.insert(args.end(), argv + 1, argv + argc);
  return cairn::cmd::parse_command_line(app, args, status);
}
