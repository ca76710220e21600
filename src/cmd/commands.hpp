// The `cairn` command's subcommands, but `start` (cairn-broker reads its options: start.hpp).
// Each add_* function (one source file each) adds its subcommand(s) to `app`; their callbacks
// run the command and store the exit status in `status`. Errors are printed as `cairn: <what>:
// <why>` (see fail() in common.hpp).
#pragma once

#include <CLI/CLI.hpp>

namespace cairn::cmd {

void add_broker(CLI::App& app, int& status);   // broker_cmds.cpp: dmesg, ping, keygen
void add_stats(CLI::App& app, int& status);    // stats.cpp: stats status, stats listen
void add_content(CLI::App& app, int& status);  // content.cpp: content store/load/flush/...
void add_jobs(CLI::App& app, int& status);     // jobs.cpp: submit, run, jobs, job, jobtap
void add_top(CLI::App& app, int& status);      // top.cpp: top

}  // namespace cairn::cmd
