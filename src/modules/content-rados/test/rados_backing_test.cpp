// Unit tests of the RADOS backing store's logic against a fake RadosIo (no cluster): objects
// named by blobref, a corrupt object replaced by a store, exists as a stat, callbacks once each and
// only on the loop thread (also when operations end out of order, on other threads, or fail before
// they start), errno passed through, large blobs read in chunks, objects over the size limits
// refused unread or unsent, operations kept within librados' in-flight budget, destruction with
// operations in flight (or waiting), and the content cache on top retrying writes that timed out.
// LibradosIo's refusals that need no cluster close the file.
#include "modules/content-rados/rados_backing.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "libtest/run_until.hpp"
#include "modules/content-rados/librados_io.hpp"
#include "modules/content-rados/test/fake_rados_io.hpp"
#include "modules/content/cache.hpp"

using namespace cairn;
using namespace cairn::content;
using cairn::content::test::FakeRados;
using cairn::content::test::FakeRadosIo;

namespace {

constexpr uint64_t kLimit = 1 << 20;

// Sizes small enough to exercise every path with small blobs.
RadosSizes sizes(size_t first_read = 64 * 1024, size_t read_chunk = 4 * 1024 * 1024) {
  RadosSizes s;
  s.max_blob = kLimit;
  s.max_write = kLimit / 2;
  s.first_read = first_read;
  s.read_chunk = read_chunk;
  return s;
}

using cairn::test::run_until;

// Runs every loop iteration that is ready now, without blocking.
void run_ready(reactor::Loop& loop) {
  for (int i = 0; i < 10; i++) loop.run_once(false);
}

util::Digest digest(const std::string& data) {
  util::Hasher h(util::HashType::kSha1);
  return h.hash(data);
}

std::string pattern(size_t size, int seed) {
  std::string s(size, '\0');
  for (size_t k = 0; k < size; k++) s[k] = static_cast<char>((k * 131 + seed * 7) & 0xff);
  return s;
}

struct Fixture {
  explicit Fixture(RadosSizes s = sizes())
      : rados(std::make_shared<FakeRados>()),
        backing(std::make_unique<RadosBacking>(loop, std::make_unique<FakeRadosIo>(rados), s)) {}
  reactor::Loop loop;
  std::shared_ptr<FakeRados> rados;
  std::unique_ptr<RadosBacking> backing;
};

struct LoadResult {
  int calls = 0;
  int errnum = -1;
  std::string data;
  std::string text;  // the error's
  Backing::LoadCallback callback() {
    return [this](const util::Result<std::string_view>& loaded) {
      calls++;
      errnum = loaded.errnum();
      if (loaded)
        data = *loaded;
      else
        text = loaded.error().text;
    };
  }
};

}  // namespace

TEST(RadosBacking, StoresOneObjectPerBlobNamedByItsBlobref) {
  Fixture f;
  std::string blob("binary\0blob\xff", 12);
  int calls = 0, errnum = -1;
  f.backing->store(digest(blob), blob, [&](const util::Status& status) {
    calls++;
    errnum = status.errnum();
  });
  ASSERT_EQ(f.rados->pending(), 1u);
  EXPECT_EQ(f.rados->peek(0).oid, util::blobref_format(digest(blob)));
  f.rados->complete_oldest();
  ASSERT_TRUE(run_until(f.loop, [&] { return calls > 0; }));
  EXPECT_EQ(errnum, 0);
  EXPECT_EQ(f.rados->get(util::blobref_format(digest(blob))), blob);
  EXPECT_EQ(f.backing->outstanding(), 0u);
}

