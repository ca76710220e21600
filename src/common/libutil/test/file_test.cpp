// File helpers: write_all writes everything through a pipe smaller than the data, read_all
// reads everything from a pipe and from the rest of a file, make_dir creates once and accepts
// what exists, and each failure is the errno.
#include "libutil/file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

#include "libtest/temp_dir.hpp"
#include "libutil/fd.hpp"

namespace cairn::util {
namespace {

TEST(File, WriteAllWritesEverythingThroughShortWrites) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  std::string data(1 << 20, 'x');  // a pipe holds 64 KiB: the writer sees short writes
  for (size_t i = 0; i < data.size(); i += 4097) data[i] = static_cast<char>('a' + i % 26);
  std::string got;
  std::thread reader([&] {
    char buf[8192];
    ssize_t n;
    while ((n = ::read(rd.get(), buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  });
  EXPECT_EQ(write_all(wr.get(), data), 0);
  wr.reset();
  reader.join();
  EXPECT_EQ(got, data);
}

TEST(File, WriteAllReportsTheErrno) { EXPECT_EQ(write_all(-1, "x"), EBADF); }

// Bytes that differ from block to block and within one, so a block dropped, repeated or
// reordered shows.
std::string patterned(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + i / 65536) & 0xff);
  return data;
}

TEST(File, ReadAllReadsAPipeToItsEndAfterWhatDataHeld) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);
  const std::string data = patterned(3 * kReadBlockSize + 12345);  // several short reads
  std::thread writer([&] {
    EXPECT_EQ(write_all(wr.get(), data), 0);
    wr.reset();
  });
  std::string got = "kept:";
  EXPECT_EQ(read_all(rd.get(), got), 0);
  writer.join();
  EXPECT_EQ(got, "kept:" + data);
}

TEST(File, ReadAllReadsAFileFromItsOffset) {
  test::TempDir dir;
  const std::string path = dir.file("blob");
  const std::string data = patterned(2 * kReadBlockSize + 7);
  {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd);
    ASSERT_EQ(write_all(fd.get(), data), 0);
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::lseek(fd.get(), 5, SEEK_SET), 5);
  std::string got;
  EXPECT_EQ(read_all(fd.get(), got), 0);
  EXPECT_EQ(got, data.substr(5));
}

TEST(File, ReadAllReportsTheErrno) {
  std::string got;
  EXPECT_EQ(read_all(-1, got), EBADF);
  test::TempDir dir;
  UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_EQ(read_all(fd.get(), got), EISDIR);
  EXPECT_TRUE(got.empty());
}

TEST(File, MakeDirCreatesOnceAndAcceptsAnExistingDirectory) {
  test::TempDir dir;
  std::string d = dir.file("sub");
  EXPECT_EQ(make_dir(d), 0);
  struct stat st;
  ASSERT_EQ(stat(d.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(make_dir(d), 0);
  EXPECT_EQ(make_dir(dir.file("missing/sub")), ENOENT);
}

TEST(File, FsyncDirOfAMissingDirectoryIsEnoent) {
  test::TempDir dir;
  EXPECT_EQ(fsync_dir(dir.path()), 0);
  EXPECT_EQ(fsync_dir(dir.file("missing")), ENOENT);
}

}  // namespace
}  // namespace cairn::util
