// libcairn's objects behind the opaque C types of <cairn/client.h>: a handle owns one
// cairn::client::Client and knows every future made on it; a future holds one request's answer.
// Invariants: every live future is on its handle's futures_ list (until the handle closes, which
// sets each one's handle_ to null); a future is in waiting_ (by match tag) from its request until
// its answer is delivered, it is destroyed, or the handle closes; a fulfilled future whose
// continuation has not run yet is on runnable_ exactly once (destroying it nulls its slot).
// Answers to tags not in waiting_ (destroyed futures) are dropped. Nothing here throws through
// the C functions: client_c.cpp catches at the boundary.
#pragma once

#include <cairn/client.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "libclient/client.hpp"

// One request's future (see cairn_future_then(3)).
struct cairn_future {
  enum class Kind { kStore, kLoad, kFlush, kRpc, kMissing };

  cairn_future(cairn_handle* h, Kind kind, uint32_t matchtag)
      : handle_(h), kind_(kind), matchtag_(matchtag) {}

  // Waits for the answer if need be: 0 once it is a success, else -1 with errno set and the
  // failure's text in error_ (the broker's, or the library's for a timeout or a closed handle).
  int settle();
  // Records a failure for cairn_future_error() and sets errno: returns -1.
  int fail(int errnum, const std::string& text);

  cairn_handle* handle_;  // null once the handle is closed
  Kind kind_;
  uint32_t matchtag_;
  bool fulfilled_ = false;
  int errnum_ = 0;       // of the answer: 0 for success
  std::string payload_;  // the answer's payload, or its error text
  std::string error_;    // the text of the last failure a _get reported
  // cairn_content_missing_get(): the answer's lines, split in place (NUL for each newline) the
  // first time it is asked for, and pointers to them.
  std::vector<const char*> lines_;
  bool split_ = false;
  bool has_error_ = false;
  cairn_continuation_f then_ = nullptr;
  void* then_arg_ = nullptr;
  bool runnable_ = false;         // on the handle's runnable_ queue
  cairn_future* prev_ = nullptr;  // the handle's list of live futures
  cairn_future* next_ = nullptr;
};

// One connection and the futures made on it (see cairn_open(3)).
struct cairn_handle {
  explicit cairn_handle(cairn::client::Client c) : client_(std::move(c)) {}
  ~cairn_handle();
  cairn_handle(const cairn_handle&) = delete;
  cairn_handle& operator=(const cairn_handle&) = delete;

  // Queues a request and returns its future, or null with errno set.
  cairn_future* request(cairn_future::Kind kind, std::string_view topic, std::string_view payload);
  // Waits (at most the client's timeout) until `f` is answered: 0, or -1 with errno set and
  // f's error text (a timeout or a failed receive; the future stays pending).
  int wait(cairn_future* f);
  // Registers f's continuation; queues it at once if f is already answered.
  void then(cairn_future* f, cairn_continuation_f cb, void* arg);
  // Forgets `f` (its late answer is dropped); the caller then frees it.
  void forget(cairn_future* f);
  int pollfd() const;
  int pollevents();
  int dispatch();
  // How long wait() waits; negative: no limit.
  void set_timeout(std::chrono::milliseconds t) { client_.set_timeout(t); }

 private:
  // Hands a received answer to its future, if one still waits for it.
  void deliver(cairn::client::Response r);
  // Takes in every answer the client has without waiting: 0, or -1 with errno.
  int take_ready();
  void queue_runnable(cairn_future* f);

  cairn::client::Client client_;
  std::unordered_map<uint32_t, cairn_future*> waiting_;
  std::deque<cairn_future*> runnable_;
  cairn_future* futures_ = nullptr;  // head of the list of live futures
};
