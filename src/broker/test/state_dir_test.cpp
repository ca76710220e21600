// Unit tests for StateDir: a temporary statedir is removed and a given one kept, the ipc://
// socket goes in a directory of mode 0700, and a socket path too long for sun_path is refused.
#include "broker/state_dir.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "broker/broker.hpp"

using cairn::broker::StartupError;
using cairn::broker::StateDir;
namespace fs = std::filesystem;

namespace {

mode_t mode_of(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

// A scratch directory for one test, removed at its end.
class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "state_dir_test-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    scratch_ = templ;
  }
  void TearDown() override { fs::remove_all(scratch_); }
  std::string scratch_;
};

}  // namespace

TEST_F(StateDirTest, TemporaryStatedirIsRemovedOnDestruction) {
  std::string path;
  {
    StateDir dir(std::nullopt);
    path = dir.path();
    EXPECT_TRUE(fs::is_directory(path));
    EXPECT_EQ(dir.socket_uri(), "ipc://" + path + "/cairn.sock");
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(StateDirTest, GivenStatedirIsCreatedMode0700AndKept) {
  std::string given = scratch_ + "/a/b";
  {
    StateDir dir(given);
    EXPECT_EQ(dir.path(), given);
    EXPECT_EQ(mode_of(given), 0700u);
    EXPECT_EQ(dir.socket_uri(), "ipc://" + given + "/cairn.sock");
  }
  EXPECT_TRUE(fs::is_directory(given));
}

TEST_F(StateDirTest, SocketGoesInRunWhenTheStatedirIsNotPrivate) {
  chmod(scratch_.c_str(), 0755);
  StateDir dir(scratch_);
  EXPECT_EQ(dir.socket_uri(), "ipc://" + scratch_ + "/run/cairn.sock");
  EXPECT_EQ(mode_of(scratch_ + "/run"), 0700u);
  EXPECT_EQ(mode_of(scratch_), 0755u);  // a given statedir's mode is left alone
}

TEST_F(StateDirTest, AFileIsNotAStatedir) {
  std::string file = scratch_ + "/file";
  fclose(fopen(file.c_str(), "w"));
  EXPECT_THROW(StateDir dir(file), StartupError);
}

TEST_F(StateDirTest, SocketPathLongerThanSunPathIsRefused) {
  StateDir dir(scratch_ + "/" + std::string(120, 'x'));
  EXPECT_THROW(dir.socket_uri(), StartupError);
}
