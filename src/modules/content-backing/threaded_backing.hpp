// cairn::content::ThreadedBacking: turns a store whose calls block (files on a shared
// filesystem, S3 through libs3) into a Backing, by running its calls on a pool of worker threads
// and handing the results back to the reactor thread through one reactor::Async.
// Who owns what:
// - The reactor thread owns the callbacks: they wait in callbacks_ under the request's id, never
//   leave that thread, and are called or destroyed only there.
// - The queue of requests (id, key, a view of the data) and the finished results are shared
//   under mutex_; a worker takes one request at a time and calls the BlockingStore with no lock
//   held, so up to `threads` calls run at once.
// - Wake-ups: at most one sleeping worker is being woken at any time (waking_). The worker woken
//   takes a request and, if more are queued, wakes the next one before its call. So a slow
//   store still gets every thread within a few wake-ups, while a fast one (files in the page
//   cache) is served by the workers already running, without a futex wake and a context switch
//   per request.
// - A result reaches its callback in the Async's handler, which takes every result finished so
//   far at once (many completions per wake-up); only the worker whose result finds finished_
//   empty sends the Async.
// Destruction (on the reactor thread) drops the requests not yet started, interrupts the calls
// running (BlockingStore::interrupt), joins the workers and drops every undelivered callback
// without calling it: no callback runs after, or during, the destructor.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "libreactor/reactor.hpp"
#include "libutil/result.hpp"
#include "modules/content-backing/backing.hpp"
#include "modules/content-backing/backing_type.hpp"

namespace cairn::content {

// A backing store with blocking calls. put() and get() are called concurrently from several
// worker threads, so an implementation is thread-safe; neither is ever called on the reactor
// thread. An Error is what the content cache sees (see Backing: its text reaches the client, and
// the ErrorHook's log). An exception thrown by a call becomes its Error (ENOMEM for bad_alloc).
class BlockingStore {
 public:
  virtual ~BlockingStore() = default;
  // Writes `data` under `key`, replacing a copy that differs from it (see Backing::store).
  virtual util::Status put(const util::Digest& key, std::string_view data) = 0;
  // The blob stored under `key`; an Error with ENOENT when there is none.
  virtual util::Result<std::string> get(const util::Digest& key) = 0;
  // Success if an object is stored under `key` (not read back); an Error with ENOENT if not.
  virtual util::Status exists(const util::Digest& key) = 0;
  // As Backing::describe; called on any thread.
  virtual std::string describe(const util::Digest& key) const {
    return "object " + util::blobref_format(key);
  }
  // Asks the calls running now, on other threads, to return soon (with an error). Called once,
  // from ~ThreadedBacking; after it no new call starts. The default does nothing: the calls
  // then simply run to their end.
  virtual void interrupt() {}
};

class ThreadedBacking : public Backing {
 public:
  // Called on the reactor thread, just before the callback, with each failed request's Error
  // (the ENOENT of a load or an exists is an answer, not a failure, and is not reported).
  using ErrorHook = std::function<void(const util::Error&)>;

  // Starts `threads` workers (at least 1) over `store`.
  ThreadedBacking(reactor::Loop& loop, std::unique_ptr<BlockingStore> store, unsigned threads,
                  ErrorHook on_error = nullptr);
  ~ThreadedBacking() override;
  ThreadedBacking(const ThreadedBacking&) = delete;
  ThreadedBacking& operator=(const ThreadedBacking&) = delete;

  void store(const util::Digest& key, std::string_view data, StoreCallback cb) override;
  void load(const util::Digest& key, LoadCallback cb) override;
  void exists(const util::Digest& key, ExistsCallback cb) override;
  std::string describe(const util::Digest& key) const override { return store_->describe(key); }

  // Moves every request made since the last hand-off to the workers, under one lock and with at
  // most one wake-up. A Prepare calls it once per loop iteration, just before the loop polls, so
  // one iteration's requests cross to the workers together; a test may call it directly.
  void hand_off();

  // Requests whose callback has not run yet.
  size_t outstanding() const { return callbacks_.size(); }
  // Times the Async's handler ran and delivered at least one result.
  uint64_t deliveries() const { return deliveries_; }

 private:
  enum class Kind : uint8_t { kStore, kLoad, kExists };
  struct Request {
    uint64_t id;
    util::Digest key;
    std::string_view data;  // a store's blob (valid until its callback runs); empty otherwise
    Kind kind;
  };
  struct Result {
    uint64_t id;
    util::Error error;  // errnum 0: success
    std::string data;   // a load's blob
    Kind kind;
  };

  // Queues `req` for the next hand-off (reactor thread only).
  void enqueue(Request req);
  // Under mutex_: whether a sleeping worker should be notified for the queued requests (and
  // if so, marks the wake-up as pending). Notify after unlocking.
  bool claim_wake();
  void worker_main();
  Result run(const Request& req);
  void deliver();

  std::unique_ptr<BlockingStore> store_;
  ErrorHook on_error_;

  // Reactor thread only. An exists' callback has a store's type and sits here as one.
  std::unordered_map<uint64_t, std::variant<StoreCallback, LoadCallback>> callbacks_;
  std::vector<Request> pending_;  // queued this iteration, not yet handed to the workers
  uint64_t next_id_ = 1;
  uint64_t deliveries_ = 0;

  std::mutex mutex_;  // guards queue_, finished_, stopping_, sleeping_, waking_
  std::condition_variable wake_;
  std::deque<Request> queue_;
  std::vector<Result> finished_;
  bool stopping_ = false;
  unsigned sleeping_ = 0;  // workers waiting on wake_
  bool waking_ = false;    // a worker has been notified and has not taken the lock yet

  reactor::Async async_;
  reactor::Prepare hand_off_;
  std::vector<std::thread> workers_;  // last: started once everything they use exists
};

// An ErrorHook that logs failures without flooding: the first failure at once, later ones at
// most once per `interval` seconds of loop time, each line saying how many failed meanwhile.
// `log` receives complete lines ("<what> (and N more failures since)").
ThreadedBacking::ErrorHook rate_limited_error_log(reactor::Loop& loop,
                                                  std::function<void(const std::string&)> log,
                                                  double interval = 10.0);

// How a backing store of blocking calls opens: a ThreadedBacking of `threads` workers over
// `store`, whose failures env.log warns of (rate-limited) as "content.backing=<name>: <text>".
std::unique_ptr<Backing> open_threaded_backing(const BackingEnv& env, std::string_view name,
                                               std::unique_ptr<BlockingStore> store,
                                               unsigned threads);

}  // namespace cairn::content
