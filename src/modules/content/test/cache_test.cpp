// Unit tests for the content cache with a fake backing store and a fake clock: write-back,
// dedup, one backing read per missing blob, flush batching, purge order, failure and recovery.
#include "modules/content/cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "modules/content/checked_backing.hpp"
#include "modules/content/test/fake_backing.hpp"

using namespace cairn;
using namespace cairn::content;
using cairn::content::test::FakeBacking;
using cairn::content::test::FakeBackingState;

namespace {

struct Fixture {
  explicit Fixture(Options opts = {}, bool with_backing = true)
      : state(std::make_shared<FakeBackingState>()),
        cache(opts, with_backing ? std::make_unique<FakeBacking>(state) : nullptr,
              [this] { return now; }) {}
  util::Digest store(const std::string& data) {
    auto d = cache.store(data);
    EXPECT_TRUE(d.ok()) << d.error().text;
    return d.ok() ? *d : util::Digest{};
  }
  // Loads key; returns {errno, data or error text}, or {-1, ""} if the callback has not run
  // (yet).
  struct Result {
    int errnum = -1;
    std::string data;
    std::string text;  // the error's, when errnum != 0
  };
  std::shared_ptr<Result> load(const util::Digest& key) {
    auto r = std::make_shared<Result>();
    cache.load(key, [r](const util::Result<std::string_view>& blob) {
      r->errnum = blob ? 0 : blob.error().errnum;
      if (blob)
        r->data = std::string(*blob);
      else
        r->text = blob.error().text;
    });
    return r;
  }
  // Flushes; the errno it was answered with (0: success), or -1 while it is not answered.
  std::shared_ptr<int> flush(std::string* text = nullptr) {
    auto r = std::make_shared<int>(-1);
    cache.flush([r, text](const util::Status& flushed) {
      *r = flushed ? 0 : flushed.error().errnum;
      if (!flushed && text) *text = flushed.error().text;
    });
    return r;
  }
  double now = 1000;
  std::shared_ptr<FakeBackingState> state;
  Cache cache;
};

util::Digest parse(std::string_view blobref) {
  auto d = util::blobref_parse(blobref);
  EXPECT_TRUE(d.ok()) << blobref;
  return d.ok() ? *d : util::Digest{};
}

std::string blob_n(int i, size_t size = 100) {
  std::string s = "blob-" + std::to_string(i) + "-";
  s.resize(size, 'x');
  return s;
}

}  // namespace

TEST(Cache, StoreReturnsDigestOfDataAndLoadHitsWithoutBackingRead) {
  Fixture f;
  util::Digest d = f.store("abc");
  EXPECT_EQ(util::blobref_format(d), "sha1-a9993e364706816aba3e25717850c26c9cd0d89d");
  auto r = f.load(d);
  EXPECT_EQ(r->errnum, 0);
  EXPECT_EQ(r->data, "abc");
  EXPECT_EQ(f.state->loads, 0);
  EXPECT_EQ(f.cache.stats().load_hits, 1u);
}

TEST(Cache, LookupAnswersHitsAndLeavesMissesToLoad) {
  Fixture f;
  util::Digest d = f.store("abc");
  auto hit = f.cache.lookup(d);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, "abc");
  EXPECT_EQ(f.cache.stats().load_hits, 1u);
  // Not in memory: nothing is counted and no backing read starts; load() does both.
  f.state->complete();
  f.cache.dropcache();
  EXPECT_FALSE(f.cache.lookup(d).has_value());
  EXPECT_EQ(f.cache.stats().load_misses, 0u);
  EXPECT_EQ(f.state->loads, 0);
  util::Digest other = d;
  other.type = util::HashType::kSha256;
  EXPECT_FALSE(f.cache.lookup(other).has_value());
}

TEST(Cache, Sha256CacheProducesSha256Blobrefs) {
  Options o;
  o.hash = util::HashType::kSha256;
  Fixture f(o);
  util::Digest d = f.store("abc");
  EXPECT_EQ(util::blobref_format(d),
            "sha256-ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(f.load(d)->data, "abc");
}

TEST(Cache, StoreIsWriteBackAndEntryTurnsCleanWhenWriteLands) {
  Fixture f;
  f.store("hello");
  CacheStats s = f.cache.stats();
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.valid, 1u);
  EXPECT_EQ(s.dirty, 1u);
  EXPECT_EQ(s.size, 5u);
  EXPECT_EQ(s.flush_batch_count, 1u);
  EXPECT_TRUE(f.state->blobs.empty());  // the reply did not wait for the backing store
  f.state->complete();
  s = f.cache.stats();
  EXPECT_EQ(s.dirty, 0u);
  EXPECT_EQ(s.flush_batch_count, 0u);
  EXPECT_EQ(f.state->blobs.size(), 1u);
}

