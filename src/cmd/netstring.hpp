// cairn::cmd::NetstringReader: blobs read one at a time from a stream of netstrings
// (`12:hello world!,`), for `cairn content store --netstrings`. Binary safe: a blob may hold
// newlines and NUL bytes. Invariants: at most one read buffer and the blob being parsed are
// held, never the whole input; offset() counts the bytes of the input consumed so far, so an
// error can say where the input went wrong.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "libutil/result.hpp"

namespace cairn::cmd {

class NetstringReader {
 public:
  // Reads from `fd` (not owned; it must outlive the reader). `max_length` bounds the length a
  // netstring may announce, so a corrupt length fails at once instead of exhausting memory.
  explicit NetstringReader(int fd, uint64_t max_length = kDefaultMaxLength);

  // The longest netstring accepted by default: 4 GiB (beyond any content.blob-size-limit).
  static constexpr uint64_t kDefaultMaxLength = uint64_t{1} << 32;

  // Reads the next netstring's bytes into `blob`. Returns true, or false at a clean end of
  // input (end of file after a netstring, or after newlines, '\n' or '\r', that follow the
  // last one; a newline followed by anything else is malformed). Malformed input is EPROTO
  // with text such as
  // "at byte offset 15: expected ',' after the 12-byte blob, got 'x'"; a failed read() is its
  // errno with "read: <strerror>". After an error the reader is not to be used again.
  util::Result<bool> next(std::string& blob);

  // Bytes of input consumed: the offset of the next netstring after a successful next().
  uint64_t offset() const { return offset_; }

 private:
  // Makes at least one unread byte available; false at end of file, or an Error.
  util::Result<bool> fill();
  util::Error malformed(const std::string& what) const;

  int fd_;
  uint64_t max_length_;
  uint64_t offset_ = 0;  // of buffer_[pos_] in the input
  std::unique_ptr<char[]> buffer_;
  size_t pos_ = 0, end_ = 0;  // unread bytes: buffer_[pos_, end_)
};

}  // namespace cairn::cmd
