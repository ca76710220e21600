// A blocking store on worker threads, as a Backing (see threaded_backing.hpp).
#include "modules/content-backing/threaded_backing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <new>
#include <utility>

namespace cairn::content {

ThreadedBacking::ThreadedBacking(reactor::Loop& loop, std::unique_ptr<BlockingStore> store,
                                 unsigned threads, ErrorHook on_error)
    : store_(std::move(store)),
      on_error_(std::move(on_error)),
      async_(loop, [this](reactor::Async&) { deliver(); }),
      hand_off_(loop, [this](reactor::Prepare&) { hand_off(); }) {
  async_.start();
  threads = std::max(threads, 1u);
  workers_.reserve(threads);
  for (unsigned i = 0; i < threads; i++) workers_.emplace_back([this] { worker_main(); });
}

ThreadedBacking::~ThreadedBacking() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();  // never started: their data is not touched again
  }
  wake_.notify_all();
  store_->interrupt();
  for (auto& t : workers_) t.join();
  async_.stop();
  hand_off_.stop();
  // pending_, finished_ and callbacks_ go with the object, on this (the reactor) thread, uncalled.
}

void ThreadedBacking::store(const util::Digest& key, std::string_view data, StoreCallback cb) {
  uint64_t id = next_id_++;
  callbacks_.emplace(id, std::move(cb));
  enqueue({id, key, data, Kind::kStore});
}

void ThreadedBacking::load(const util::Digest& key, LoadCallback cb) {
  uint64_t id = next_id_++;
  callbacks_.emplace(id, std::move(cb));
  enqueue({id, key, {}, Kind::kLoad});
}

void ThreadedBacking::exists(const util::Digest& key, ExistsCallback cb) {
  uint64_t id = next_id_++;
  callbacks_.emplace(id, StoreCallback(std::move(cb)));
  enqueue({id, key, {}, Kind::kExists});
}

bool ThreadedBacking::claim_wake() {
  if (queue_.empty() || sleeping_ == 0 || waking_) return false;
  waking_ = true;
  return true;
}

void ThreadedBacking::enqueue(Request req) {
  pending_.push_back(req);
  if (!hand_off_.active()) hand_off_.start();
}

void ThreadedBacking::hand_off() {
  hand_off_.stop();  // started again by the next enqueue: an idle loop is not woken for it
  if (pending_.empty()) return;
  bool wake;
  {
    std::lock_guard lock(mutex_);
    queue_.insert(queue_.end(), pending_.begin(), pending_.end());
    wake = claim_wake();
  }
  pending_.clear();
  if (wake) wake_.notify_one();
}

void ThreadedBacking::worker_main() {
  for (;;) {
    Request req;
    bool wake_next;
    {
      std::unique_lock lock(mutex_);
      while (!stopping_ && queue_.empty()) {
        sleeping_++;
        wake_.wait(lock);
        sleeping_--;
        waking_ = false;  // the pending wake-up (if any) has landed, here or in another worker
      }
      if (stopping_) return;
      req = queue_.front();
      queue_.pop_front();
      wake_next = claim_wake();
    }
    if (wake_next) wake_.notify_one();
    Result res = run(req);
    bool first;
    {
      std::lock_guard lock(mutex_);
      first = finished_.empty();
      finished_.push_back(std::move(res));
    }
    // One wake-up carries whatever has finished by the time the loop looks; a result that
    // joins others not yet taken rides on the wake-up their first one sent.
    if (first) async_.send();
  }
}

// An exception must not end a worker (it would end the process): it becomes the request's
// error, ENOMEM for a failed allocation (a blob too large for memory), else EIO.
ThreadedBacking::Result ThreadedBacking::run(const Request& req) {
  try {
    if (req.kind == Kind::kLoad) {
      util::Result<std::string> got = store_->get(req.key);
      if (!got) return {req.id, got.error(), {}, req.kind};
      return {req.id, {}, std::move(got).value(), req.kind};
    }
    util::Status done =
        req.kind == Kind::kStore ? store_->put(req.key, req.data) : store_->exists(req.key);
    if (!done) return {req.id, done.error(), {}, req.kind};
    return {req.id, {}, {}, req.kind};
  } catch (const std::bad_alloc&) {
    return {req.id, {ENOMEM, "out of memory"}, {}, req.kind};
  } catch (const std::exception& e) {
    return {req.id, {EIO, e.what()}, {}, req.kind};
  }
}

void ThreadedBacking::deliver() {
  std::vector<Result> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(finished_);
  }
  if (ready.empty()) return;
  deliveries_++;
  for (auto& res : ready) {
    auto it = callbacks_.find(res.id);
    if (it == callbacks_.end()) continue;  // cannot happen: each id finishes once
    auto cb = std::move(it->second);
    callbacks_.erase(it);
    int errnum = res.error.errnum;
    bool answer = errnum == ENOENT && res.kind != Kind::kStore;
    if (errnum != 0 && on_error_ && !answer) on_error_(res.error);
    if (auto* loaded = std::get_if<LoadCallback>(&cb)) {
      (*loaded)(errnum == 0 ? util::Result<std::string_view>(res.data)
                            : util::Result<std::string_view>(std::move(res.error)));
    } else {
      std::get<StoreCallback>(cb)(errnum == 0 ? util::Status()
                                              : util::Status(std::move(res.error)));
    }
  }
}

ThreadedBacking::ErrorHook rate_limited_error_log(reactor::Loop& loop,
                                                  std::function<void(const std::string&)> log,
                                                  double interval) {
  struct State {
    double last = 0;
    bool logged = false;
    uint64_t suppressed = 0;
  };
  return [&loop, log = std::move(log), interval,
          state = std::make_shared<State>()](const util::Error& e) {
    double now = loop.now();
    if (state->logged && now - state->last < interval) {
      state->suppressed++;
      return;
    }
    if (state->suppressed > 0)
      log(fmt::format("{} (and {} more failures since the last such message)", e.text,
                      state->suppressed));
    else
      log(e.text);
    state->logged = true;
    state->last = now;
    state->suppressed = 0;
  };
}

std::unique_ptr<Backing> open_threaded_backing(const BackingEnv& env, std::string_view name,
                                               std::unique_ptr<BlockingStore> store,
                                               unsigned threads) {
  auto on_error = rate_limited_error_log(
      env.loop, [log = env.log, prefix = fmt::format("content.backing={}: ", name)](
                    const std::string& text) { log(broker::Level::kWarning, prefix + text); });
  return std::make_unique<ThreadedBacking>(env.loop, std::move(store), threads,
                                           std::move(on_error));
}

}  // namespace cairn::content