TEST(Cache, EmptyBlobRoundTrips) {
  Fixture f;
  util::Digest d = f.store("");
  EXPECT_EQ(util::blobref_format(d), "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709");
  f.state->complete();
  f.cache.dropcache();
  auto r = f.load(d);
  f.state->complete();
  EXPECT_EQ(r->errnum, 0);
  EXPECT_EQ(r->data, "");
}

TEST(Cache, StoreOfCachedBlobIsDeduplicated) {
  Fixture f;
  util::Digest a = f.store("same");
  util::Digest b = f.store("same");
  EXPECT_EQ(a, b);
  CacheStats s = f.cache.stats();
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.size, 4u);
  EXPECT_EQ(s.store_dedups, 1u);
  f.state->complete();
  EXPECT_EQ(f.state->stores, 1);
  f.store("same");
  f.state->complete();
  EXPECT_EQ(f.state->stores, 1);  // a clean duplicate is not written again
  EXPECT_EQ(f.cache.stats().store_dedups, 2u);
}

TEST(Cache, ConcurrentLoadsOfMissingBlobCauseOneBackingRead) {
  Fixture f;
  util::Digest d = f.store("payload");
  f.state->complete();
  f.cache.dropcache();
  ASSERT_EQ(f.cache.stats().count, 0u);
  std::vector<std::shared_ptr<Fixture::Result>> results;
  for (int i = 0; i < 10; i++) results.push_back(f.load(d));
  EXPECT_EQ(f.state->loads, 1);
  EXPECT_EQ(results[0]->errnum, -1);  // nobody answered before the read completes
  CacheStats s = f.cache.stats();
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.valid, 0u);
  f.state->complete();
  for (auto& r : results) {
    EXPECT_EQ(r->errnum, 0);
    EXPECT_EQ(r->data, "payload");
  }
  EXPECT_EQ(f.cache.stats().valid, 1u);
  EXPECT_EQ(f.load(d)->errnum, 0);  // now a hit
  EXPECT_EQ(f.state->loads, 1);
}

TEST(Cache, LoadOfBlobWithNoBackingCopyIsEnoentAndLeavesNoEntry) {
  Fixture f;
  util::Digest d = parse("sha1-0123456789012345678901234567890123456789");
  auto r1 = f.load(d);
  auto r2 = f.load(d);
  f.state->complete();
  EXPECT_EQ(r1->errnum, ENOENT);
  EXPECT_EQ(r1->text, "no such blob");
  EXPECT_EQ(r2->errnum, ENOENT);
  EXPECT_EQ(f.state->loads, 1);
  EXPECT_EQ(f.cache.stats().count, 0u);
}

TEST(Cache, MemoryOnlyCacheAnswersMissWithEnoentAndFlushWithEnosys) {
  Fixture f({}, false);
  util::Digest d = f.store("kept");
  EXPECT_EQ(f.load(d)->data, "kept");
  EXPECT_EQ(f.cache.stats().dirty, 1u);
  std::string why;
  EXPECT_EQ(*f.flush(&why), ENOSYS);
  EXPECT_EQ(why, "there is no backing store to flush to");
  f.cache.dropcache();
  f.now += 1000;
  f.cache.purge();
  EXPECT_EQ(f.load(d)->data, "kept");  // never dropped: memory is its only copy
  util::Digest other = parse("sha1-0123456789012345678901234567890123456789");
  EXPECT_EQ(f.load(other)->errnum, ENOENT);
}

TEST(Cache, BlobLargerThanLimitIsEfbig) {
  Options o;
  o.blob_size_limit = 10;
  Fixture f(o);
  auto too_large = f.cache.store(std::string(11, 'a'));
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.error().errnum, EFBIG);
  EXPECT_EQ(too_large.error().text, "blob too large (11 > limit 10 bytes)");
  EXPECT_TRUE(f.cache.store(std::string(10, 'a')).ok());
  EXPECT_EQ(f.cache.stats().count, 1u);
}

