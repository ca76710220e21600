// How `cairn` and `cairn-broker` read a command line, so that both report usage errors alike:
// `cairn: [COMMAND: ]WHAT (see cairn [COMMAND] --help)`, exit status kExitUsage (cairn(1)).
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <vector>

namespace cairn::cmd {

// Prints a usage error as `cairn: [COMMAND: ]WHAT (see cairn [COMMAND] --help)`; returns
// kExitUsage. A word CLI11 could not place is named (no such command, no such option,
// unexpected argument) instead of CLI11's "A subcommand is required".
int usage_error(const CLI::App& app, const CLI::ParseError& e);

// Where `start` is in `args` (argv) when it is the command, after cairn's own options
// (`cairn [--uri URI] [--timeout S] start ...`); 0 when the command is another.
size_t start_word(const std::vector<char*>& args);

// `cairn [--uri URI] [--timeout S] start [OPTIONS] -- COMMAND...`: CLI11 2.1 hands a `--`
// given to a subcommand back to the top-level app, so drop the `--` that ends start's own
// options before parsing. A `--` after the command word belongs to the command and is kept.
std::vector<char*> without_start_separator(std::vector<char*> args);

// Parses `args` (argv, through without_start_separator) into `app`, whose subcommands' callbacks
// run the command and set `status`. Returns `status`; 0 after printing --help or --version;
// kExitUsage after printing a usage error.
int parse_command_line(CLI::App& app, const std::vector<char*>& args, const int& status);

}  // namespace cairn::cmd
