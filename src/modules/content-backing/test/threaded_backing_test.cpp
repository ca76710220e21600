// Unit tests for ThreadedBacking over a fake BlockingStore: every callback runs exactly once, on
// the loop thread, never inside store()/load(); errors keep their errno and text; calls run on
// up to N threads at once; one wake-up delivers many completions; an exception from the store
// becomes an errno; destruction with calls in flight and requests queued is clean (run these
// under --enable-sanitizers too).
#include "modules/content-backing/threaded_backing.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "libtest/run_until.hpp"

using namespace cairn;
using namespace cairn::content;

namespace {

util::Digest digest(const std::string& data) {
  util::Hasher h(util::HashType::kSha1);
  return h.hash(data);
}

using cairn::test::run_until;

// An in-memory BlockingStore. Optionally each call waits at a gate until the test opens it (or
// interrupt() does), and keys listed in `failures` fail with the given Error.
class FakeStore : public BlockingStore {
 public:
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::map<std::string, std::string> blobs;  // blobref -> data
    std::map<std::string, util::Error> failures;
    bool gated = false;
    int running = 0, max_running = 0, calls = 0, interrupts = 0;
    std::set<std::thread::id> threads;

    void open_gate() {
      std::lock_guard lock(mutex);
      gated = false;
      cv.notify_all();
    }
    // Waits (bounded) until `n` calls are inside the store at once.
    bool wait_running(int n) {
      std::unique_lock lock(mutex);
      return cv.wait_for(lock, std::chrono::seconds(10), [&] { return running >= n; });
    }
    bool wait_calls(int n) {
      std::unique_lock lock(mutex);
      return cv.wait_for(lock, std::chrono::seconds(10), [&] { return calls >= n; });
    }
    int calls_made() {
      std::lock_guard lock(mutex);
      return calls;
    }
  };

  explicit FakeStore(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  util::Status put(const util::Digest& key, std::string_view data) override {
    std::string ref = util::blobref_format(key);
    std::unique_lock lock(enter(ref), std::adopt_lock);
    auto f = s_->failures.find(ref);
    util::Status st;
    if (f != s_->failures.end())
      st = f->second;
    else
      s_->blobs[ref] = std::string(data);
    leave();
    return st;
  }
  util::Result<std::string> get(const util::Digest& key) override {
    std::string ref = util::blobref_format(key);
    std::unique_lock lock(enter(ref), std::adopt_lock);
    util::Result<std::string> r = util::Error{ENOENT, ref + ": no such blob"};
    auto f = s_->failures.find(ref);
    if (f != s_->failures.end())
      r = f->second;
    else if (auto it = s_->blobs.find(ref); it != s_->blobs.end())
      r = it->second;
    leave();
    return r;
  }
  util::Status exists(const util::Digest& key) override {
    std::string ref = util::blobref_format(key);
    std::unique_lock lock(enter(ref), std::adopt_lock);
    util::Status st = util::Error{ENOENT, ref + ": no such blob"};
    if (auto f = s_->failures.find(ref); f != s_->failures.end())
      st = f->second;
    else if (s_->blobs.count(ref) != 0)
      st = {};
    leave();
    return st;
  }
  void interrupt() override {
    std::lock_guard lock(s_->mutex);
    s_->interrupts++;
    s_->gated = false;
    s_->cv.notify_all();
  }

 private:
  // Counts the call, waits at the gate; returns with the mutex held.
  std::mutex& enter(const std::string&) {
    std::unique_lock lock(s_->mutex);
    s_->calls++;
    s_->running++;
    s_->max_running = std::max(s_->max_running, s_->running);
    s_->threads.insert(std::this_thread::get_id());
    s_->cv.notify_all();
    s_->cv.wait(lock, [&] { return !s_->gated; });
    lock.release();
    return s_->mutex;
  }
  void leave() {
    s_->running--;
    s_->cv.notify_all();
  }
  std::shared_ptr<Shared> s_;
};

std::string blob(int i) {
  std::string s = "blob " + std::to_string(i);
  s.push_back('\0');
  s += std::string(static_cast<size_t>(i % 50), static_cast<char>(i));
  return s;
}

}  // namespace

