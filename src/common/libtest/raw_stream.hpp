// RawStreamClient: the raw client of the benchmarks' local:// comparisons. It speaks the stream
// framing of doc/protocol.md (a u32 little-endian length, then one batch frame) with plain
// write() and read() on a Unix stream socket and nothing more: no match tags, no decoding.
// send() writes one frame in one system call. queue() corks as libclient does: the messages
// queued leave as one batch frame when recv_message() has nothing received to return (or on
// flush()). recv_message() returns once one more message (one entry of a batch frame) has
// arrived. It talks to raw-echo's unix: socket, which sends each frame back as it came, or to a
// broker's local:// socket, which may answer several requests with one batch. Every wait is
// bounded by RawEcho::kTimeoutMs (connect_unix_stream); a failure throws std::runtime_error
// saying what failed.
#pragma once

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "libmsg/stream.hpp"
#include "libtest/raw_echo.hpp"
#include "libutil/fd.hpp"

namespace cairn::test {

class RawStreamClient {
 public:
  explicit RawStreamClient(util::UniqueFd fd) : fd_(std::move(fd)), in_(1 << 16, '\0') {}

  // The bytes of one message in a batch (its 16-byte header, lengths, topic, payload): a batch
  // frame of one message without the frame's 8-byte batch header.
  static std::string_view entry_of(std::string_view batch_of_one) {
    return batch_of_one.substr(kBatchHeaderBytes);
  }

  // Adds `entry` (entry_of()) to the batch that leaves at the next flush().
  void queue(std::string_view entry) {
    if (out_.empty()) out_.assign(kBatchHeaderBytes, '\0');
    out_.append(entry);
    queued_++;
  }

  // Sends the queued messages, if any, as one batch frame.
  void flush() {
    if (queued_ == 0) return;
    out_[0] = 1;                                             // version
    out_[1] = 3;                                             // type: batch
    std::memcpy(out_.data() + 4, &queued_, sizeof queued_);  // little-endian, as the host
    send(out_);
    out_.clear();
    queued_ = 0;
  }

  // Writes `frame` (a batch frame) behind its length prefix, in one writev when it can.
  void send(std::string_view frame) {
    char prefix[msg::kStreamPrefixBytes];
    msg::encode_stream_prefix(static_cast<uint32_t>(frame.size()), prefix);
    iovec iov[2] = {{prefix, sizeof prefix}, {const_cast<char*>(frame.data()), frame.size()}};
    size_t left = sizeof prefix + frame.size();
    int first = 0;
    while (left > 0) {
      ssize_t n = ::writev(fd_.get(), iov + first, 2 - first);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("send a frame", n);
      left -= static_cast<size_t>(n);
      for (auto done = static_cast<size_t>(n); done > 0;) {  // skip what was written
        size_t step = std::min(done, iov[first].iov_len);
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + step;
        iov[first].iov_len -= step;
        done -= step;
        if (iov[first].iov_len == 0 && first < 1) first++;
      }
    }
  }

  // The next whole frame (without its prefix); valid until the next receive.
  std::string_view recv_frame() {
    for (;;) {
      size_t have = end_ - begin_;
      if (have >= msg::kStreamPrefixBytes) {
        uint32_t len = 0;
        for (size_t i = 0; i < msg::kStreamPrefixBytes; i++)
          len |= static_cast<uint32_t>(static_cast<unsigned char>(in_[begin_ + i])) << (8 * i);
        size_t whole = msg::kStreamPrefixBytes + len;
        if (have >= whole) {
          std::string_view frame(in_.data() + begin_ + msg::kStreamPrefixBytes, len);
          begin_ += whole;
          return frame;
        }
        if (in_.size() < whole) in_.resize(whole);
      }
      if (begin_ > 0) {  // make room at the end: the unfinished frame moves to the front
        std::memmove(in_.data(), in_.data() + begin_, have);
        begin_ = 0;
        end_ = have;
      }
      ssize_t n = ::read(fd_.get(), in_.data() + end_, in_.size() - end_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("receive", n);
      end_ += static_cast<size_t>(n);
    }
  }

  // Waits for one more message: the next entry of the batch received last, or the first of the
  // next frame; before it has to wait, it flushes the queue. (Only the batch header's count is
  // read: the entries are not decoded.)
  void recv_message() {
    if (left_in_batch_ > 0) {
      left_in_batch_--;
      return;
    }
    if (!frame_received()) flush();
    std::string_view frame = recv_frame();
    uint32_t count = 0;
    if (frame.size() >= kBatchHeaderBytes)
      std::memcpy(&count, frame.data() + 4, sizeof count);  // little-endian
    if (count == 0)
      throw std::runtime_error("raw stream client: received a frame that is no batch");
    left_in_batch_ = count - 1;
  }

 private:
  static constexpr size_t kBatchHeaderBytes = 8;

  // A whole frame has been received and not yet handed out.
  bool frame_received() const {
    size_t have = end_ - begin_;
    if (have < msg::kStreamPrefixBytes) return false;
    uint32_t len = 0;
    std::memcpy(&len, in_.data() + begin_, sizeof len);  // little-endian, as the host
    return have - msg::kStreamPrefixBytes >= len;
  }

  [[noreturn]] void fail(const char* what, ssize_t n) const {
    throw std::runtime_error(std::string("raw stream client: cannot ") + what + ": " +
                             (n < 0 ? std::strerror(errno) : "the peer closed the connection"));
  }

  util::UniqueFd fd_;
  std::string in_;  // received bytes: [begin_, end_) not yet handed out
  size_t begin_ = 0, end_ = 0;
  uint32_t left_in_batch_ = 0;
  std::string out_;  // the queued batch: header (count patched at flush) and entries
  uint32_t queued_ = 0;
};

}  // namespace cairn::test
