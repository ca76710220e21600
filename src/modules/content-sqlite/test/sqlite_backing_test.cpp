// Unit tests for the SQLite backing store on its thread, alone and under the content cache:
// round trips through the file, a corrupt row replaced by a store, exists, ENOENT, a really full
// database (PRAGMA max_page_count) that fails writes with ENOSPC and recovers once the limit is
// raised, and a drain at destruction.
#include "modules/content-sqlite/sqlite_backing.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "libtest/run_until.hpp"
#include "libtest/temp_dir.hpp"
#include "modules/content/cache.hpp"

using namespace cairn;
using namespace cairn::content;

namespace {

using test::TempDir;

std::string db_of(const TempDir& dir) { return dir.file("content.sqlite"); }

using cairn::test::run_until;

std::unique_ptr<SqliteBacking> open_or_fail(reactor::Loop& loop, const std::string& path) {
  auto b = SqliteBacking::open(loop, path);
  if (!b) {
    ADD_FAILURE() << b.error().text;
    return nullptr;
  }
  return std::move(b).value();
}

util::Status store_status(reactor::Loop& loop, SqliteBacking& b, const util::Digest& key,
                          const std::string& data) {
  std::optional<util::Status> result;
  b.store(key, data, [&](const util::Status& st) { result = st; });
  run_until(loop, [&] { return result.has_value(); });
  return result.value_or(util::Error{ETIMEDOUT, "no answer"});
}

int store_sync(reactor::Loop& loop, SqliteBacking& b, const util::Digest& key,
               const std::string& data) {
  return store_status(loop, b, key, data).errnum();
}

std::pair<int, std::string> load_sync(reactor::Loop& loop, SqliteBacking& b,
                                      const util::Digest& key) {
  int result = -1;
  std::string out;
  b.load(key, [&](const util::Result<std::string_view>& blob) {
    result = blob.errnum();
    if (blob) out = *blob;
  });
  run_until(loop, [&] { return result != -1; });
  return {result, out};
}

util::Digest digest(const std::string& data) {
  util::Hasher h(util::HashType::kSha1);
  return h.hash(data);
}

std::string big_blob(int i, size_t size) {
  std::string s(size, '\0');
  for (size_t k = 0; k < size; k++) s[k] = static_cast<char>((k * 31 + i * 7) & 0xff);
  return s;
}

}  // namespace

TEST(SqliteBacking, StoredBlobIsLoadableFromANewConnection) {
  TempDir dir;
  reactor::Loop loop;
  std::string data("binary\0data\xff", 12);
  {
    auto b = open_or_fail(loop, db_of(dir));
    ASSERT_EQ(store_sync(loop, *b, digest(data), data), 0);
    ASSERT_EQ(store_sync(loop, *b, digest(data), data), 0);  // an existing key is fine
    EXPECT_EQ(b->transactions(), 2u);
  }
  auto b = open_or_fail(loop, db_of(dir));
  auto [errnum, out] = load_sync(loop, *b, digest(data));
  EXPECT_EQ(errnum, 0);
  EXPECT_EQ(out, data);
}

// A row whose object is not the blob (shorter, longer, or other bytes of the same size) is
// replaced when the blob is stored again; a load before that returns the bad bytes as they are
// (the cache's hash check refuses them), and exists() answers from the key alone.
TEST(SqliteBacking, StoringAgainReplacesARowOfTheWrongSizeOrBytes) {
  TempDir dir;
  reactor::Loop loop;
  auto b = open_or_fail(loop, db_of(dir));
  std::string data = "the original blob";
  util::Digest key = digest(data);
  int there = -1;
  b->exists(key, [&](const util::Status& st) { there = st.errnum(); });
  run_until(loop, [&] { return there != -1; });
  EXPECT_EQ(there, ENOENT);
  std::string flipped = data;
  flipped[4] = 'X';
  for (const std::string& bad : {std::string("short"), data + "!", flipped}) {
    ASSERT_EQ(store_sync(loop, *b, key, data), 0);
    {
      // Another connection damages the row, as a bad disk or a stray tool would.
      sqlite3* raw = nullptr;
      ASSERT_EQ(sqlite3_open(db_of(dir).c_str(), &raw), SQLITE_OK);
      SqliteDb other(raw);
      sqlite3_stmt* st = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(raw, "UPDATE objects SET object = ?1 WHERE hash = ?2", -1, &st,
                                   nullptr),
                SQLITE_OK);
      SqliteStmt update(st);
      sqlite3_bind_blob(st, 1, bad.data(), static_cast<int>(bad.size()), SQLITE_STATIC);
      sqlite3_bind_blob(st, 2, key.bytes.data(), static_cast<int>(key.size()), SQLITE_STATIC);
      ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
      ASSERT_EQ(sqlite3_changes(raw), 1);
    }
    EXPECT_EQ(load_sync(loop, *b, key).second, bad);
    there = -1;
    b->exists(key, [&](const util::Status& st) { there = st.errnum(); });
    run_until(loop, [&] { return there != -1; });
    EXPECT_EQ(there, 0);
    ASSERT_EQ(store_sync(loop, *b, key, data), 0);
    auto [errnum, out] = load_sync(loop, *b, key);
    EXPECT_EQ(errnum, 0);
    EXPECT_EQ(out, data) << "the bad row of " << bad.size() << " bytes was kept";
  }
  EXPECT_EQ(b->describe(key),
            "row " + util::blobref_format(key) + " of table objects in " + db_of(dir));
}

