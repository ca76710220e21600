// See paths.hpp. CAIRN_BUILDDIR, LIBEXECDIR and MODULEDIR come from src/cmd/Makefile.inc.
#include "cmd/paths.hpp"

#include <filesystem>
#include <system_error>

namespace cairn::cmd {

bool in_build_tree() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return false;
  std::filesystem::path dir = self.parent_path();
  if (dir.filename() == ".libs") dir = dir.parent_path();  // a libtool-wrapped program
  std::filesystem::path built = std::filesystem::path(CAIRN_BUILDDIR) / "src" / "cmd";
  return std::filesystem::equivalent(dir, built, ec) && !ec;
}

std::string broker_program() {
  return in_build_tree() ? std::string(CAIRN_BUILDDIR) + "/src/cmd/cairn-broker"
                         : std::string(LIBEXECDIR) + "/cairn-broker";
}

std::string module_dir(std::string_view build_subdir) {
  if (!in_build_tree()) return MODULEDIR;
  return std::string(CAIRN_BUILDDIR) + "/" + std::string(build_subdir) + "/.libs";
}

}  // namespace cairn::cmd
