// cairn::test::TempDir: a fresh private directory for one test, removed with everything in it
// when the test is done. Invariants: path() exists, mode 0700, from construction to
// destruction, and belongs to this TempDir alone (mkdtemp); destruction removes it even when
// the test has taken permissions away from what is inside, and never throws.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cairn::test {

class TempDir {
 public:
  // Makes PARENT/NAME-XXXXXX. PARENT defaults to $TMPDIR or /tmp; a test that binds an ipc://
  // socket inside gives "/tmp", since a socket path must stay short. Throws std::runtime_error
  // if the directory cannot be made.
  explicit TempDir(std::string_view name = "cairn-test", std::string_view parent = {}) {
    std::filesystem::path base =
        parent.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(parent);
    std::string tmpl = (base / (std::string(name) + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data()))
      throw std::runtime_error("cannot make a directory " + tmpl + ": " + std::strerror(errno));
    path_ = tmpl;
  }
  ~TempDir() {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_symlink(ec))
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name (whether or not it exists).
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Writes `text` to path()/name (replacing it) and returns that path; throws if it cannot.
  std::string write(std::string_view name, std::string_view text) const {
    std::string p = file(name);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out.flush()) throw std::runtime_error("cannot write " + p);
    return p;
  }

 private:
  std::string path_;
};

}  // namespace cairn::test