TEST(Cache, LoadOfOtherHashTypeIsEproto) {
  Fixture f;
  util::Digest d = parse(util::blobref_hash(util::HashType::kSha256, "x"));
  EXPECT_EQ(f.load(d)->errnum, EPROTO);
  EXPECT_EQ(f.state->loads, 0);
}

TEST(Cache, AtMostFlushBatchLimitWritesInFlight) {
  Options o;
  o.flush_batch_limit = 4;
  Fixture f(o);
  for (int i = 0; i < 10; i++) f.store(blob_n(i));
  CacheStats s = f.cache.stats();
  EXPECT_EQ(s.flush_batch_count, 4u);
  EXPECT_EQ(s.flush_queue, 6u);
  EXPECT_EQ(f.state->in_flight(), 4u);
  auto flushed = f.flush();
  f.state->complete(1);  // one slot frees, one queued write starts
  EXPECT_EQ(f.cache.stats().flush_batch_count, 4u);
  EXPECT_EQ(f.cache.stats().flush_queue, 5u);
  EXPECT_EQ(*flushed, -1);
  while (f.state->in_flight() > 0) {
    EXPECT_LE(f.state->in_flight(), 4u);
    f.state->complete(1);
  }
  EXPECT_EQ(*flushed, 0);
  EXPECT_EQ(f.state->blobs.size(), 10u);
  EXPECT_EQ(f.cache.stats().dirty, 0u);
}

TEST(Cache, FlushWithNothingDirtyCompletesAtOnce) {
  Fixture f;
  EXPECT_EQ(*f.flush(), 0);
  f.store("x");
  f.state->complete();
  EXPECT_EQ(*f.flush(), 0);
}

TEST(Cache, PurgeDropsLeastRecentlyUsedOldEntriesDownToTargetSize) {
  Options o;
  o.purge_target_size = 250;
  o.purge_old_entry = 10;
  Fixture f(o);
  std::vector<util::Digest> d;
  for (int i = 0; i < 5; i++) {
    d.push_back(f.store(blob_n(i)));  // 100 bytes each
    f.state->complete();              // clean, LRU order 0..4
    f.now += 1;
  }
  f.load(d[0]);  // 0 becomes most recently used: order 1,2,3,4,0
  f.now += 100;
  f.cache.purge();
  CacheStats s = f.cache.stats();
  EXPECT_EQ(s.size, 200u);  // dropped 1,2,3 (500 -> 200 <= 250)
  EXPECT_EQ(s.count, 2u);
  f.load(d[4]);
  f.load(d[0]);
  EXPECT_EQ(f.state->loads, 0);  // both still cached
  f.load(d[1]);
  EXPECT_EQ(f.state->loads, 1);  // dropped
}

TEST(Cache, PurgeKeepsEntriesUsedWithinPurgeOldEntry) {
  Options o;
  o.purge_target_size = 0;
  o.purge_old_entry = 10;
  Fixture f(o);
  util::Digest old = f.store(blob_n(1));
  f.state->complete();
  f.now += 20;
  util::Digest young = f.store(blob_n(2));
  f.state->complete();
  f.now += 5;
  f.cache.purge();
  EXPECT_EQ(f.cache.stats().count, 1u);
  f.load(young);
  EXPECT_EQ(f.state->loads, 0);
  f.load(old);
  EXPECT_EQ(f.state->loads, 1);
}

TEST(Cache, PurgeAndDropcacheNeverDropDirtyEntries) {
  Options o;
  o.purge_target_size = 0;
  o.purge_old_entry = 0;
  o.flush_batch_limit = 1;
  Fixture f(o);
  f.store(blob_n(1));
  f.store(blob_n(2));
  f.state->store_errno = EIO;
  f.state->complete();  // write 1 fails, write 2 starts
  f.now += 100;
  f.cache.purge();  // retries 1 (queued behind 2)
  f.cache.dropcache();
  CacheStats s = f.cache.stats();
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.dirty, 2u);
  f.state->store_errno = 0;
  f.state->complete();
  f.state->complete();
  EXPECT_EQ(f.cache.stats().dirty, 0u);
  f.cache.dropcache();
  EXPECT_EQ(f.cache.stats().count, 0u);
  EXPECT_EQ(f.cache.stats().size, 0u);
}