// Stores made in one loop iteration reach the store thread together, as one transaction,
// however the thread happens to be scheduled.
TEST(SqliteBacking, StoresOfOneLoopIterationShareOneTransaction) {
  TempDir dir;
  reactor::Loop loop;
  auto b = open_or_fail(loop, db_of(dir));
  ASSERT_TRUE(b);
  constexpr int kStores = 200;
  std::vector<std::string> blobs;
  for (int i = 0; i < kStores; i++) blobs.push_back(big_blob(i, 1024));
  int done = 0, failed = 0;
  for (auto& blob : blobs)
    b->store(digest(blob), blob, [&](const util::Status& status) {
      done++;
      if (!status) failed++;
    });
  ASSERT_TRUE(run_until(loop, [&] { return done == kStores; }));
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(b->transactions(), 1u);
  for (int i : {0, kStores / 2, kStores - 1}) {
    auto [errnum, data] = load_sync(loop, *b, digest(blobs[i]));
    EXPECT_EQ(errnum, 0);
    EXPECT_EQ(data, blobs[i]);
  }
}

TEST(SqliteBacking, EmptyBlobRoundTrips) {
  TempDir dir;
  reactor::Loop loop;
  auto b = open_or_fail(loop, db_of(dir));
  ASSERT_EQ(store_sync(loop, *b, digest(""), ""), 0);
  auto [errnum, out] = load_sync(loop, *b, digest(""));
  EXPECT_EQ(errnum, 0);
  EXPECT_EQ(out, "");
}

TEST(SqliteBacking, LoadOfMissingKeyIsEnoent) {
  TempDir dir;
  reactor::Loop loop;
  auto b = open_or_fail(loop, db_of(dir));
  EXPECT_EQ(load_sync(loop, *b, digest("never stored")).first, ENOENT);
}

