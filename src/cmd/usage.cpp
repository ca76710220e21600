// See usage.hpp.
#include "cmd/usage.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <iostream>
#include <string>
#include <string_view>

#include "cmd/common.hpp"

namespace cairn::cmd {

namespace {

bool takes_value(std::string_view a, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), a) != names.end();
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

}  // namespace

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
  return kExitUsage;
}

size_t start_word(const std::vector<char*>& args) {
  // Options with a separate value, cairn's own before `start`.
  size_t i = 1;
  while (i < args.size() && std::string_view(args[i]).starts_with('-') &&
         std::string_view(args[i]) != "--")
    i += takes_value(args[i], {"--uri", "--timeout"}) ? 2 : 1;
  return i < args.size() && std::strcmp(args[i], "start") == 0 ? i : 0;
}

std::vector<char*> without_start_separator(std::vector<char*> args) {
  size_t i = start_word(args);
  if (i == 0) return args;
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

int parse_command_line(CLI::App& app, const std::vector<char*>& args, const int& status) {
  try {
    auto parsed = without_start_separator(args);
    app.parse(static_cast<int>(parsed.size()), parsed.data());
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version, --help-config: printed on stdout, status 0
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e);
  }
  return status;
}

}  // namespace cairn::cmd
