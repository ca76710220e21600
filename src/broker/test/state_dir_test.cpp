// Unit tests for StateDir: a temporary statedir is removed and a given one kept, one broker at a
// time holds a statedir's lock, the local:// socket goes in a directory of mode 0700 that is ours,
// and a socket path too long for sun_path is refused.
#include "broker/state_dir.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
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

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The message of the StartupError that constructing a StateDir on `given` throws, or "".
std::string refusal(const std::string& given) {
  try {
    StateDir dir(given);
  } catch (const StartupError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_F(StateDirTest, TemporaryStatedirIsRemovedOnDestruction) {
  std::string path;
  {
    StateDir dir(std::nullopt);
    path = dir.path();
    EXPECT_TRUE(fs::is_directory(path));
    EXPECT_EQ(dir.socket_uri(), "local://" + path + "/cairn.sock");
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(StateDirTest, GivenStatedirIsCreatedMode0700AndKept) {
  std::string given = scratch_ + "/a/b";
  {
    StateDir dir(given);
    EXPECT_EQ(dir.path(), given);
    EXPECT_EQ(mode_of(given), 0700u);
    EXPECT_EQ(dir.socket_uri(), "local://" + given + "/cairn.sock");
  }
  EXPECT_TRUE(fs::is_directory(given));
}

TEST_F(StateDirTest, SocketGoesInRunWhenTheStatedirIsNotPrivate) {
  chmod(scratch_.c_str(), 0755);
  StateDir dir(scratch_);
  EXPECT_EQ(dir.socket_uri(), "local://" + scratch_ + "/run/cairn.sock");
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

TEST_F(StateDirTest, LockFileHoldsThePidWhileTheStatedirIsInUse) {
  {
    StateDir dir(scratch_);
    EXPECT_EQ(read_file(scratch_ + "/cairn.lock"), std::to_string(getpid()) + "\n");
  }
  EXPECT_EQ(read_file(scratch_ + "/cairn.lock"), "");
}

TEST_F(StateDirTest, SecondStateDirOnTheSameDirIsRefusedNamingTheHolder) {
  std::string why;
  {
    StateDir first(scratch_);
    why = refusal(scratch_);
    EXPECT_NE(why.find("statedir: " + scratch_ + " is in use by another broker (pid " +
                       std::to_string(getpid()) + ", which holds " + scratch_ + "/cairn.lock)"),
              std::string::npos)
        << why;
    EXPECT_NE(why.find("give this one a --statedir of its own"), std::string::npos) << why;
    // The refused one changed nothing: the holder's pid is still there.
    EXPECT_EQ(read_file(scratch_ + "/cairn.lock"), std::to_string(getpid()) + "\n");
  }
  EXPECT_EQ(refusal(scratch_), "");  // released with the first
}

TEST_F(StateDirTest, TemporaryStatedirIsLockedToo) {
  StateDir dir(std::nullopt);
  EXPECT_NE(refusal(dir.path()).find("is in use by another broker"), std::string::npos);
}

TEST_F(StateDirTest, ExistingRunDirectoryOfOursIsMadePrivate) {
  chmod(scratch_.c_str(), 0755);
  ASSERT_EQ(mkdir((scratch_ + "/run").c_str(), 0777), 0);
  chmod((scratch_ + "/run").c_str(), 0777);
  StateDir dir(scratch_);
  EXPECT_EQ(mode_of(scratch_ + "/run"), 0700u);
}

TEST_F(StateDirTest, RunThatIsASymlinkIsRefused) {
  chmod(scratch_.c_str(), 0755);
  ASSERT_EQ(mkdir((scratch_ + "/elsewhere").c_str(), 0700), 0);
  ASSERT_EQ(symlink("elsewhere", (scratch_ + "/run").c_str()), 0);
  std::string why = refusal(scratch_);
  EXPECT_NE(why.find(scratch_ + "/run (the socket's directory) is not a directory"),
            std::string::npos)
      << why;
}

TEST_F(StateDirTest, RunOwnedByAnotherUserIsRefusedAndLeftAlone) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give run/ to another user";
  chmod(scratch_.c_str(), 0755);
  std::string run = scratch_ + "/run";
  ASSERT_EQ(mkdir(run.c_str(), 0755), 0);
  ASSERT_EQ(chown(run.c_str(), 65534, 65534), 0);
  std::string why = refusal(scratch_);
  EXPECT_NE(why.find("statedir: " + run + " (the socket's directory) is owned by uid 65534"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("not by uid 0"), std::string::npos) << why;
  EXPECT_NE(why.find("remove it (rm -r " + run + ")"), std::string::npos) << why;
  EXPECT_EQ(mode_of(run), 0755u);  // not chmod-ed on the way
}
