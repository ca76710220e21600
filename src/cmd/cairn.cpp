// `cairn`: one command, many subcommands (see commands.hpp and cairn(1)).
#include <config.h>

#include <cstdio>
#include <iostream>

#include "cmd/commands.hpp"

namespace cairn::cmd {
int fail(std::string_view what, std::string_view why) {
  std::cerr << "cairn: " << what << ": " << why << std::endl;
  return 1;
}
}  // namespace cairn::cmd

int main(int argc, char** argv) {
  CLI::App app{"cairn: a content-addressed cache with built-in statsd telemetry"};
  app.set_version_flag("--version", PACKAGE_VERSION);
  app.require_subcommand(1);
  int status = 0;
  cairn::cmd::add_start(app, status);
  cairn::cmd::add_broker(app, status);
  cairn::cmd::add_stats(app, status);
  cairn::cmd::add_content(app, status);
  cairn::cmd::add_jobs(app, status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return status;
}
