// `cairn`: one command, many subcommands (see commands.hpp and cairn(1)).
#include <config.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "cmd/commands.hpp"
#include "cmd/common.hpp"
#include "cmd/paths.hpp"
#include "cmd/usage.hpp"
#include "libutil/process.hpp"

namespace {

// `cairn [OPTIONS] start ARGS`: cairn's own options are checked here, then cairn-broker runs
// in this process (same pid, for systemd and for whoever started it) and reads ARGS itself.
// Returns only if it cannot be run: 1, as any start-up failure.
// The initial program gets this PATH (cairn-start(1)): this cairn's directory first, so that a
// `cairn` it runs is this one, also from a build tree that is not on PATH.
int exec_broker(const std::vector<char*>& args, size_t start) {
  std::string search = cairn::util::search_path();
  if (std::filesystem::path dir = cairn::cmd::own_dir(); !dir.empty()) {
    search = dir.string() + (search.empty() ? "" : ":" + search);
    setenv("PATH", search.c_str(), 1);
  }
  const std::string path = cairn::cmd::broker_program();
  std::vector<char*> argv{const_cast<char*>("cairn-broker")};
  argv.insert(argv.end(), args.begin() + static_cast<long>(start) + 1, args.end());
  argv.push_back(nullptr);
  execv(path.c_str(), argv.data());
  return cairn::cmd::fail("start", "cannot run the broker " + path + ": " + std::strerror(errno) +
                                       " (reinstall cairn: cairn start runs this program)");
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
  // `start` is cairn-broker's (exec_broker): listed here for `cairn --help`, its options
  // read by cairn-broker.
  bool start_broker = false;
  app.add_subcommand("start", "run a broker, and the initial program if given (cairn-start(1))")
      ->callback([&start_broker] { start_broker = true; });
  cairn::cmd::add_broker(app, status);
  cairn::cmd::add_stats(app, status);
  cairn::cmd::add_content(app, status);
  cairn::cmd::add_jobs(app, status);
  cairn::cmd::add_top(app, status);
  std::vector<char*> args(argv, argv + argc);
  if (size_t start = cairn::cmd::start_word(args)) {
    std::vector<char*> own(args.begin(), args.begin() + static_cast<long>(start) + 1);
    int rc = cairn::cmd::parse_command_line(app, own, status);
    return start_broker ? exec_broker(args, start) : rc;  // not: a usage error, or --help
  }
  return cairn::cmd::parse_command_line(app, args, status);
}
