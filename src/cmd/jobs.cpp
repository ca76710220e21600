// Placeholder until this subcommand group lands: adds nothing.
#include "cmd/commands.hpp"

namespace cairn::cmd {
void add_jobs(CLI::App&, int&) {}
}  // namespace cairn::cmd
