// The netstring reader of `cairn content store --netstrings` (see netstring.hpp). The grammar is
// D. J. Bernstein's: LENGTH ":" BYTES "," where LENGTH is decimal digits without leading zeros
// ("0:," is the empty blob). Nothing may come between two netstrings; newlines may end the
// input after the last one, since most editors end a file with one.
#include "cmd/netstring.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cairn::cmd {

namespace {

constexpr size_t kBufferSize = 64 * 1024;
// Room reserved ahead for a blob: enough for most in one step, bounded so that a false length
// does not reserve gigabytes before its bytes arrive.
constexpr uint64_t kMaxReserve = 1 << 20;

// A byte for an error message: 'x' if printable, else a C escape such as '\n' or '\x00'.
std::string describe(char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char u = static_cast<unsigned char>(c);
  if (c == '\n') return "'\\n'";
  if (c == '\r') return "'\\r'";
  if (c == '\t') return "'\\t'";
  if (u >= ' ' && u < 0x7f) return std::string("'") + c + "'";
  return std::string("'\\x") + kHex[u >> 4] + kHex[u & 15] + "'";
}

// "1 byte", "2 bytes".
std::string bytes(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

}  // namespace

NetstringReader::NetstringReader(int fd, uint64_t max_length)
    : fd_(fd), max_length_(max_length), buffer_(std::make_unique<char[]>(kBufferSize)) {}

util::Result<bool> NetstringReader::fill() {
  if (pos_ < end_) return true;
  for (;;) {
    ssize_t n = ::read(fd_, buffer_.get(), kBufferSize);
    if (n >= 0) {
      pos_ = 0;
      end_ = static_cast<size_t>(n);
      return n > 0;
    }
    if (errno != EINTR) return util::Error{errno, std::string("read: ") + std::strerror(errno)};
  }
}

util::Error NetstringReader::malformed(const std::string& what) const {
  return util::Error{EPROTO, "at byte offset " + std::to_string(offset_) + ": " + what};
}

util::Result<bool> NetstringReader::next(std::string& blob) {
  blob.clear();
  // LENGTH: digits up to ':'.
  auto more = fill();
  if (!more) return more.error();
  if (!*more) return false;  // a clean end, between two netstrings
  char c = buffer_[pos_];
  if (c == '\n' || c == '\r') {
    // Newlines end the input cleanly if nothing else follows them.
    const uint64_t at = offset_;
    do {
      ++pos_;
      ++offset_;
      more = fill();
      if (!more) return more.error();
    } while (*more && (buffer_[pos_] == '\n' || buffer_[pos_] == '\r'));
    if (!*more) return false;
    return util::Error{EPROTO, "at byte offset " + std::to_string(at) +
                                   ": expected the length of a netstring (decimal digits, as in "
                                   "5:hello,), got " +
                                   describe(c) +
                                   " (newlines may only end the input, after the last netstring)"};
  }
  if (c < '0' || c > '9')
    return malformed("expected the length of a netstring (decimal digits, as in 5:hello,), got " +
                     describe(c));
  uint64_t length = 0;
  size_t digits = 0;
  for (;;) {
    more = fill();
    if (!more) return more.error();
    if (!*more) return malformed("input ends inside the length of a netstring");
    c = buffer_[pos_];
    if (c == ':' && digits > 0) break;
    if (c < '0' || c > '9')
      return malformed("expected a digit or ':' after the length's digits, got " + describe(c));
    if (digits == 1 && length == 0)
      return malformed("expected ':' after the length 0 (a length has no leading zeros), got " +
                       describe(c));
    length = length * 10 + static_cast<uint64_t>(c - '0');
    if (length > max_length_)
      return malformed("the length is larger than " + std::to_string(max_length_) + " bytes");
    ++digits;
    ++pos_;
    ++offset_;
  }
  ++pos_;  // the ':'
  ++offset_;
  // BYTES.
  const uint64_t start = offset_;
  blob.reserve(static_cast<size_t>(std::min(length, kMaxReserve)));
  while (blob.size() < length) {
    more = fill();
    if (!more) return more.error();
    if (!*more)
      return malformed("input ends inside the " + std::to_string(length) +
                       "-byte blob that starts at byte offset " + std::to_string(start) + " (" +
                       bytes(length - blob.size()) + " missing)");
    size_t take = static_cast<size_t>(std::min<uint64_t>(end_ - pos_, length - blob.size()));
    blob.append(buffer_.get() + pos_, take);
    pos_ += take;
    offset_ += take;
  }
  // ",".
  more = fill();
  if (!more) return more.error();
  const std::string after = "after the " + std::to_string(length) + "-byte blob";
  if (!*more) return malformed("input ends where ',' " + after + " was expected");
  if (buffer_[pos_] != ',')
    return malformed("expected ',' " + after + ", got " + describe(buffer_[pos_]));
  ++pos_;
  ++offset_;
  return true;
}

}  // namespace cairn::cmd
