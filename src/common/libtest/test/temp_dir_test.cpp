// TempDir: a private directory that exists for the test's length and goes, with everything in
// it, afterwards, even when the test took permissions away inside it.
#include "libtest/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace cairn::test {
namespace {

namespace fs = std::filesystem;

TEST(TempDir, IsAPrivateDirectoryNamedAsAsked) {
  std::string path;
  {
    TempDir dir("cairn-tempdir-test");
    path = dir.path();
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(fs::path(path).filename().string().rfind("cairn-tempdir-test-", 0), 0u) << path;
    EXPECT_EQ(fs::path(path).parent_path(), fs::temp_directory_path());
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(TempDir, GoesWithEverythingInsideEvenUnreadable) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    EXPECT_EQ(dir.write("a.txt", "hello"), dir.file("a.txt"));
    std::ifstream in(dir.file("a.txt"));
    std::string text;
    std::getline(in, text);
    EXPECT_EQ(text, "hello");
    fs::create_directories(dir.file("sub/deeper"));
    dir.write("sub/deeper/b", "x");
    fs::permissions(dir.file("sub"), fs::perms::owner_read, fs::perm_options::replace);
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(TempDir, GivenParentIsUsed) {
  TempDir outer;
  TempDir inner("inner", outer.path());
  EXPECT_EQ(fs::path(inner.path()).parent_path(), fs::path(outer.path()));
}

TEST(TempDir, MissingParentThrowsAndSaysWhy) {
  try {
    TempDir dir("x", "/nonexistent-cairn-parent");
    FAIL() << "made " << dir.path();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cairn::test
