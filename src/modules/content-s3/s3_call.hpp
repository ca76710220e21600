// cairn::content::S3Call: one libs3 request's state and the callbacks libs3 calls with it, for
// every caller that drives libs3 (S3Store; content-bench's raw libs3 side, t/perf).
// Invariants: the callbacks run on the thread that drives the request; no exception unwinds
// through libs3 and libcurl (a failed allocation aborts the request: out_of_memory, and
// S3StatusAbortedByCallback); `progress` is the time of the request's last sign of life.
#pragma once

#include <libs3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

namespace cairn::content {

struct S3Call {
  using Clock = std::chrono::steady_clock;
  // The largest Content-Length worth reserving memory for at once: the largest blob there is
  // (content.blob-size-limit is at most 4 GiB - 1).
  static constexpr uint64_t kMaxReserve = 4294967295;

  S3Status status = S3StatusOK;
  std::string message;     // the server's explanation of a failure, if any
  bool timed_out = false;  // no progress for too long (S3Store: s3.timeout)
  bool interrupted = false;
  bool out_of_memory = false;  // the blob did not fit in memory
  Clock::time_point progress;  // the last sign of life
  std::string_view out;        // put: what is still to be sent
  std::string* in = nullptr;   // get: the blob so far

  bool failed() const { return timed_out || interrupted || status != S3StatusOK; }

  // Each callback's `data` is the S3Call.
  static S3Status on_properties(const S3ResponseProperties* p, void* data) {
    auto* call = static_cast<S3Call*>(data);
    call->progress = Clock::now();
    if (call->in && p->contentLength > 0 && p->contentLength <= kMaxReserve) {
      try {
        call->in->reserve(static_cast<size_t>(p->contentLength));
      } catch (const std::bad_alloc&) {
        call->out_of_memory = true;
        return S3StatusAbortedByCallback;
      }
    }
    return S3StatusOK;
  }
  static void on_complete(S3Status status, const S3ErrorDetails* details, void* data) {
    auto* call = static_cast<S3Call*>(data);
    call->status = status;
    if (details && details->message) call->message = details->message;
  }
  static int on_put_data(int size, char* buffer, void* data) {
    auto* call = static_cast<S3Call*>(data);
    size_t n = std::min(static_cast<size_t>(std::max(size, 0)), call->out.size());
    std::memcpy(buffer, call->out.data(), n);
    call->out.remove_prefix(n);
    call->progress = Clock::now();
    return static_cast<int>(n);
  }
  static S3Status on_get_data(int size, const char* buffer, void* data) {
    auto* call = static_cast<S3Call*>(data);
    try {
      call->in->append(buffer, static_cast<size_t>(size));
    } catch (const std::bad_alloc&) {
      call->out_of_memory = true;
      return S3StatusAbortedByCallback;
    }
    call->progress = Clock::now();
    return S3StatusOK;
  }

  static constexpr S3ResponseHandler kResponse = {&on_properties, &on_complete};
  static constexpr S3PutObjectHandler kPut = {kResponse, &on_put_data};
  static constexpr S3GetObjectHandler kGet = {kResponse, &on_get_data};
};

}  // namespace cairn::content
