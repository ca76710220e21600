// `cairn start` as a whole: configuration, state directory, the broker, signals and the
// initial program. Returns the process exit status (cairn-start(1), EXIT STATUS):
//   with a command, the command's status (128+N if killed by signal N; 127/126 if it cannot be
//   run); without one, 0 after SIGINT/SIGTERM; 1 for a start-up error (printed as `cairn: ...`);
//   kExitLostData instead of 0 when a module lost data at shutdown (a non-zero status of the
//   command wins: it already says the run failed, and the loss is printed on stderr anyway).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/module_spec.hpp"

namespace cairn::broker {

struct RunOptions {
  std::optional<std::string> config_file;
  std::string listen;                   // empty: local:// in a 0700 directory of the statedir
  std::optional<std::string> statedir;  // empty: a private temporary directory removed at exit
  std::optional<int> rank;              // --rank; wins over broker.rank
  std::vector<std::string> options;     // -o KEY=VALUE, in order
  std::vector<std::string> command;     // initial program; one word: run through /bin/sh -c
  ModuleSpecs modules;                  // the modules to run, in order (the program's list)
};

// A module lost data it had accepted (ModuleContext::report_lost_data), e.g. blobs the content
// cache could not write to its backing store at shutdown. EX_IOERR of sysexits.h.
inline constexpr int kExitLostData = 74;

int run(const RunOptions& opts);

}  // namespace cairn::broker