TEST(Cache, FailedWriteKeepsEntryDirtyAndFlushFailsUntilAWriteSucceeds) {
  Fixture f;
  util::Digest d = f.store("precious");
  f.state->store_errno = ENOSPC;
  std::string why;
  auto r1 = f.flush(&why);
  f.state->complete();
  EXPECT_EQ(*r1, ENOSPC);
  // The backing store's own words, inside the flush's.
  EXPECT_EQ(why, "backing store write failed: fake store of " + util::blobref_format(d) + ": " +
                     std::strerror(ENOSPC) +
                     " (the blobs stay in memory; retry after fixing the cause)");
  CacheStats s = f.cache.stats();
  EXPECT_EQ(s.dirty, 1u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.last_errno, ENOSPC);
  EXPECT_EQ(s.last_failure_errno, ENOSPC);
  EXPECT_EQ(s.backing_errors, 1u);
  auto r2 = f.flush();  // retries, still failing
  f.state->complete();
  EXPECT_EQ(*r2, ENOSPC);
  f.cache.dropcache();
  EXPECT_EQ(f.load(d)->data, "precious");  // nothing lost
  f.state->store_errno = 0;
  auto r3 = f.flush();
  f.state->complete();
  EXPECT_EQ(*r3, 0);
  EXPECT_EQ(f.cache.stats().dirty, 0u);
  EXPECT_EQ(f.cache.stats().last_errno, 0);
  EXPECT_EQ(f.cache.stats().last_failure_errno, ENOSPC);  // what went wrong last, still known
  EXPECT_EQ(f.state->blobs.count(util::blobref_format(d)), 1u);
}

// Writes of one batch can land differently (a file-size limit fails one and passes the next):
// the errno of the failure must outlive the success that follows it, since a warning names it.
TEST(Cache, TheLastFailuresErrnoOutlivesALaterSuccess) {
  Fixture f;
  f.store("first");
  f.store("second");
  auto r = f.flush();
  ASSERT_EQ(f.state->in_flight(), 2u);
  f.state->store_errno = EIO;
  f.state->complete(1);
  f.state->store_errno = 0;
  f.state->complete(1);
  EXPECT_EQ(*r, EIO);
  CacheStats s = f.cache.stats();
  EXPECT_EQ(s.last_errno, 0);  // the last write succeeded
  EXPECT_EQ(s.last_failure_errno, EIO);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.dirty, 1u);
  EXPECT_EQ(s.backing_errors, 1u);
}

TEST(Cache, StoreWhileLoadIsPendingAnswersTheWaiters) {
  Fixture f;
  std::string data = "late";
  util::Digest d = parse(util::blobref_hash(util::HashType::kSha1, data));
  auto r = f.load(d);
  EXPECT_EQ(r->errnum, -1);
  f.store(data);
  EXPECT_EQ(r->errnum, 0);
  EXPECT_EQ(r->data, "late");
  f.state->complete();  // the read (ENOENT) and the write land; the entry stays valid
  CacheStats s = f.cache.stats();
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.valid, 1u);
  EXPECT_EQ(s.dirty, 0u);
  f.cache.dropcache();
  EXPECT_EQ(f.cache.stats().count, 0u);
}

TEST(Cache, ManyEntriesSurviveTableGrowthAndRandomDrops) {
  Options o;
  o.purge_target_size = 0;
  o.purge_old_entry = 0;
  Fixture f(o);
  std::vector<util::Digest> d;
  for (int i = 0; i < 5000; i++) d.push_back(f.store(blob_n(i, 40)));
  f.state->complete();
  // Reload a random half so the LRU and the table see drops interleaved with inserts.
  std::mt19937 rng(42);
  std::vector<int> order(5000);
  for (int i = 0; i < 5000; i++) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  f.cache.dropcache();
  EXPECT_EQ(f.cache.stats().count, 0u);
  for (int k = 0; k < 2500; k++) f.load(d[order[k]]);
  f.state->complete();
  for (int k = 0; k < 2500; k += 2) {
    f.store(blob_n(order[k], 40));  // dedup hits
  }
  f.now += 1;
  f.cache.purge();  // drops all (target 0, old 0)
  for (int i = 0; i < 5000; i += 3) {
    auto r = f.load(d[i]);
    f.state->complete();
    ASSERT_EQ(r->errnum, 0) << i;
    ASSERT_EQ(r->data, blob_n(i, 40)) << i;
  }
  EXPECT_EQ(f.cache.stats().count, (5000u + 2) / 3);
}

