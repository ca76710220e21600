// Where cairn's programs find each other: `cairn start` runs cairn-broker, cairn-broker loads
// its backing store modules. Installed, they are in libexecdir and $(libdir)/cairn/modules;
// in the build tree (make check, a developer's shell), cairn-broker is beside cairn and the
// modules in their own directories.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace cairn::cmd {

// The directory of the running program (of the real one, under a libtool wrapper); empty
// without /proc.
std::filesystem::path own_dir();
// Whether this program runs from the build tree it was built in (not installed).
bool in_build_tree();
// The cairn-broker program that `cairn start` executes: the one beside this program if there
// is one (the build tree, or a copy of both), else the installed one.
std::string broker_program();
// The directory of a broker module: $(libdir)/cairn/modules, or in the build tree the libtool
// output directory of `build_subdir` (e.g. "src/modules/content-rados").
std::string module_dir(std::string_view build_subdir);

}  // namespace cairn::cmd
