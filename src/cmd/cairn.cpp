// `cairn`: one command, many subcommands (see commands.hpp and cairn(1)).
#include <config.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/commands.hpp"
#include "cmd/common.hpp"

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

// The subcommands the parse reached, as the user typed them: "content load"; empty at the top.
// Names the command a usage error is about, and the `--help` that explains it.
std::string command_path(const CLI::App& app) {
  std::string path;
  for (const CLI::App* at = &app; !at->get_subcommands().empty();) {
    at = at->get_subcommands().back();
    path += (path.empty() ? "" : " ") + at->get_name();
  }
  return path;
}

// The app the parse reached last (`app` itself when no subcommand was given).
const CLI::App& deepest(const CLI::App& app) {
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) at = at->get_subcommands().back();
  return *at;
}

// Prints a usage error as `cairn: [COMMAND: ]WHAT (see cairn [COMMAND] --help)`; returns
// kExitUsage. A word CLI11 could not place is named (no such command, no such option,
// unexpected argument) instead of CLI11's "A subcommand is required".
int usage_error(const CLI::App& app, const CLI::ParseError& e) {
  const std::string path = command_path(app);
  const CLI::App& at = deepest(app);
  const std::vector<std::string> extra = at.remaining();
  const bool wants_command = at.get_require_subcommand_min() > 0 && at.get_subcommands().empty();
  std::string what = e.what();
  if (!extra.empty() && (wants_command || dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr)) {
    const std::string& word = extra.front();
    what = word + (word.starts_with('-') ? ": no such option"
                   : wants_command       ? ": no such command"
                                         : ": unexpected argument");
  } else if (wants_command && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    what = "a command is required";
  }
  const std::string help = "cairn " + (path.empty() ? "" : path + " ") + "--help";
  std::cerr << "cairn: " << (path.empty() ? "" : path + ": ") << what << " (see " << help << ")"
            << std::endl;
  return cairn::cmd::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn: a content-addressed cache with built-in statsd telemetry"};
  app.set_version_flag("--version", std::string("cairn ") + PACKAGE_VERSION);
  app.require_subcommand(1);
  int status = 0;
  cairn::cmd::add_start(app, status);
  cairn::cmd::add_broker(app, status);
  cairn::cmd::add_stats(app, status);
  cairn::cmd::add_content(app, status);
  cairn::cmd::add_jobs(app, status);
  cairn::cmd::add_top(app, status);
  try {
    auto args = without_start_separator(argc, argv);
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version, --help-config: printed on stdout, status 0
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e);
  }
  return status;
}
