// `cairn`: one command, many subcommands (see commands.hpp and cairn(1)).
#include <config.h>

#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "cmd/commands.hpp"

namespace {

// `cairn start [OPTIONS] -- COMMAND...`: CLI11 2.1 hands a `--` given to a subcommand back to
// the top-level app, so drop the `--` that ends start's own options before parsing. A `--`
// after the command word belongs to the command and is kept.
std::vector<char*> without_start_separator(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  if (argc < 3 || std::strcmp(argv[1], "start") != 0) return args;
  for (size_t i = 2; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") {
      args.erase(args.begin() + static_cast<long>(i));
      break;
    }
    if (a.empty() || a[0] != '-') break;  // the command word: the rest is the command's
    if ((a == "--config" || a == "--listen" || a == "--statedir" || a == "--rank" || a == "-o" ||
         a == "--option") &&
        i + 1 < args.size())
      ++i;  // skip the option's value
  }
  return args;
}

}  // namespace

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
    auto args = without_start_separator(argc, argv);
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return status;
}
