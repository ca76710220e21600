// cairn::content::SqliteBacking: the content cache's backing store, SQLite in WAL mode on a
// thread of its own (see doc/architecture.md). The reactor thread only queues requests and
// runs completions; the store thread owns the sqlite3 connection after open and runs every
// statement; results come back through a reactor::Async. Consecutive writes are committed in
// one transaction; a write whose row holds other bytes (a corrupt copy) replaces it.
// Requests made during one loop iteration are handed to the store thread together, just
// before the loop polls (a reactor::Prepare), so a burst of stores wakes the thread once and
// becomes one transaction instead of one wake-up and one commit per store.
// Invariants: the connection is used by one thread at a time (opened by the caller, then only
// by the store thread); a callback runs on the reactor thread, never inside store()/load();
// destruction finishes the queued requests, joins the thread and drops undelivered callbacks.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "libreactor/reactor.hpp"
#include "libutil/result.hpp"
#include "modules/content-backing/backing.hpp"
#include "modules/content-backing/backing_type.hpp"

namespace cairn::content {

// Owning wrappers of the two SQLite handles.
struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};
using SqliteStmt = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

// errno for an SQLite result code: ENOSPC for SQLITE_FULL, EIO for I/O errors and corruption,
// EROFS, EBUSY, ENOMEM, EACCES, else EIO.
int sqlite_errno(int rc);

// content.backing = sqlite: <statedir>/content.sqlite. It has no keys of its own.
BackingType sqlite_backing_type();

class SqliteBacking : public Backing {
 public:
  // Opens (creating if needed) the database at `path`; an Error (a sentence naming the path
  // and SQLite's reason) if it cannot be opened or set up.
  static util::Result<std::unique_ptr<SqliteBacking>> open(reactor::Loop& loop,
                                                           const std::string& path);
  ~SqliteBacking() override;

  void store(const util::Digest& key, std::string_view data, StoreCallback cb) override;
  void load(const util::Digest& key, LoadCallback cb) override;
  // SELECT 1 on the primary key: the object is not read.
  void exists(const util::Digest& key, ExistsCallback cb) override;
  // "row <blobref> of table objects in <path>"
  std::string describe(const util::Digest& key) const override;

  // Runs `PRAGMA max_page_count = pages` on the store thread (bounds the file size; a write
  // beyond it fails with SQLITE_FULL), then cb(0 or errno).
  void set_max_page_count(uint64_t pages, std::function<void(int errnum)> cb);

  // Write transactions committed so far (each holds one or more stores).
  uint64_t transactions() const { return transactions_.load(); }

 private:
  struct StoreReq {
    util::Digest key;
    std::string_view data;
    StoreCallback cb;
  };
  struct LoadReq {
    util::Digest key;
    LoadCallback cb;
  };
  struct ExistsReq {
    util::Digest key;
    ExistsCallback cb;
  };
  struct PragmaReq {
    std::string sql;
    std::function<void(int)> cb;
  };
  using Request = std::variant<StoreReq, LoadReq, ExistsReq, PragmaReq>;
  // A finished request (its callback still inside), delivered on the reactor thread.
  struct Completion {
    Request req;
    util::Error error;  // errnum 0: success
    std::string data;   // a read's blob
  };
  struct Key {};  // lets only open() construct

  // The Error of a request that failed with SQLite's `rc`: "sqlite: <what>: <SQLite's reason>".
  util::Error failure(int rc, const std::string& what) const;

 public:
  SqliteBacking(Key, reactor::Loop& loop, SqliteDb db);

 private:
  void enqueue(Request req);
  void hand_over();  // moves pending_ to the store thread's queue_
  void thread_main();
  void run_batch(std::vector<Request>& batch, std::vector<Completion>& done);
  void run_stores(std::vector<StoreReq*>& stores, std::vector<Completion>& done);
  void deliver();

  SqliteDb db_;
  std::string path_;  // for messages
  SqliteStmt insert_;
  SqliteStmt select_;
  SqliteStmt exists_;
  SqliteStmt begin_;
  SqliteStmt commit_;
  SqliteStmt rollback_;

  std::mutex mutex_;  // guards queue_, stopping_, done_
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  std::vector<Completion> done_;
  std::atomic<uint64_t> transactions_{0};

  std::vector<Request> pending_;  // reactor thread only: not yet handed to the store thread
  reactor::Prepare hand_over_;    // runs hand_over() before the loop next polls
  reactor::Async async_;
  std::thread thread_;  // last: started after everything it uses exists
};

}  // namespace cairn::content