TEST(ThreadedBacking, EveryCallbackRunsExactlyOnceOnTheLoopThreadAfterTheCallReturns) {
  reactor::Loop loop;
  auto shared = std::make_shared<FakeStore::Shared>();
  ThreadedBacking b(loop, std::make_unique<FakeStore>(shared), 4);
  constexpr int kBlobs = 500;
  std::vector<std::string> blobs;
  for (int i = 0; i < kBlobs; i++) blobs.push_back(blob(i));
  std::vector<int> stored(kBlobs, 0), loaded(kBlobs, 0);
  bool inside_call = false;
  int wrong_thread = 0, early = 0, load_errors = 0, store_errors = 0;
  auto loop_thread = std::this_thread::get_id();
  for (int i = 0; i < kBlobs; i++) {
    inside_call = true;
    b.store(digest(blobs[i]), blobs[i], [&, i](const util::Status& status) {
      if (inside_call) early++;
      if (std::this_thread::get_id() != loop_thread) wrong_thread++;
      if (!status) store_errors++;
      if (++stored[i] == 1) {
        b.load(digest(blobs[i]), [&, i](const util::Result<std::string_view>& blob) {
          if (std::this_thread::get_id() != loop_thread) wrong_thread++;
          if (!blob || *blob != blobs[i]) load_errors++;
          loaded[i]++;
        });
      }
    });
    inside_call = false;
  }
  ASSERT_TRUE(run_until(loop, [&] { return b.outstanding() == 0; }));
  EXPECT_EQ(early, 0);
  EXPECT_EQ(wrong_thread, 0);
  EXPECT_EQ(store_errors, 0);
  EXPECT_EQ(load_errors, 0);
  for (int i = 0; i < kBlobs; i++) {
    EXPECT_EQ(stored[i], 1) << i;
    EXPECT_EQ(loaded[i], 1) << i;
  }
  EXPECT_EQ(shared->calls, 2 * kBlobs);
}

TEST(ThreadedBacking, LoadOfAbsentKeyIsEnoentAndIsNotReportedAsAFailure) {
  reactor::Loop loop;
  std::vector<util::Error> reported;
  ThreadedBacking b(loop, std::make_unique<FakeStore>(std::make_shared<FakeStore::Shared>()), 2,
                    [&](const util::Error& e) { reported.push_back(e); });
  int got = -1;
  b.load(digest("absent"),
         [&](const util::Result<std::string_view>& loaded) { got = loaded.errnum(); });
  run_until(loop, [&] { return got != -1; });
  EXPECT_EQ(got, ENOENT);
  EXPECT_TRUE(reported.empty());
}

// exists() answers from the store's own thread: 0 when stored, ENOENT (not reported as a
// failure) when not, and a failure's errno and text otherwise.
TEST(ThreadedBacking, ExistsAnswersZeroOrEnoentAndReportsOnlyFailures) {
  reactor::Loop loop;
  auto shared = std::make_shared<FakeStore::Shared>();
  std::string broken = "broken";
  shared->failures[util::blobref_hash(util::HashType::kSha1, broken)] =
      util::Error{EIO, "stat: Input/output error"};
  std::vector<util::Error> reported;
  ThreadedBacking b(loop, std::make_unique<FakeStore>(shared), 2,
                    [&](const util::Error& e) { reported.push_back(e); });
  int stored = -1;
  b.store(digest("here"), "here", [&](const util::Status& st) { stored = st.errnum(); });
  ASSERT_TRUE(run_until(loop, [&] { return stored != -1; }));
  int here = -1, absent = -1, failed = -1;
  bool inside = true;
  b.exists(digest("here"),
           [&](const util::Status& st) { here = st.errnum() + (inside ? 1000 : 0); });
  b.exists(digest("absent"), [&](const util::Status& st) { absent = st.errnum(); });
  b.exists(digest(broken), [&](const util::Status& st) { failed = st.errnum(); });
  inside = false;
  ASSERT_TRUE(run_until(loop, [&] { return here != -1 && absent != -1 && failed != -1; }));
  EXPECT_EQ(here, 0);
  EXPECT_EQ(absent, ENOENT);
  EXPECT_EQ(failed, EIO);
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].text, "stat: Input/output error");
}