TEST(SqliteBacking, TheDatabaseIsCreatedPrivateWhateverTheUmask) {
  TempDir dir;
  reactor::Loop loop;
  mode_t old = umask(0);
  auto b = open_or_fail(loop, db_of(dir));
  umask(old);
  ASSERT_TRUE(b);
  struct stat st;
  ASSERT_EQ(stat(db_of(dir).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(SqliteBacking, OpenOfUnwritablePathFailsWithAReason) {
  reactor::Loop loop;
  auto b = SqliteBacking::open(loop, "/nonexistent-dir/content.sqlite");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().errnum, 0);
  EXPECT_NE(b.error().text.find("/nonexistent-dir/content.sqlite"), std::string::npos)
      << b.error().text;
}

TEST(SqliteBacking, SqliteResultCodesMapToErrno) {
  EXPECT_EQ(sqlite_errno(SQLITE_FULL), ENOSPC);
  EXPECT_EQ(sqlite_errno(SQLITE_IOERR_WRITE), EIO);
  EXPECT_EQ(sqlite_errno(SQLITE_IOERR), EIO);
  EXPECT_EQ(sqlite_errno(SQLITE_READONLY), EROFS);
}

TEST(SqliteBacking, FullDatabaseFailsWritesWithEnospcUntilLimitIsRaised) {
  TempDir dir;
  reactor::Loop loop;
  auto b = open_or_fail(loop, db_of(dir));
  int r = -1;
  b->set_max_page_count(1, [&](int errnum) { r = errnum; });  // clamps to the current size
  run_until(loop, [&] { return r != -1; });
  ASSERT_EQ(r, 0);
  std::string blob = big_blob(1, 64 * 1024);
  util::Status full = store_status(loop, *b, digest(blob), blob);
  ASSERT_EQ(full.errnum(), ENOSPC);
  // SQLite's words reach the caller, naming the database.
  EXPECT_EQ(full.error().text,
            "sqlite: cannot write 1 blob(s) to " + db_of(dir) + ": " + sqlite3_errstr(SQLITE_FULL));
  EXPECT_EQ(load_sync(loop, *b, digest(blob)).first, ENOENT);  // the transaction rolled back
  r = -1;
  b->set_max_page_count(1000000, [&](int errnum) { r = errnum; });
  run_until(loop, [&] { return r != -1; });
  EXPECT_EQ(store_sync(loop, *b, digest(blob), blob), 0);
  EXPECT_EQ(load_sync(loop, *b, digest(blob)).second, blob);
}

TEST(SqliteBacking, DestructionFinishesQueuedWrites) {
  TempDir dir;
  reactor::Loop loop;
  std::vector<std::string> blobs;
  for (int i = 0; i < 200; i++) blobs.push_back(big_blob(i, 1000));
  {
    auto b = open_or_fail(loop, db_of(dir));
    for (auto& s : blobs) b->store(digest(s), s, [](const util::Status&) {});
  }  // no loop iteration: callbacks are dropped, but the writes land
  auto b = open_or_fail(loop, db_of(dir));
  for (auto& s : blobs) ASSERT_EQ(load_sync(loop, *b, digest(s)).second, s);
}

// The cache over a really full SQLite file: flush fails with ENOSPC, the entries stay dirty and
// loadable, and once space is back a flush writes them all; a new cache finds them on disk.
TEST(CacheOverSqlite, FullDiskKeepsEntriesDirtyAndFlushRecovers) {
  TempDir dir;
  reactor::Loop loop;
  std::vector<std::string> blobs;
  for (int i = 0; i < 50; i++) blobs.push_back(big_blob(i, 8 * 1024));
  std::vector<util::Digest> refs;
  {
    auto backing = open_or_fail(loop, db_of(dir));
    ASSERT_TRUE(backing);
    SqliteBacking* sqlite = backing.get();
    Options o;
    o.flush_batch_limit = 8;
    Cache cache(o, std::move(backing), [&loop] { return loop.now(); });
    int r = -1;
    sqlite->set_max_page_count(1, [&](int errnum) { r = errnum; });
    run_until(loop, [&] { return r != -1; });
    for (auto& s : blobs) {
      auto d = cache.store(s);
      ASSERT_TRUE(d.ok());
      refs.push_back(*d);
    }
    int flushed = -1;
    cache.flush([&](const util::Status& st) { flushed = st.errnum(); });
    run_until(loop, [&] { return flushed != -1; });
    EXPECT_EQ(flushed, ENOSPC);
    run_until(loop, [&] { return cache.stats().flush_batch_count == 0; });
    CacheStats s = cache.stats();
    EXPECT_EQ(s.dirty, 50u);
    EXPECT_EQ(s.last_errno, ENOSPC);
    cache.dropcache();
    EXPECT_EQ(cache.stats().count, 50u);  // dirty: nothing dropped
    for (size_t i = 0; i < blobs.size(); i++) {
      int got = -1;
      cache.load(refs[i], [&](const util::Result<std::string_view>& data) {
        got = data.errnum();
        EXPECT_EQ(data ? *data : std::string_view(), blobs[i]);
      });
      EXPECT_EQ(got, 0);
    }
    flushed = -1;
    cache.flush([&](const util::Status& st) { flushed = st.errnum(); });  // still full
    run_until(loop, [&] { return flushed != -1; });
    EXPECT_EQ(flushed, ENOSPC);
    run_until(loop, [&] { return cache.stats().flush_batch_count == 0; });

    r = -1;
    sqlite->set_max_page_count(1000000, [&](int errnum) { r = errnum; });
    run_until(loop, [&] { return r != -1; });
    flushed = -1;
    cache.flush([&](const util::Status& st) { flushed = st.errnum(); });
    run_until(loop, [&] { return flushed != -1; });
    EXPECT_EQ(flushed, 0);
    EXPECT_EQ(cache.stats().dirty, 0u);
    EXPECT_EQ(cache.stats().last_errno, 0);
  }
  Cache cache({}, open_or_fail(loop, db_of(dir)), [&loop] { return loop.now(); });
  int found = 0;
  for (size_t i = 0; i < blobs.size(); i++) {
    cache.load(refs[i], [&, i](const util::Result<std::string_view>& data) {
      if (data && *data == blobs[i]) found++;
    });
  }
  run_until(loop, [&] { return found == 50; });
  EXPECT_EQ(found, 50);
}

TEST(CacheOverSqlite, ConcurrentLoadsOfOneBlobReadTheFileOnce) {
  TempDir dir;
  reactor::Loop loop;
  auto backing = open_or_fail(loop, db_of(dir));
  ASSERT_TRUE(backing);
  Cache cache({}, std::move(backing), [&loop] { return loop.now(); });
  auto stored = cache.store("shared");
  ASSERT_TRUE(stored.ok());
  util::Digest d = *stored;
  int flushed = -1;
  cache.flush([&](const util::Status& st) { flushed = st.errnum(); });
  run_until(loop, [&] { return flushed != -1; });
  cache.dropcache();
  int answered = 0;
  for (int i = 0; i < 20; i++)
    cache.load(d, [&](const util::Result<std::string_view>& data) {
      EXPECT_EQ(data ? *data : std::string_view(data.error().text), "shared");
      answered++;
    });
  run_until(loop, [&] { return answered == 20; });
  EXPECT_EQ(cache.stats().load_misses, 20u);
  EXPECT_EQ(cache.stats().count, 1u);
}
