// Batch frames (see batch.hpp for the layout). The reader checks the framing of the whole
// frame before handing out its first entry, so a truncated or padded batch is refused as one;
// each entry's own header and topic are then checked as a single message's are.
#include "libmsg/batch.hpp"

#include <cerrno>
#include <cstring>

#include "libmsg/wire.hpp"

namespace cairn::msg {

namespace {

util::Error malformed(std::string why) { return util::Error{EPROTO, "batch: " + std::move(why)}; }

}  // namespace

void BatchWriter::add(const Message& fields, std::string_view topic, std::string_view payload) {
  size_t at = frame_.size();
  frame_.resize(at + kBatchEntryBytes + topic.size() + payload.size());
  char* out = frame_.data() + at;
  char header[kHeaderBytes];
  encode_header(fields, header);
  std::memcpy(out, header, kHeaderBytes);
  wire::put_u32(out + kHeaderBytes, static_cast<uint32_t>(topic.size()));
  wire::put_u32(out + kHeaderBytes + 4, static_cast<uint32_t>(payload.size()));
  out += kBatchEntryBytes;
  if (!topic.empty()) std::memcpy(out, topic.data(), topic.size());
  if (!payload.empty()) std::memcpy(out + topic.size(), payload.data(), payload.size());
  ++count_;
}

std::string& BatchWriter::frame() {
  wire::put_u32(frame_.data() + 4, count_);
  return frame_;
}

void BatchWriter::clear() {
  frame_.assign(kBatchHeaderBytes, '\0');
  frame_[0] = static_cast<char>(wire::kVersion);
  frame_[1] = static_cast<char>(wire::kBatchType);
  count_ = 0;
}

bool looks_like_batch(std::string_view frame) {
  return frame.size() >= 2 && static_cast<uint8_t>(frame[0]) == wire::kVersion &&
         static_cast<uint8_t>(frame[1]) == wire::kBatchType;
}

util::Result<BatchReader> BatchReader::open(std::string_view frame) {
  if (frame.size() < kBatchHeaderBytes)
    return malformed("header is " + std::to_string(frame.size()) + " bytes, expected 8");
  if (!looks_like_batch(frame)) return malformed("not a batch header");
  if (frame[2] != 0 || frame[3] != 0) return malformed("reserved header bytes are not zero");
  uint32_t count = wire::get_u32(frame, 4);
  if (count == 0) return malformed("carries no message");
  if (count > kMaxBatchCount) {
    return malformed("carries " + std::to_string(count) + " messages, at most " +
                     std::to_string(kMaxBatchCount) + " allowed");
  }
  size_t at = kBatchHeaderBytes;
  for (uint32_t i = 0; i < count; ++i) {
    size_t left = frame.size() - at;
    if (left < kBatchEntryBytes) {
      return malformed("message " + std::to_string(i + 1) + " of " + std::to_string(count) +
                       " is cut short");
    }
    uint64_t body = uint64_t{wire::get_u32(frame, at + kHeaderBytes)} +
                    wire::get_u32(frame, at + kHeaderBytes + 4);
    if (body > left - kBatchEntryBytes) {
      return malformed("message " + std::to_string(i + 1) + " of " + std::to_string(count) +
                       " runs past the end of the batch");
    }
    at += kBatchEntryBytes + body;
  }
  if (at != frame.size()) {
    return malformed(std::to_string(frame.size() - at) + " bytes after the last of " +
                     std::to_string(count) + " messages");
  }
  return BatchReader(frame, count);
}

util::Status BatchReader::next_view(Message& fields, std::string_view& topic,
                                    std::string_view& payload) {
  // open() has checked every length: no bounds check is needed here.
  std::string_view header = frame_.substr(at_, kHeaderBytes);
  size_t topic_len = wire::get_u32(frame_, at_ + kHeaderBytes);
  size_t payload_len = wire::get_u32(frame_, at_ + kHeaderBytes + 4);
  topic = frame_.substr(at_ + kBatchEntryBytes, topic_len);
  payload = frame_.substr(at_ + kBatchEntryBytes + topic_len, payload_len);
  at_ += kBatchEntryBytes + topic_len + payload_len;
  ++index_;
  return decode_fields(header, topic, fields);
}

util::Status BatchReader::next(Message& into) {
  std::string_view topic, payload;
  util::Status status = next_view(into, topic, payload);
  if (status) {
    into.topic.assign(topic);
    into.payload.assign(payload);
  }
  return status;
}

}  // namespace cairn::msg
