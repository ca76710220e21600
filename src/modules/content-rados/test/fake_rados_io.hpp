// A RadosIo for unit tests: objects in a map, and every operation held until the test ends it
// — in any order, with the store's answer or a forced error, from any thread. Like librados,
// destroying it cancels what is still held (done(-ECANCELED)) and waits for a completion
// another thread is running, so no done runs once the destructor has returned.
#pragma once

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "modules/content-rados/rados_io.hpp"

namespace cairn::content::test {

struct FakeRadosOp {
  bool is_write = false;
  bool is_stat = false;
  std::string oid;
  std::string data;  // a write's copy
  uint64_t offset = 0;
  char* buf = nullptr;  // a read's
  size_t len = 0;
  uint64_t* object_size = nullptr;
  RadosDone done;
};

// What the test holds: it outlives the FakeRadosIo the backing owns.
class FakeRados {
 public:
  // Operations started and not yet ended, oldest first.
  size_t pending() {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }
  // A copy of the pending operation `i` (without its done).
  FakeRadosOp peek(size_t i) {
    std::lock_guard lock(mutex_);
    FakeRadosOp op = *pending_.at(i);
    op.done = nullptr;
    return op;
  }
  // Ends pending operation `i` as the cluster would (a write stores, a read copies from the
  // object; -ENOENT if there is none), or with `forced` (a negated errno) if that is not 0.
  // Safe from any thread; false if there is no such operation (any more).
  bool complete(size_t i, int forced = 0) {
    std::unique_ptr<FakeRadosOp> op;
    {
      std::lock_guard lock(mutex_);
      if (i >= pending_.size()) return false;
      op = std::move(pending_[i]);
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      running_++;
    }
    int result = forced != 0 ? forced : apply(*op);
    op->done(result);
    std::lock_guard lock(mutex_);
    running_--;
    idle_.notify_all();
    return true;
  }
  // Ends the oldest pending operation (see complete()).
  bool complete_oldest(int forced = 0) { return complete(0, forced); }

  void put(const std::string& oid, std::string data) {
    std::lock_guard lock(mutex_);
    objects_[oid] = std::move(data);
  }
  bool has(const std::string& oid) {
    std::lock_guard lock(mutex_);
    return objects_.count(oid) != 0;
  }
  std::string get(const std::string& oid) {
    std::lock_guard lock(mutex_);
    return objects_.at(oid);
  }

  // Operations started that could not be: done(fail_start) runs inside the call. 0: none.
  int fail_start = 0;
  int writes = 0, reads = 0, stats = 0, cancelled = 0;  // started; cancelled at destruction
  bool destroyed = false;

 private:
  friend class FakeRadosIo;
  int apply(FakeRadosOp& op) {
    std::lock_guard lock(mutex_);
    if (op.is_write) {
      objects_[op.oid] = op.data;
      return 0;
    }
    auto it = objects_.find(op.oid);
    if (it == objects_.end()) return -ENOENT;
    if (op.is_stat) return 0;
    const std::string& obj = it->second;
    if (op.object_size) *op.object_size = obj.size();
    if (op.offset >= obj.size()) return 0;
    size_t n = std::min(op.len, static_cast<size_t>(obj.size() - op.offset));
    std::memcpy(op.buf, obj.data() + op.offset, n);
    return static_cast<int>(n);
  }
  void start(std::unique_ptr<FakeRadosOp> op) {
    if (op->is_write)
      writes++;
    else if (op->is_stat)
      stats++;
    else
      reads++;
    if (fail_start != 0) {
      op->done(fail_start);
      return;
    }
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(op));
  }
  void cancel_all() {
    std::unique_lock lock(mutex_);
    while (!pending_.empty()) {
      auto op = std::move(pending_.front());
      pending_.erase(pending_.begin());
      cancelled++;
      lock.unlock();
      op->done(-ECANCELED);
      lock.lock();
    }
    idle_.wait(lock, [this] { return running_ == 0; });
    destroyed = true;
  }

  std::mutex mutex_;
  std::condition_variable idle_;
  std::vector<std::unique_ptr<FakeRadosOp>> pending_;
  std::map<std::string, std::string> objects_;
  int running_ = 0;  // complete() calls between taking an operation and its done returning
};

class FakeRadosIo : public RadosIo {
 public:
  explicit FakeRadosIo(std::shared_ptr<FakeRados> rados) : rados_(std::move(rados)) {}
  ~FakeRadosIo() override { rados_->cancel_all(); }

  void write_full(const char* oid, std::string_view data, RadosDone done) override {
    auto op = std::make_unique<FakeRadosOp>();
    op->is_write = true;
    op->oid = oid;
    op->data = std::string(data);
    op->done = std::move(done);
    rados_->start(std::move(op));
  }
  void read(const char* oid, uint64_t offset, char* buf, size_t len, uint64_t* object_size,
            RadosDone done) override {
    auto op = std::make_unique<FakeRadosOp>();
    op->oid = oid;
    op->offset = offset;
    op->buf = buf;
    op->len = len;
    op->object_size = object_size;
    op->done = std::move(done);
    rados_->start(std::move(op));
  }
  void stat(const char* oid, RadosDone done) override {
    auto op = std::make_unique<FakeRadosOp>();
    op->is_stat = true;
    op->oid = oid;
    op->done = std::move(done);
    rados_->start(std::move(op));
  }

 private:
  std::shared_ptr<FakeRados> rados_;
};

}  // namespace cairn::content::test