TEST(Cache, FlushWaitsOnlyForBlobsDirtyWhenItWasAsked) {
  Fixture f;
  f.store(blob_n(1));
  f.store(blob_n(2));
  auto flushed = f.flush();
  // Stores after the flush was asked, their writes not landing yet.
  for (int i = 3; i < 10; i++) f.store(blob_n(i));
  ASSERT_EQ(f.state->in_flight(), 9u);
  f.state->complete(2);  // the two blobs older than the flush land
  EXPECT_EQ(*flushed, 0);
  EXPECT_EQ(f.cache.stats().dirty, 7u);
  auto second = f.flush();  // a new flush covers the later ones
  f.state->complete(6);
  EXPECT_EQ(*second, -1);
  f.state->complete(1);
  EXPECT_EQ(*second, 0);
  EXPECT_EQ(f.cache.stats().dirty, 0u);
}

TEST(Cache, AFailedWriteOfALaterBlobDoesNotFailAnEarlierFlush) {
  Fixture f;
  f.store(blob_n(1));
  auto flushed = f.flush();
  f.store(blob_n(2));
  // The first write lands last; the later blob's write fails before it.
  auto first = std::move(f.state->pending.front());
  f.state->pending.pop_front();
  f.state->store_errno = EIO;
  f.state->complete(1);
  EXPECT_EQ(*flushed, -1) << "the failure was of a blob stored after the flush";
  f.state->store_errno = 0;
  first();
  EXPECT_EQ(*flushed, 0);
  EXPECT_EQ(f.cache.stats().dirty, 1u);
  EXPECT_EQ(f.cache.stats().failed, 1u);
}

TEST(Cache, AFailedWriteOfAnOlderBlobFailsEveryFlushWaitingForIt) {
  Fixture f;
  f.store(blob_n(1));
  auto first = f.flush();
  f.store(blob_n(2));
  auto second = f.flush();
  f.state->store_errno = ENOSPC;
  f.state->complete(1);  // blob 1 fails: both flushes wait for it
  EXPECT_EQ(*first, ENOSPC);
  EXPECT_EQ(*second, ENOSPC);
}

TEST(Cache, AFlushAnsweredFromItsCallbackCanFlushAgain) {
  Fixture f;
  f.store(blob_n(1));
  std::shared_ptr<int> inner;
  auto outer = std::make_shared<int>(-1);
  f.cache.flush([&](const util::Status& flushed) {
    *outer = flushed ? 0 : flushed.error().errnum;
    f.store(blob_n(2));
    inner = f.flush();
  });
  f.state->complete(1);
  EXPECT_EQ(*outer, 0);
  ASSERT_TRUE(inner);
  EXPECT_EQ(*inner, -1) << "blob 2 is not written yet";
  f.state->complete();
  EXPECT_EQ(*inner, 0);
}

TEST(Cache, PastTheDirtyLimitTheCacheIsFullUntilAWriteLandsAndCallsBack) {
  Options o;
  o.dirty_limit = 250;
  Fixture f(o);
  f.store(blob_n(1));
  f.store(blob_n(2));
  EXPECT_EQ(f.cache.stats().dirty_size, 200u);
  EXPECT_FALSE(f.cache.dirty_full());
  f.store(blob_n(3));  // a store is never refused: the caller holds the next ones
  EXPECT_EQ(f.cache.stats().dirty_size, 300u);
  EXPECT_TRUE(f.cache.dirty_full());
  int called = 0;
  f.cache.when_room([&] { ++called; });
  EXPECT_EQ(called, 0);
  f.state->store_errno = EIO;  // failed writes make no room
  f.state->complete();
  EXPECT_EQ(called, 0);
  EXPECT_TRUE(f.cache.dirty_full());
  f.state->store_errno = 0;
  f.cache.purge();  // retries the failed writes
  f.state->complete();
  EXPECT_EQ(called, 1);
  EXPECT_EQ(f.cache.stats().dirty_size, 0u);
  EXPECT_FALSE(f.cache.dirty_full());
}

