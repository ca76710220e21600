// Unit tests of `cairn content`'s bulk helpers: the netstring reader (blobs in order, binary
// safe, streamed across read buffers; each malformed input named with its byte offset) and the
// progress line's text.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "cmd/netstring.hpp"
#include "cmd/progress.hpp"
#include "libutil/fd.hpp"

namespace cairn::cmd {
namespace {

using namespace std::string_literals;

// A file holding `input`, read from its start.
util::UniqueFd input_fd(const std::string& input) {
  util::UniqueFd fd(::memfd_create("netstrings", MFD_CLOEXEC));
  EXPECT_TRUE(fd);
  EXPECT_EQ(::write(fd.get(), input.data(), input.size()), static_cast<ssize_t>(input.size()));
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
  return fd;
}

// Every blob of `input`; `error` gets the text of the error that ended it, if any.
std::vector<std::string> read_all(const std::string& input, std::string* error = nullptr,
                                  uint64_t max_length = NetstringReader::kDefaultMaxLength) {
  util::UniqueFd fd = input_fd(input);
  NetstringReader reader(fd.get(), max_length);
  std::vector<std::string> blobs;
  for (std::string blob;;) {
    auto more = reader.next(blob);
    if (!more) {
      EXPECT_EQ(more.error().errnum, EPROTO);
      if (error) *error = more.error().text;
      break;
    }
    if (!*more) break;
    blobs.push_back(blob);
  }
  return blobs;
}

std::string error_of(const std::string& input) {
  std::string error;
  read_all(input, &error);
  return error;
}

TEST(NetstringReader, ReadsBlobsInOrderWithNewlinesNulBytesAndEmptyOnes) {
  std::string error;
  auto blobs = read_all("12:hello world!,0:,3:a\nb,4:\0\n\0\n,"s, &error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(blobs.size(), 4u);
  EXPECT_EQ(blobs[0], "hello world!");
  EXPECT_EQ(blobs[1], "");
  EXPECT_EQ(blobs[2], "a\nb");
  EXPECT_EQ(blobs[3], "\0\n\0\n"s);
}

TEST(NetstringReader, EmptyInputHasNoBlobs) {
  std::string error;
  EXPECT_TRUE(read_all("", &error).empty());
  EXPECT_EQ(error, "");
}

TEST(NetstringReader, BlobsSpanningReadBuffersComeWhole) {
  std::string big(200000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>(i);
  std::string input;
  for (int i = 0; i < 3; ++i) input += std::to_string(big.size()) + ":" + big + ",";
  input += "1:z,";
  auto blobs = read_all(input);
  ASSERT_EQ(blobs.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(blobs[i], big);
  EXPECT_EQ(blobs[3], "z");
}

TEST(NetstringReader, OffsetIsWhereTheNextNetstringStarts) {
  util::UniqueFd fd = input_fd("3:abc,10:0123456789,");
  NetstringReader reader(fd.get());
  std::string blob;
  EXPECT_EQ(reader.offset(), 0u);
  ASSERT_TRUE(reader.next(blob).ok());
  EXPECT_EQ(reader.offset(), 6u);
  ASSERT_TRUE(reader.next(blob).ok());
  EXPECT_EQ(reader.offset(), 20u);
}

TEST(NetstringReader, MalformedInputSaysAtWhichByteAndWhatWasExpected) {
  EXPECT_EQ(error_of("hello"),
            "at byte offset 0: expected the length of a netstring (decimal digits, as in "
            "5:hello,), got 'h'");
  EXPECT_EQ(error_of("5:hello!"), "at byte offset 7: expected ',' after the 5-byte blob, got '!'");
  EXPECT_EQ(error_of("5:hello"),
            "at byte offset 7: input ends where ',' after the 5-byte blob was expected");
  EXPECT_EQ(error_of("5:hel"),
            "at byte offset 5: input ends inside the 5-byte blob that starts at byte offset 2 "
            "(2 bytes missing)");
  EXPECT_EQ(error_of("5:hell"),
            "at byte offset 6: input ends inside the 5-byte blob that starts at byte offset 2 "
            "(1 byte missing)");
  EXPECT_EQ(error_of("12"), "at byte offset 2: input ends inside the length of a netstring");
  EXPECT_EQ(error_of("1x:a,"),
            "at byte offset 1: expected a digit or ':' after the length's "
            "digits, got 'x'");
  EXPECT_EQ(error_of("05:hello,"),
            "at byte offset 1: expected ':' after the length 0 (a length "
            "has no leading zeros), got '5'");
  EXPECT_EQ(error_of("2:\0\0\x01"s),
            "at byte offset 4: expected ',' after the 2-byte blob, got '\\x01'");
}

TEST(NetstringReader, NewlinesAfterTheLastNetstringEndTheInput) {
  for (std::string end : {"\n", "\n\n", "\r\n"}) {
    std::string error;
    EXPECT_EQ(read_all("3:abc,1:d," + end, &error), (std::vector<std::string>{"abc", "d"}));
    EXPECT_EQ(error, "") << "ending " << testing::PrintToString(end);
  }
  std::string error;
  EXPECT_TRUE(read_all("\n", &error).empty());
  EXPECT_EQ(error, "");
}

TEST(NetstringReader, ANewlineFollowedByMoreIsMalformedAtTheNewline) {
  const std::string expected =
      "at byte offset 6: expected the length of a netstring (decimal digits, as in 5:hello,), "
      "got '\\n' (newlines may only end the input, after the last netstring)";
  std::string error;
  EXPECT_EQ(read_all("3:abc,\n1:d,", &error), (std::vector<std::string>{"abc"}));
  EXPECT_EQ(error, expected);
  EXPECT_EQ(error_of("3:abc,\n\nx"), expected);
  EXPECT_EQ(error_of("3:abc,\n "), expected);
}

TEST(NetstringReader, BlobsBeforeAnErrorAreRead) {
  std::string error;
  auto blobs = read_all("1:a,1:b,x", &error);
  EXPECT_EQ(blobs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(error.rfind("at byte offset 8: ", 0), 0u) << error;
}

TEST(NetstringReader, ALengthOverTheBoundIsRefusedBeforeItsBytesAreRead) {
  std::string error;
  read_all("1001:", &error, 1000);
  EXPECT_EQ(error, "at byte offset 3: the length is larger than 1000 bytes");
  read_all("99999999999999999999999:", &error);
  EXPECT_EQ(error, "at byte offset 9: the length is larger than 4294967296 bytes");
}

TEST(ProgressText, CountsBlobsAndMebibytes) {
  EXPECT_EQ(progress_text("stored", 12000, 12268340), "stored 12000 blobs (11.7 MiB)");
  EXPECT_EQ(progress_text("loaded", 1, 1024), "loaded 1 blob (0.0 MiB)");
  EXPECT_EQ(progress_text("stored", 0, 0), "stored 0 blobs (0.0 MiB)");
}

}  // namespace
}  // namespace cairn::cmd
