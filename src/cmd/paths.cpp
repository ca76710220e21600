// See paths.hpp. CAIRN_BUILDDIR, LIBEXECDIR and MODULEDIR come from src/cmd/Makefile.inc.
#include "cmd/paths.hpp"

#include <unistd.h>

#include <filesystem>
#include <system_error>

namespace cairn::cmd {

std::filesystem::path own_dir() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  std::filesystem::path dir = self.parent_path();
  if (dir.filename() == ".libs") dir = dir.parent_path();
  return dir;
}

bool in_build_tree() {
  std::error_code ec;
  std::filesystem::path built = std::filesystem::path(CAIRN_BUILDDIR) / "src" / "cmd";
  return std::filesystem::equivalent(own_dir(), built, ec) && !ec;
}

std::string broker_program() {
  std::filesystem::path beside = own_dir() / "cairn-broker";
  if (access(beside.c_str(), X_OK) == 0) return beside.string();
  return std::string(LIBEXECDIR) + "/cairn-broker";
}

std::string module_dir(std::string_view build_subdir) {
  if (!in_build_tree()) return MODULEDIR;
  return std::string(CAIRN_BUILDDIR) + "/" + std::string(build_subdir) + "/.libs";
}

}  // namespace cairn::cmd