// The store's Error reaches the callback whole (errno and text, so the client sees the store's
// words), and the ErrorHook too.
TEST(ThreadedBacking, ErrorsPassThroughWithErrnoAndText) {
  reactor::Loop loop;
  auto shared = std::make_shared<FakeStore::Shared>();
  std::string bad = "unwritable", unreadable = "unreadable";
  shared->failures[util::blobref_hash(util::HashType::kSha1, bad)] =
      util::Error{EACCES, "put: Permission denied"};
  shared->failures[util::blobref_hash(util::HashType::kSha1, unreadable)] =
      util::Error{EIO, "get: Input/output error"};
  std::vector<util::Error> reported;
  ThreadedBacking b(loop, std::make_unique<FakeStore>(shared), 2,
                    [&](const util::Error& e) { reported.push_back(e); });
  std::optional<util::Status> put;
  std::optional<util::Error> got;
  b.store(digest(bad), bad, [&](const util::Status& st) { put = st; });
  b.load(digest(unreadable), [&](const util::Result<std::string_view>& loaded) {
    got = loaded ? util::Error{} : loaded.error();
  });
  run_until(loop, [&] { return put && got; });
  ASSERT_FALSE(put->ok());
  EXPECT_EQ(put->error().errnum, EACCES);
  EXPECT_EQ(put->error().text, "put: Permission denied");
  EXPECT_EQ(got->errnum, EIO);
  EXPECT_EQ(got->text, "get: Input/output error");
  ASSERT_EQ(reported.size(), 2u);
  std::set<std::string> texts{reported[0].text, reported[1].text};
  EXPECT_TRUE(texts.count("put: Permission denied"));
  EXPECT_TRUE(texts.count("get: Input/output error"));
}

// A store whose calls throw: the worker survives and the request fails with an errno.
class ThrowingStore : public BlockingStore {
 public:
  util::Status put(const util::Digest&, std::string_view) override { throw std::bad_alloc(); }
  util::Result<std::string> get(const util::Digest&) override { throw std::runtime_error("boom"); }
  util::Status exists(const util::Digest&) override { throw std::runtime_error("boom"); }
};

TEST(ThreadedBacking, AnExceptionFromTheStoreBecomesTheRequestsError) {
  reactor::Loop loop;
  std::vector<util::Error> reported;
  ThreadedBacking b(loop, std::make_unique<ThrowingStore>(), 1,
                    [&](const util::Error& e) { reported.push_back(e); });
  int put_errno = -1, get_errno = -1;
  b.store(digest("x"), "x", [&](const util::Status& st) { put_errno = st.errnum(); });
  b.load(digest("x"),
         [&](const util::Result<std::string_view>& loaded) { get_errno = loaded.errnum(); });
  ASSERT_TRUE(run_until(loop, [&] { return put_errno != -1 && get_errno != -1; }));
  EXPECT_EQ(put_errno, ENOMEM);
  EXPECT_EQ(get_errno, EIO);
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[1].text, "boom");
}

TEST(ThreadedBacking, CallsRunOnAsManyThreadsAsAskedAtOnce) {
  reactor::Loop loop;
  auto shared = std::make_shared<FakeStore::Shared>();
  shared->gated = true;
  ThreadedBacking b(loop, std::make_unique<FakeStore>(shared), 3);
  std::vector<std::string> blobs;
  for (int i = 0; i < 10; i++) blobs.push_back(blob(i));
  int done = 0;
  for (auto& s : blobs) b.store(digest(s), s, [&](const util::Status&) { done++; });
  b.hand_off();
  EXPECT_TRUE(shared->wait_running(3));
  shared->open_gate();
  ASSERT_TRUE(run_until(loop, [&] { return done == 10; }));
  EXPECT_EQ(shared->max_running, 3);
  EXPECT_EQ(shared->threads.size(), 3u);
}

TEST(ThreadedBacking, OneWakeUpDeliversEveryCompletionFinishedMeanwhile) {
  reactor::Loop loop;
  auto shared = std::make_shared<FakeStore::Shared>();
  ThreadedBacking b(loop, std::make_unique<FakeStore>(shared), 4);
  std::vector<std::string> blobs;
  for (int i = 0; i < 100; i++) blobs.push_back(blob(i));
  int done = 0;
  for (auto& s : blobs) b.store(digest(s), s, [&](const util::Status&) { done++; });
  b.hand_off();
  ASSERT_TRUE(shared->wait_calls(100));
  // Every call has been made before the loop runs, so the results wait together: at most the
  // last one of each of the 4 workers can still be on its way when the first wake-up runs.
  ASSERT_TRUE(run_until(loop, [&] { return done == 100; }));
  EXPECT_LE(b.deliveries(), 5u);
}

TEST(ThreadedBacking, OneIterationsRequestsReachTheWorkersTogetherBeforeTheLoopPolls) {
  reactor::Loop loop;
  auto shared = std::make_shared<FakeStore::Shared>();
  ThreadedBacking b(loop, std::make_unique<FakeStore>(shared), 2);
  std::vector<std::string> blobs;
  for (int i = 0; i < 20; i++) blobs.push_back(blob(i));
  int done = 0;
  for (auto& s : blobs) b.store(digest(s), s, [&](const util::Status&) { done++; });
  // Nothing crosses to the workers while the reactor is still making requests...
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(shared->calls_made(), 0);
  // ...the loop's next iteration hands them all over, and every one completes.
  ASSERT_TRUE(run_until(loop, [&] { return done == 20; }));
  EXPECT_EQ(shared->calls_made(), 20);
}