TEST(Cache, WithoutABackingStoreTheDirtyLimitNeverApplies) {
  Options o;
  o.dirty_limit = 1;
  Fixture f(o, false);
  f.store(blob_n(1));
  EXPECT_EQ(f.cache.stats().dirty_size, 100u);
  EXPECT_FALSE(f.cache.dirty_full());  // nothing could ever drain it
}

TEST(Cache, DropcacheAndPurgeReturnTheBytesTheyDropped) {
  Options o;
  o.purge_target_size = 250;
  o.purge_old_entry = 0;
  Fixture f(o);
  for (int i = 0; i < 5; ++i) f.store(blob_n(i));
  f.state->complete();
  EXPECT_EQ(f.cache.purge(), 300u);  // down to 200 bytes
  EXPECT_EQ(f.cache.dropcache(), 200u);
  EXPECT_EQ(f.cache.dropcache(), 0u);
}

// ---- a corrupt backing copy, and content.missing's query ------------------------------------

namespace {

// A cache over CheckedBacking over the fake, as the broker builds it.
struct CheckedFixture {
  CheckedFixture()
      : state(std::make_shared<FakeBackingState>()),
        cache({},
              std::make_unique<CheckedBacking>(std::make_unique<FakeBacking>(state),
                                               util::HashType::kSha1, BackingMetrics{}, nullptr),
              [] { return 1000.0; }) {}
  std::shared_ptr<FakeBackingState> state;
  Cache cache;
};

// The answer of cache.missing(keys): the indices, or {errno} as a negative number.
struct MissingAnswer {
  bool answered = false;
  std::vector<size_t> absent;
  int errnum = 0;
  std::string text;
};
std::shared_ptr<MissingAnswer> ask_missing(Cache& cache, const std::vector<util::Digest>& keys) {
  auto a = std::make_shared<MissingAnswer>();
  cache.missing(keys, [a](const util::Result<std::vector<size_t>>& r) {
    a->answered = true;
    if (r)
      a->absent = *r;
    else {
      a->errnum = r.error().errnum;
      a->text = r.error().text;
    }
  });
  return a;
}

}  // namespace

// The end-to-end repair: a load that finds the copy corrupt names it and says how to repair
// it, keeps no entry, so storing the blob again is a new dirty entry whose write replaces the
// copy; after a flush and a dropcache the blob loads from the backing store again.
TEST(Cache, ACorruptBackingCopyIsNamedOnLoadAndReplacedByStoringAgainAndFlushing) {
  CheckedFixture f;
  std::string data = "the real blob";
  util::Digest key = util::Hasher(util::HashType::kSha1).hash(data);
  std::string ref = util::blobref_format(key);
  f.state->blobs[ref] = "the real blob, but damaged";
  int errnum = -1;
  std::string text;
  f.cache.load(key, [&](const util::Result<std::string_view>& blob) {
    errnum = blob ? 0 : blob.error().errnum;
    if (!blob) text = blob.error().text;
  });
  f.state->complete();
  EXPECT_EQ(errnum, EBADMSG);
  EXPECT_NE(text.find("fake object " + ref), std::string::npos) << text;
  EXPECT_NE(text.find("cairn content store"), std::string::npos) << text;
  EXPECT_NE(text.find("cairn content flush"), std::string::npos) << text;
  EXPECT_EQ(f.cache.stats().count, 0u);

  int stores = f.state->stores;
  auto stored = f.cache.store(data);
  ASSERT_TRUE(stored);
  EXPECT_EQ(f.cache.stats().dirty, 1u);
  EXPECT_EQ(f.state->stores, stores + 1);  // the write goes out: it is not deduplicated away
  bool flushed = false;
  f.cache.flush([&](const util::Status& s) { flushed = s.ok(); });
  f.state->complete();
  EXPECT_TRUE(flushed);
  EXPECT_EQ(f.state->blobs[ref], data);

  f.cache.dropcache();
  errnum = -1;
  std::string got;
  f.cache.load(key, [&](const util::Result<std::string_view>& blob) {
    errnum = blob ? 0 : blob.error().errnum;
    if (blob) got = *blob;
  });
  f.state->complete();
  EXPECT_EQ(errnum, 0);
  EXPECT_EQ(got, data);
}