TEST(RadosBacking, LoadReturnsTheObjectByteForByte) {
  Fixture f;
  // The last load reuses the buffer the 1000-byte one was read into: none of its bytes show.
  for (std::string blob : {std::string(), std::string("x"), pattern(1000, 1), std::string("y")}) {
    f.rados->put(util::blobref_format(digest(blob)), blob);
    LoadResult r;
    f.backing->load(digest(blob), r.callback());
    f.rados->complete_oldest();
    ASSERT_TRUE(run_until(f.loop, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.errnum, 0);
    EXPECT_EQ(r.data, blob);
  }
  EXPECT_EQ(f.rados->reads, 4);  // one round trip each: size and bytes together
}

// A store is a write_full whatever the object holds: a corrupt copy (shorter, or other bytes)
// is replaced, in one operation and without reading it first.
TEST(RadosBacking, StoringAgainReplacesACorruptObjectInOneWrite) {
  Fixture f;
  std::string blob = pattern(1000, 3);
  std::string oid = util::blobref_format(digest(blob));
  for (const std::string& bad : {blob.substr(0, 10), pattern(1000, 4)}) {
    f.rados->put(oid, bad);
    int calls = 0, errnum = -1;
    f.backing->store(digest(blob), blob, [&](const util::Status& status) {
      calls++;
      errnum = status.errnum();
    });
    ASSERT_EQ(f.rados->pending(), 1u);
    EXPECT_TRUE(f.rados->peek(0).is_write);
    f.rados->complete_oldest();
    ASSERT_TRUE(run_until(f.loop, [&] { return calls > 0; }));
    EXPECT_EQ(errnum, 0);
    EXPECT_EQ(f.rados->get(oid), blob);
  }
  EXPECT_EQ(f.rados->reads, 0);
  EXPECT_EQ(f.rados->writes, 2);
}

TEST(RadosBacking, ExistsIsAStatOfTheObjectAndDescribeNamesThePool) {
  reactor::Loop loop;
  auto rados = std::make_shared<FakeRados>();
  RadosBacking backing(loop, std::make_unique<FakeRadosIo>(rados), sizes(),
                       "RADOS pool blobs, namespace ns");
  rados->put(util::blobref_format(digest("here")), "here");
  int here = -1, absent = -1;
  backing.exists(digest("here"), [&](const util::Status& st) { here = st.errnum(); });
  backing.exists(digest("absent"), [&](const util::Status& st) { absent = st.errnum(); });
  EXPECT_EQ(here, -1);  // never inside the call
  ASSERT_EQ(rados->pending(), 2u);
  EXPECT_TRUE(rados->peek(0).is_stat);
  rados->complete_oldest();
  rados->complete_oldest();
  ASSERT_TRUE(run_until(loop, [&] { return here != -1 && absent != -1; }));
  EXPECT_EQ(here, 0);
  EXPECT_EQ(absent, ENOENT);
  EXPECT_EQ(rados->stats, 2);
  EXPECT_EQ(rados->reads, 0);
  EXPECT_EQ(backing.outstanding(), 0u);
  EXPECT_EQ(backing.in_flight(), 0u);
  EXPECT_EQ(backing.describe(digest("here")), "object " + util::blobref_format(digest("here")) +
                                                  " in RADOS pool blobs, namespace ns");
}

TEST(RadosBacking, CallbacksNeverRunInsideStoreOrLoad) {
  Fixture f;
  f.rados->fail_start = -EINVAL;  // done runs inside the RadosIo call
  int store_calls = 0, store_errno = -1;
  LoadResult r;
  f.backing->store(digest("a"), "a", [&](const util::Status& status) {
    store_calls++;
    store_errno = status.errnum();
  });
  f.backing->load(digest("b"), r.callback());
  EXPECT_EQ(store_calls, 0);
  EXPECT_EQ(r.calls, 0);
  ASSERT_TRUE(run_until(f.loop, [&] { return store_calls > 0 && r.calls > 0; }));
  EXPECT_EQ(store_errno, EINVAL);
  EXPECT_EQ(r.errnum, EINVAL);
}

TEST(RadosBacking, ErrnoPassesThroughWithATextNamingTheObjectAndTheTimeout) {
  Fixture f;
  int store_errno = -1;
  std::string store_text;
  LoadResult missing, timed_out;
  f.backing->store(digest("a"), "a", [&](const util::Status& st) {
    store_errno = st.errnum();
    if (!st) store_text = st.error().text;
  });
  f.backing->load(digest("never stored"), missing.callback());
  f.backing->load(digest("b"), timed_out.callback());
  f.rados->complete(0, -ETIMEDOUT);
  f.rados->complete(0);  // no such object: ENOENT from the store itself
  f.rados->complete(0, -ETIMEDOUT);
  ASSERT_TRUE(run_until(f.loop, [&] { return store_errno != -1 && timed_out.calls > 0; }));
  EXPECT_EQ(store_errno, ETIMEDOUT);
  EXPECT_EQ(missing.errnum, ENOENT);
  EXPECT_EQ(missing.data, "");
  EXPECT_EQ(timed_out.errnum, ETIMEDOUT);
  std::string why = std::string(std::strerror(ETIMEDOUT)) + " (no answer within rados.op-timeout)";
  EXPECT_EQ(store_text, "rados: cannot write object " + util::blobref_format(digest("a")) +
                            " in the RADOS pool: " + why);
  EXPECT_EQ(timed_out.text, "rados: cannot read object " + util::blobref_format(digest("b")) +
                                " in the RADOS pool: " + why);
}

TEST(RadosBacking, OutOfOrderCompletionsFromAnotherThreadRunOnceEachOnTheLoopThread) {
  Fixture f;
  constexpr int kOps = 200;
  std::vector<std::string> blobs;
  for (int i = 0; i < kOps; i++) blobs.push_back(pattern(100 + i, i));
  for (int i = 0; i < kOps; i += 2) f.rados->put(util::blobref_format(digest(blobs[i])), blobs[i]);
  std::vector<int> calls(kOps, 0);
  std::vector<int> errnums(kOps, -1);
  std::vector<std::string> loaded(kOps);
  std::atomic<int> off_thread{0};
  const auto loop_thread = std::this_thread::get_id();
  for (int i = 0; i < kOps; i++) {
    if (i % 2 == 0) {
      f.backing->load(digest(blobs[i]), [&, i](const util::Result<std::string_view>& blob) {
        if (std::this_thread::get_id() != loop_thread) off_thread++;
        calls[i]++;
        errnums[i] = blob.errnum();
        if (blob) loaded[i] = *blob;
      });
    } else {
      f.backing->store(digest(blobs[i]), blobs[i], [&, i](const util::Status& status) {
        if (std::this_thread::get_id() != loop_thread) off_thread++;
        calls[i]++;
        errnums[i] = status.errnum();
      });
    }
  }
  ASSERT_EQ(f.rados->pending(), static_cast<size_t>(kOps));
  // Newest first, from a thread of its own, while the loop runs.
  std::thread completer([&] {
    for (size_t n = f.rados->pending(); n > 0; n--) f.rados->complete(n - 1);
  });
  bool done = run_until(f.loop, [&] {
    for (int c : calls)
      if (c == 0) return false;
    return true;
  });
  completer.join();
  ASSERT_TRUE(done);
  run_ready(f.loop);
  EXPECT_EQ(off_thread.load(), 0);
  for (int i = 0; i < kOps; i++) {
    EXPECT_EQ(calls[i], 1) << i;
    EXPECT_EQ(errnums[i], 0) << i;
    if (i % 2 == 0) {
      EXPECT_EQ(loaded[i], blobs[i]) << i;
    }
  }
  EXPECT_EQ(f.backing->outstanding(), 0u);
}

TEST(RadosBacking, LargeBlobIsReadInChunksUntilItsSize) {
  Fixture f(sizes(4, 3));
  std::string blob = pattern(20, 3);
  std::string ref = util::blobref_format(digest(blob));
  f.rados->put(ref, blob);
  LoadResult r;
  f.backing->load(digest(blob), r.callback());
  std::vector<std::pair<uint64_t, size_t>> reads;  // offset, length
  for (int i = 0; i < 20 && r.calls == 0; i++) {
    ASSERT_TRUE(run_until(f.loop, [&] { return f.rados->pending() > 0 || r.calls > 0; }));
    if (r.calls) break;
    auto op = f.rados->peek(0);
    reads.emplace_back(op.offset, op.len);
    f.rados->complete_oldest();
  }
  EXPECT_EQ(r.errnum, 0);
  EXPECT_EQ(r.data, blob);
  std::vector<std::pair<uint64_t, size_t>> expect = {{0, 4},  {4, 3},  {7, 3}, {10, 3},
                                                     {13, 3}, {16, 3}, {19, 1}};
  EXPECT_EQ(reads, expect);
}

TEST(RadosBacking, AFailedChunkFailsTheLoadWithItsErrno) {
  Fixture f(sizes(4, 4));
  std::string blob = pattern(12, 4);
  f.rados->put(util::blobref_format(digest(blob)), blob);
  LoadResult r;
  f.backing->load(digest(blob), r.callback());
  f.rados->complete_oldest();
  ASSERT_TRUE(run_until(f.loop, [&] { return f.rados->pending() == 1; }));
  f.rados->complete_oldest(-ETIMEDOUT);
  ASSERT_TRUE(run_until(f.loop, [&] { return r.calls > 0; }));
  EXPECT_EQ(r.errnum, ETIMEDOUT);
  EXPECT_EQ(r.data, "");
  EXPECT_EQ(f.rados->pending(), 0u);
}

TEST(RadosBacking, ObjectLargerThanTheBlobSizeLimitIsNotRead) {
  Fixture f(sizes(16, 16));
  std::string blob = pattern(kLimit + 1, 5);
  f.rados->put(util::blobref_format(digest(blob)), blob);
  LoadResult r;
  f.backing->load(digest(blob), r.callback());
  f.rados->complete_oldest();
  ASSERT_TRUE(run_until(f.loop, [&] { return r.calls > 0; }));
  EXPECT_EQ(r.errnum, EFBIG);
  EXPECT_EQ(f.rados->reads, 1);
}

TEST(RadosBacking, BlobLargerThanTheLargestWriteFailsWithEfbigUnsent) {
  Fixture f;
  std::string blob = pattern(kLimit / 2 + 1, 7);
  int calls = 0, errnum = -1;
  f.backing->store(digest(blob), blob, [&](const util::Status& status) {
    calls++;
    errnum = status.errnum();
  });
  EXPECT_EQ(calls, 0);
  ASSERT_TRUE(run_until(f.loop, [&] { return calls > 0; }));
  EXPECT_EQ(errnum, EFBIG);
  EXPECT_EQ(f.rados->writes, 0);
  EXPECT_EQ(f.backing->outstanding(), 0u);
}

// librados blocks an aio call over its budget (objecter_inflight_op_bytes and _ops) until
// others finish; the backing must never make that call on the reactor thread.
TEST(RadosBacking, OperationsBeyondLibradosBudgetWaitTheirTurn) {
  RadosSizes s = sizes();
  s.inflight_bytes = 100;
  s.inflight_ops = 3;
  Fixture f(s);
  int done = 0;
  std::vector<std::string> blobs;
  for (int i = 0; i < 5; i++) blobs.push_back(pattern(40, i));
  for (auto& b : blobs) f.backing->store(digest(b), b, [&](const util::Status&) { done++; });
  EXPECT_EQ(f.rados->pending(), 2u);  // 80 bytes; a third would make 120
  EXPECT_EQ(f.backing->waiting(), 3u);
  f.rados->complete_oldest();
  ASSERT_TRUE(run_until(f.loop, [&] { return done == 1; }));
  EXPECT_EQ(f.rados->pending(), 2u);
  EXPECT_EQ(f.backing->waiting(), 2u);
  while (f.rados->complete_oldest())
    run_until(f.loop, [&] { return f.rados->pending() > 0 || done == 5; });
  EXPECT_EQ(done, 5);
  EXPECT_EQ(f.backing->in_flight(), 0u);

  // Operations: at most 3 in flight, however small.
  std::vector<std::string> tiny;  // kept until their callbacks, as the Backing contract says
  for (int i = 0; i < 5; i++) tiny.push_back(pattern(1, 100 + i));
  for (auto& b : tiny) f.backing->store(digest(b), b, [&](const util::Status&) { done++; });
  EXPECT_EQ(f.rados->pending(), 3u);
  EXPECT_EQ(f.backing->waiting(), 2u);
  while (f.rados->complete_oldest())
    run_until(f.loop, [&] { return f.rados->pending() > 0 || done == 10; });
  EXPECT_EQ(done, 10);
}

TEST(RadosBacking, AnOperationOverTheByteBudgetGoesAloneAndIsNotOvertaken) {
  RadosSizes s = sizes(16, 16);
  s.inflight_bytes = 100;
  Fixture f(s);
  std::string small1 = pattern(10, 1), large = pattern(150, 2), small2 = pattern(10, 3);
  std::vector<std::string> order;
  for (auto* b : {&small1, &large, &small2})
    f.backing->store(digest(*b), *b, [&, b](const util::Status&) { order.push_back(*b); });
  ASSERT_EQ(f.rados->pending(), 1u);
  EXPECT_EQ(f.rados->peek(0).data, small1);
  EXPECT_EQ(f.backing->waiting(), 2u);  // large waits for the room to be empty; small2 behind it
  f.rados->complete_oldest();
  ASSERT_TRUE(run_until(f.loop, [&] { return order.size() == 1; }));
  ASSERT_EQ(f.rados->pending(), 1u);
  EXPECT_EQ(f.rados->peek(0).data, large);
  f.rados->complete_oldest();
  ASSERT_TRUE(run_until(f.loop, [&] { return order.size() == 2; }));
  ASSERT_EQ(f.rados->pending(), 1u);
  EXPECT_EQ(f.rados->peek(0).data, small2);
  f.rados->complete_oldest();
  ASSERT_TRUE(run_until(f.loop, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<std::string>{small1, large, small2}));
}

TEST(RadosBacking, DestructionWithOperationsInFlightCallsNoCallback) {
  Fixture f(sizes(2, 2));
  std::string blob = pattern(10, 6);
  f.rados->put(util::blobref_format(digest(blob)), blob);
  int calls = 0;
  f.backing->store(digest("a"), "a", [&](const util::Status&) { calls++; });
  f.backing->load(digest(blob), [&](const util::Result<std::string_view>&) { calls++; });
  f.backing->store(digest("b"), "b", [&](const util::Status&) { calls++; });
  f.rados->complete(2);  // store b: delivered below
  f.rados->complete(1);  // the load's first chunk: its delivery starts the second
  ASSERT_TRUE(run_until(f.loop, [&] { return calls == 1 && f.rados->pending() == 2; }));
  f.rados->complete(0);  // store a: ends, but its result is never delivered
  f.backing.reset();     // cancels the load's second chunk
  EXPECT_TRUE(f.rados->destroyed);
  EXPECT_EQ(f.rados->cancelled, 1);
  run_ready(f.loop);
  EXPECT_EQ(calls, 1);
}

TEST(RadosBacking, DestructionDropsWaitingRequestsUncalled) {
  RadosSizes s = sizes();
  s.inflight_ops = 1;
  Fixture f(s);
  int calls = 0;
  f.backing->store(digest("a"), "a", [&](const util::Status&) { calls++; });
  f.backing->store(digest("b"), "b", [&](const util::Status&) { calls++; });
  f.backing->load(digest("c"), [&](const util::Result<std::string_view>&) { calls++; });
  EXPECT_EQ(f.backing->waiting(), 2u);
  f.backing.reset();
  EXPECT_EQ(f.rados->cancelled, 1);
  EXPECT_EQ(f.rados->writes + f.rados->reads, 1);
  run_ready(f.loop);
  EXPECT_EQ(calls, 0);
}

TEST(RadosBacking, DestructionWhileAnotherThreadCompletesIsClean) {
  for (int round = 0; round < 20; round++) {
    Fixture f;
    std::atomic<int> calls{0};
    std::vector<std::string> blobs;  // outlive the backing: its data stays valid to the end
    for (int i = 0; i < 100; i++) blobs.push_back(pattern(50, i));
    for (auto& blob : blobs)
      f.backing->store(digest(blob), blob, [&](const util::Status&) { calls++; });
    std::thread completer([rados = f.rados] {
      while (rados->complete_oldest()) {
      }
    });
    run_ready(f.loop);
    int seen = calls.load();
    f.backing.reset();  // waits for a completion the thread may be running
    completer.join();
    run_ready(f.loop);
    EXPECT_EQ(calls.load(), seen);
    EXPECT_TRUE(f.rados->destroyed);
  }
}

// The content cache on top: a write that times out stays dirty and flush fails with
// ETIMEDOUT; once the cluster answers again, the retry lands and flush succeeds.
TEST(RadosBacking, CacheRetriesAWriteThatTimedOut) {
  reactor::Loop loop;
  auto rados = std::make_shared<FakeRados>();
  Options opts;
  Cache cache(opts,
              std::make_unique<RadosBacking>(loop, std::make_unique<FakeRadosIo>(rados), sizes()),
              [&loop] { return loop.now(); });
  auto stored = cache.store("precious");
  ASSERT_TRUE(stored);
  int flushed = -1;  // the errno flush() answered with, once it has
  auto record = [&](const util::Status& s) { flushed = s ? 0 : s.error().errnum; };
  cache.flush(record);
  ASSERT_TRUE(run_until(loop, [&] { return rados->pending() == 1; }));
  rados->complete_oldest(-ETIMEDOUT);
  ASSERT_TRUE(run_until(loop, [&] { return flushed != -1; }));
  EXPECT_EQ(flushed, ETIMEDOUT);
  EXPECT_EQ(cache.stats().dirty, 1u);
  flushed = -1;
  cache.flush(record);
  ASSERT_TRUE(run_until(loop, [&] { return rados->pending() == 1; }));
  rados->complete_oldest();
  ASSERT_TRUE(run_until(loop, [&] { return flushed != -1; }));
  EXPECT_EQ(flushed, 0);
  EXPECT_EQ(cache.stats().dirty, 0u);
  EXPECT_EQ(rados->get(util::blobref_format(*stored)), "precious");
}

TEST(LibradosIo, MissingConfigFileIsNamed) {
  RadosSettings s;
  s.conf = "/nonexistent/ceph.conf";
  s.user = "admin";
  s.pool = "p";
  auto io = LibradosIo::connect(s);
  ASSERT_FALSE(io);
  EXPECT_EQ(io.error().errnum, ENOENT);
  EXPECT_NE(io.error().text.find("/nonexistent/ceph.conf"), std::string::npos) << io.error().text;
}