TEST(ThreadedBacking, ACallbackMayIssueTheNextRequest) {
  reactor::Loop loop;
  ThreadedBacking b(loop, std::make_unique<FakeStore>(std::make_shared<FakeStore::Shared>()), 1);
  std::string data("chained");
  int hops = 0;
  std::function<void(const util::Status&)> next = [&](const util::Status& status) {
    ASSERT_EQ(status.errnum(), 0);
    if (++hops < 20) b.store(digest(data), data, next);
  };
  b.store(digest(data), data, next);
  ASSERT_TRUE(run_until(loop, [&] { return hops == 20; }));
  EXPECT_EQ(b.outstanding(), 0u);
}

// Destroyed with calls blocked inside the store and more requests queued behind them: the
// destructor interrupts the calls, never starts the queued ones, never runs a callback, and
// destroys every callback on the loop thread.
TEST(ThreadedBacking, DestructionWithWorkInFlightRunsNoCallbackAndStartsNothingNew) {
  reactor::Loop loop;
  auto shared = std::make_shared<FakeStore::Shared>();
  shared->gated = true;
  std::vector<std::string> blobs;
  for (int i = 0; i < 50; i++) blobs.push_back(blob(i));
  int called = 0;
  std::atomic<int> destroyed_elsewhere{0};
  auto loop_thread = std::this_thread::get_id();
  // Records the thread that destroys the last copy of a callback.
  struct Witness {
    std::thread::id loop_thread;
    std::atomic<int>* elsewhere;
    ~Witness() {
      if (std::this_thread::get_id() != loop_thread) (*elsewhere)++;
    }
  };
  {
    auto b = std::make_unique<ThreadedBacking>(loop, std::make_unique<FakeStore>(shared), 2);
    for (auto& s : blobs) {
      auto w = std::make_shared<Witness>(Witness{loop_thread, &destroyed_elsewhere});
      b->store(digest(s), s, [&called, w](const util::Status&) { called++; });
    }
    auto w = std::make_shared<Witness>(Witness{loop_thread, &destroyed_elsewhere});
    b->load(digest(blobs[0]), [&called, w](const util::Result<std::string_view>&) { called++; });
    b->hand_off();
    ASSERT_TRUE(shared->wait_running(2));
    b.reset();
  }
  for (int i = 0; i < 5; i++) loop.run_once(false);
  EXPECT_EQ(called, 0);
  EXPECT_EQ(destroyed_elsewhere.load(), 0);
  EXPECT_EQ(shared->interrupts, 1);
  EXPECT_EQ(shared->calls, 2);  // the two in flight; none of the queued ones started
  EXPECT_EQ(shared->running, 0);
}

// Results that finished but were never delivered are dropped with the backing.
TEST(ThreadedBacking, DestructionDropsFinishedButUndeliveredCallbacks) {
  reactor::Loop loop;
  auto shared = std::make_shared<FakeStore::Shared>();
  int called = 0;
  {
    ThreadedBacking b(loop, std::make_unique<FakeStore>(shared), 2);
    std::string s("finished");
    for (int i = 0; i < 10; i++) b.store(digest(s), s, [&](const util::Status&) { called++; });
    b.hand_off();
    ASSERT_TRUE(shared->wait_calls(10));
  }
  for (int i = 0; i < 5; i++) loop.run_once(false);
  EXPECT_EQ(called, 0);
}

TEST(ThreadedBacking, ZeroThreadsMeansOne) {
  reactor::Loop loop;
  ThreadedBacking b(loop, std::make_unique<FakeStore>(std::make_shared<FakeStore::Shared>()), 0);
  int got = -1;
  b.store(digest("x"), "x", [&](const util::Status& st) { got = st.errnum(); });
  run_until(loop, [&] { return got != -1; });
  EXPECT_EQ(got, 0);
}

TEST(RateLimitedErrorLog, LogsTheFirstFailureThenAtMostOncePerIntervalWithACount) {
  reactor::Loop loop;
  std::vector<std::string> lines;
  auto hook = rate_limited_error_log(
      loop, [&](const std::string& l) { lines.push_back(l); }, 3600.0);
  hook(util::Error{EIO, "first"});
  hook(util::Error{EIO, "second"});
  hook(util::Error{EIO, "third"});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "first");
  auto now_hook = rate_limited_error_log(
      loop, [&](const std::string& l) { lines.push_back(l); }, 0.0);
  now_hook(util::Error{EIO, "a"});
  now_hook(util::Error{EIO, "b"});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "b");
}
