// `cairn`: one command, many subcommands (see commands.hpp and cairn(1)).
#include <config.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/commands.hpp"
#include "cmd/common.hpp"

namespace {

// `cairn [--uri URI] [--timeout S] start [OPTIONS] -- COMMAND...`: CLI11 2.1 hands a `--`
// given to a subcommand back to the top-level app, so drop the `--` that ends start's own
// options before parsing. A `--` after the command word belongs to the command and is kept.
std::vector<char*> without_start_separator(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  // Options with a separate value, cairn's own before `start`, then start's.
  auto takes_value = [](std::string_view a, std::initializer_list<std::string_view> names) {
    return std::find(names.begin(), names.end(), a) != names.end();
  };
  size_t i = 1;
  while (i < args.size() && std::string_view(args[i]).starts_with('-') &&
         std::string_view(args[i]) != "--")
    i += takes_value(args[i], {"--uri", "--timeout"}) ? 2 : 1;
  if (i >= args.size() || std::strcmp(args[i], "start") != 0) return args;
  for (++i; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") {
      args.erase(args.begin() + static_cast<long>(i));
      break;
    }
    if (a.empty() || a[0] != '-') break;  // the command word: the rest is the command's
    if (takes_value(a, {"--config", "--listen", "--statedir", "--rank", "-o", "--option"}) &&
        i + 1 < args.size())
      ++i;  // skip the option's value
  }
  return args;
}

// The subcommands the parse reached, as the user typed them, down to `last`: "content load";
// empty at the top. Names the command a usage error is about, and the `--help` that explains
// it.
std::string command_path(const CLI::App& app, const CLI::App* last = nullptr) {
  std::string path;
  for (const CLI::App* at = &app; at != last && !at->get_subcommands().empty();) {
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

// The app that owns the option a ValidationError names (its text starts `--name: `): the
// deepest app the parse reached that was given an option of that name, so that `cairn
// --timeout 0 ping` is about cairn's --timeout, not ping's. nullptr if none is found.
const CLI::App* validated_by(const CLI::App& app, const CLI::ParseError& e) {
  std::string what = e.what();
  std::string name = what.substr(0, what.find(": "));
  if (!name.starts_with('-')) return nullptr;
  const CLI::App* found = nullptr;
  for (const CLI::App* at = &app;;) {
    const CLI::Option* opt = at->get_option_no_throw(name);
    if (opt && opt->count() > 0) found = at;
    if (at->get_subcommands().empty()) return found;
    at = at->get_subcommands().back();
  }
}

// Prints a usage error as `cairn: [COMMAND: ]WHAT (see cairn [COMMAND] --help)`; returns
// kExitUsage. A word CLI11 could not place is named (no such command, no such option,
// unexpected argument) instead of CLI11's "A subcommand is required".
int usage_error(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* owner =
      dynamic_cast<const CLI::ValidationError*>(&e) != nullptr ? validated_by(app, e) : nullptr;
  const std::string path = command_path(app, owner);
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
  cairn::cmd::add_connect_options(app);
  app.footer(
      "Environment: CAIRN_URI, the broker (as --uri); CAIRN_RPC_TIMEOUT, seconds to wait for a\n"
      "reply (as --timeout). An option wins over its variable. See cairn(1).");
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
