// libcairn's handle: requests go out through one cairn::client::Client (which batches what is
// queued until the next wait), answers come back through Client::recv and are delivered to
// their futures by match tag; continuations run only from dispatch(). See handle.hpp for the
// invariants.
#include "libcairn/handle.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

using cairn::client::Response;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

const char kClosedText[] =
    "the handle was closed before the answer came (cairn_close): open a new one and ask again";

}  // namespace

cairn_handle::~cairn_handle() {
  for (cairn_future* f = futures_; f;) {
    cairn_future* next = f->next_;
    f->handle_ = nullptr;
    f->prev_ = f->next_ = nullptr;
    f->runnable_ = false;
    f = next;
  }
}

cairn_future* cairn_handle::request(cairn_future::Kind kind, std::string_view topic,
                                    std::string_view payload) {
  uint32_t tag = client_.send(topic, payload);
  if (tag == 0) {
    if (errno == 0) errno = EIO;
    return nullptr;
  }
  auto f = std::make_unique<cairn_future>(this, kind, tag);
  waiting_.emplace(tag, f.get());
  f->next_ = futures_;
  if (futures_) futures_->prev_ = f.get();
  futures_ = f.get();
  return f.release();  // owned by the C caller until cairn_future_destroy
}

void cairn_handle::forget(cairn_future* f) {
  if (!f->fulfilled_) waiting_.erase(f->matchtag_);
  if (f->runnable_)
    std::replace(runnable_.begin(), runnable_.end(), f, static_cast<cairn_future*>(nullptr));
  if (f->prev_) f->prev_->next_ = f->next_;
  if (f->next_) f->next_->prev_ = f->prev_;
  if (futures_ == f) futures_ = f->next_;
  f->handle_ = nullptr;
}

void cairn_handle::queue_runnable(cairn_future* f) {
  if (f->runnable_) return;
  f->runnable_ = true;
  runnable_.push_back(f);
}

void cairn_handle::deliver(Response r) {
  auto it = waiting_.find(r.matchtag);
  if (it == waiting_.end()) return;  // its future was destroyed: drop
  cairn_future* f = it->second;
  waiting_.erase(it);
  f->fulfilled_ = true;
  f->errnum_ = r.errnum;
  f->payload_ = r.ok() ? std::move(r.payload) : r.error_text();
  if (f->then_) queue_runnable(f);
}

int cairn_handle::wait(cairn_future* f) {
  const milliseconds timeout = client_.timeout();
  const auto deadline = Clock::now() + timeout;
  while (!f->fulfilled_) {
    milliseconds left = timeout;
    if (timeout.count() >= 0)
      left = std::max(milliseconds(0),
                      std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
    Response r = client_.recv(left);
    if (r.matchtag == 0 && !r.ok()) return f->fail(r.errnum, r.error_text());
    deliver(std::move(r));
  }
  return 0;
}

int cairn_future::fail(int errnum, const std::string& text) {
  error_ = text;
  has_error_ = true;
  errno = errnum;
  return -1;
}

int cairn_future::settle() {
  if (!fulfilled_) {
    if (!handle_) return fail(ENOTCONN, kClosedText);
    if (handle_->wait(this) < 0) return -1;
  }
  if (errnum_ != 0) return fail(errnum_, payload_);
  return 0;
}

void cairn_handle::then(cairn_future* f, cairn_continuation_f cb, void* arg) {
  f->then_ = cb;
  f->then_arg_ = arg;
  if (f->fulfilled_) queue_runnable(f);
}

int cairn_handle::pollfd() const { return client_.pollfd(); }

int cairn_handle::take_ready() {
  while (client_.has_ready()) {
    Response r = client_.recv(milliseconds(0));
    if (r.matchtag == 0 && !r.ok()) {
      if (r.errnum == ETIMEDOUT) break;  // the message held no answer of ours
      errno = r.errnum;
      return -1;
    }
    deliver(std::move(r));
  }
  return 0;
}

int cairn_handle::pollevents() {
  client_.flush();
  if (!runnable_.empty() || client_.has_ready()) return POLLIN;
  return 0;
}

int cairn_handle::dispatch() {
  int ran = 0;
  for (;;) {
    client_.flush();
    if (take_ready() < 0) return -1;
    if (runnable_.empty()) return ran;
    // Only what is runnable now: continuations made runnable meanwhile run in the next round.
    for (size_t n = runnable_.size(); n > 0; --n) {
      cairn_future* f = runnable_.front();
      runnable_.pop_front();
      if (!f) continue;  // destroyed by an earlier continuation
      f->runnable_ = false;
      cairn_continuation_f cb = std::exchange(f->then_, nullptr);
      void* arg = f->then_arg_;
      ++ran;
      cb(f, arg);  // may destroy f, or make and wait for other futures
    }
  }
}
