// `cairn start`'s options and run (start.cpp), which cairn-broker reads: `cairn start ARGS`
// execs `cairn-broker ARGS` (cairn.cpp), so the `cairn` command links none of the broker.
#pragma once

#include <CLI/CLI.hpp>

#include "broker/module_spec.hpp"

namespace cairn::cmd {

// Adds `start` to `app`: its callback runs the broker with `modules` and stores the exit
// status (cairn-start(1)) in `status`.
void add_start(CLI::App& app, int& status, broker::ModuleSpecs modules);

}  // namespace cairn::cmd