// A read that fails answers every waiter with the backing store's errno and text as they are
// (the client's reply carries them), and keeps no entry; ENOENT stays "no such blob".
TEST(Cache, AFailedLoadAnswersWithTheBackingStoresOwnText) {
  Fixture f;
  util::Digest key = parse(util::blobref_hash(util::HashType::kSha1, "on a sick disk"));
  f.state->load_errno = EIO;
  auto first = f.load(key);
  auto second = f.load(key);  // waits for the same read
  EXPECT_EQ(f.state->loads, 1);
  f.state->complete();
  std::string expected = "fake load of " + util::blobref_format(key) + ": " + std::strerror(EIO);
  EXPECT_EQ(first->errnum, EIO);
  EXPECT_EQ(first->text, expected);
  EXPECT_EQ(second->errnum, EIO);
  EXPECT_EQ(second->text, expected);
  EXPECT_EQ(f.cache.stats().count, 0u);

  f.state->load_errno = 0;
  auto absent = f.load(key);
  f.state->complete();
  EXPECT_EQ(absent->errnum, ENOENT);
  EXPECT_EQ(absent->text, "no such blob");
}

// In memory (dirty or clean) is held and costs no query; everything else is one backing
// query each, all in flight at once; the answer keeps the order of the keys.
TEST(Cache, MissingListsInOrderTheKeysHeldNeitherInMemoryNorOnTheBackingStore) {
  Fixture f;
  util::Digest on_backing = f.store("flushed, then dropped");
  f.state->complete();
  f.cache.dropcache();
  util::Digest in_memory = f.store("dirty, in memory");
  ASSERT_EQ(f.cache.stats().count, 1u);  // in_memory only
  ASSERT_EQ(f.cache.stats().dirty, 1u);
  util::Digest absent1 = parse(util::blobref_hash(util::HashType::kSha1, "never stored"));
  util::Digest absent2 = parse(util::blobref_hash(util::HashType::kSha1, "nor this"));
  int exists_before = f.state->exists;
  auto a = ask_missing(f.cache, {absent1, in_memory, on_backing, absent2, absent1});
  EXPECT_FALSE(a->answered);  // the backing store answers later
  EXPECT_EQ(f.state->exists - exists_before, 4);
  EXPECT_EQ(f.state->in_flight(), 4u + 1u);  // and the dirty blob's write
  f.state->complete();
  ASSERT_TRUE(a->answered);
  EXPECT_EQ(a->errnum, 0) << a->text;
  EXPECT_EQ(a->absent, (std::vector<size_t>{0, 3, 4}));
  EXPECT_EQ(f.cache.stats().count, 1u);  // queries add no entries
}

TEST(Cache, MissingWithEverythingInMemoryOrNoBackingStoreAnswersAtOnce) {
  Fixture f;
  util::Digest held = f.store("held");
  auto a = ask_missing(f.cache, {held, held});
  ASSERT_TRUE(a->answered);
  EXPECT_TRUE(a->absent.empty());
  auto none = ask_missing(f.cache, {});
  ASSERT_TRUE(none->answered);
  EXPECT_TRUE(none->absent.empty());

  Fixture memory({}, false);
  util::Digest kept = memory.store("kept");
  auto m = ask_missing(memory.cache, {parse(util::blobref_hash(util::HashType::kSha1, "x")), kept});
  ASSERT_TRUE(m->answered);
  EXPECT_EQ(m->absent, (std::vector<size_t>{0}));
}

TEST(Cache, MissingFailsWithAFailedQuerysErrnoAndTheBackingStoresText) {
  Fixture f;
  f.state->exists_errno = EIO;
  util::Digest key = parse(util::blobref_hash(util::HashType::kSha1, "unknown"));
  auto a = ask_missing(f.cache, {key});
  f.state->complete();
  ASSERT_TRUE(a->answered);
  EXPECT_EQ(a->errnum, EIO);
  std::string ref = util::blobref_format(key);
  EXPECT_NE(a->text.find("the backing store holds " + ref + ": fake exists of " + ref + ": " +
                         std::strerror(EIO)),
            std::string::npos)
      << a->text;
  EXPECT_NE(a->text.find("ask again once it answers"), std::string::npos) << a->text;

  util::Hasher sha256(util::HashType::kSha256);
  auto other = ask_missing(f.cache, {sha256.hash("x")});
  ASSERT_TRUE(other->answered);
  EXPECT_EQ(other->errnum, EPROTO);
}
