// SQLite backing store on its own thread (see sqlite_backing.hpp).
#include "modules/content-sqlite/sqlite_backing.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace cairn::content {

int sqlite_errno(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return ENOSPC;
    case SQLITE_READONLY:
      return EROFS;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return EBUSY;
    case SQLITE_NOMEM:
      return ENOMEM;
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return EACCES;
    case SQLITE_TOOBIG:
      return EFBIG;
    default:
      return EIO;  // SQLITE_IOERR*, SQLITE_CORRUPT, SQLITE_CANTOPEN, ...
  }
}

namespace {

// The prepared statement `sql`; the Error (EIO) quotes it and SQLite's reason.
util::Result<SqliteStmt> prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
    return util::Error{EIO, std::string("cannot prepare `") + sql + "`: " + sqlite3_errmsg(db)};
  return SqliteStmt(st);
}

// Runs a statement that returns no rows; the result code of the last step.
int step_reset(sqlite3_stmt* st) {
  int rc = sqlite3_step(st);
  int rrc = sqlite3_reset(st);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) rc = rrc == SQLITE_OK ? SQLITE_OK : rrc;
  return rc;
}

}  // namespace

util::Result<std::unique_ptr<SqliteBacking>> SqliteBacking::open(reactor::Loop& loop,
                                                                 const std::string& path) {
  // Blobs may be private: create the file 0600 whatever the umask (SQLite would use 0644 less
  // the umask), before SQLite opens it; its -wal and -shm files copy the file's mode.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return util::Error{errno, path + ": cannot open: " + std::strerror(errno)};
  ::close(fd);
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDb db(raw);  // sqlite3_open_v2 may hand back a handle even on failure
  if (rc != SQLITE_OK) {
    return util::Error{sqlite_errno(rc), path + ": cannot open: " +
                                             (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc))};
  }
  // WAL: readers do not block the writer; synchronous=NORMAL keeps committed data across a
  // process kill (not across a power loss), at a fraction of FULL's fsyncs.
  const char* setup =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS objects (hash BLOB PRIMARY KEY, object BLOB NOT NULL);";
  char* msg = nullptr;
  rc = sqlite3_exec(db.get(), setup, nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    util::Error e{sqlite_errno(rc),
                  path + ": cannot set up the content database: " + (msg ? msg : "unknown error")};
    sqlite3_free(msg);
    return e;
  }
  // journal_mode=WAL silently stays "delete" on file systems without shared memory; that is
  // still correct, only slower, so it is not an error.
  auto self = std::make_unique<SqliteBacking>(Key{}, loop, std::move(db));
  auto* s = self.get();
  const std::pair<SqliteStmt*, const char*> statements[] = {
      // A row already holding these bytes is left alone (no page is written); a row whose
      // object differs in size or bytes (a corrupt copy) is replaced. SQLite compares the two
      // blobs by length, then memcmp: exact, and cheaper than hashing what it reads.
      {&s->insert_,
       "INSERT INTO objects (hash, object) VALUES (?1, ?2) ON CONFLICT (hash) DO UPDATE SET "
       "object = excluded.object WHERE objects.object IS NOT excluded.object"},
      {&s->select_, "SELECT object FROM objects WHERE hash = ?1"},
      {&s->exists_, "SELECT 1 FROM objects WHERE hash = ?1"},
      {&s->begin_, "BEGIN IMMEDIATE"},
      {&s->commit_, "COMMIT"},
      {&s->rollback_, "ROLLBACK"},
  };
  for (const auto& [stmt, sql] : statements) {
    auto prepared = prepare(s->db_.get(), sql);
    if (!prepared) return util::Error{prepared.error().errnum, path + ": " + prepared.error().text};
    *stmt = std::move(prepared).value();
  }
  s->path_ = path;
  s->thread_ = std::thread([s] { s->thread_main(); });
  return self;
}

BackingType sqlite_backing_type() {
  return {"sqlite", "SQLite in <statedir>/content.sqlite (WAL, its own thread)", nullptr,
          [](const BackingEnv& env) -> util::Result<std::unique_ptr<Backing>> {
            auto b = SqliteBacking::open(env.loop, env.statedir + "/content.sqlite");
            if (!b) return b.error();
            return std::unique_ptr<Backing>(std::move(b).value());
          }};
}

SqliteBacking::SqliteBacking(Key, reactor::Loop& loop, SqliteDb db)
    : db_(std::move(db)),
      hand_over_(loop, [this](reactor::Prepare&) { hand_over(); }),
      async_(loop, [this](reactor::Async&) { deliver(); }) {
  async_.start();
}

SqliteBacking::~SqliteBacking() {
  hand_over_.stop();
  if (thread_.joinable()) {
    hand_over();  // requests of the last loop iteration still land
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  // Undelivered completions are dropped with done_ (their callbacks are never called).
}

void SqliteBacking::enqueue(Request req) {
  if (pending_.empty()) hand_over_.start();
  pending_.push_back(std::move(req));
}

void SqliteBacking::hand_over() {
  hand_over_.stop();
  if (pending_.empty()) return;
  bool was_idle;
  {
    std::lock_guard lock(mutex_);
    was_idle = queue_.empty();  // else the thread has been woken and will take these too
    for (auto& req : pending_) queue_.push_back(std::move(req));
  }
  pending_.clear();
  if (was_idle) wake_.notify_one();
}

void SqliteBacking::store(const util::Digest& key, std::string_view data, StoreCallback cb) {
  enqueue(StoreReq{key, data, std::move(cb)});
}

void SqliteBacking::load(const util::Digest& key, LoadCallback cb) {
  enqueue(LoadReq{key, std::move(cb)});
}

void SqliteBacking::exists(const util::Digest& key, ExistsCallback cb) {
  enqueue(ExistsReq{key, std::move(cb)});
}

util::Error SqliteBacking::failure(int rc, const std::string& what) const {
  return util::Error{sqlite_errno(rc), "sqlite: " + what + ": " + sqlite3_errstr(rc)};
}

std::string SqliteBacking::describe(const util::Digest& key) const {
  return "row " + util::blobref_format(key) + " of table objects in " + path_;
}

void SqliteBacking::set_max_page_count(uint64_t pages, std::function<void(int)> cb) {
  enqueue(PragmaReq{"PRAGMA max_page_count = " + std::to_string(pages), std::move(cb)});
}

void SqliteBacking::thread_main() {
  std::vector<Request> batch;
  std::vector<Completion> done;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued request is done
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    run_batch(batch, done);
    batch.clear();
    {
      std::lock_guard lock(mutex_);
      for (auto& c : done) done_.push_back(std::move(c));
    }
    done.clear();
    async_.send();
  }
}

void SqliteBacking::run_batch(std::vector<Request>& batch, std::vector<Completion>& done) {
  std::vector<StoreReq*> stores;
  for (auto& req : batch) {
    if (auto* s = std::get_if<StoreReq>(&req)) {
      stores.push_back(s);
      continue;
    }
    // A read, exists or pragma ends the run of writes before it, keeping the order requests came
    // in.
    run_stores(stores, done);
    if (auto* l = std::get_if<LoadReq>(&req)) {
      sqlite3_stmt* st = select_.get();
      sqlite3_bind_blob(st, 1, l->key.bytes.data(), static_cast<int>(l->key.size()), SQLITE_STATIC);
      int rc = sqlite3_step(st);
      util::Error error;
      std::string data;
      if (rc == SQLITE_ROW) {
        auto* p = static_cast<const char*>(sqlite3_column_blob(st, 0));
        data.assign(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, 0)));
      } else if (rc == SQLITE_DONE) {
        error.errnum = ENOENT;
      } else {
        error = failure(rc, "cannot read " + describe(l->key));
      }
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      done.push_back({std::move(req), std::move(error), std::move(data)});
    } else if (auto* e = std::get_if<ExistsReq>(&req)) {
      sqlite3_stmt* st = exists_.get();
      sqlite3_bind_blob(st, 1, e->key.bytes.data(), static_cast<int>(e->key.size()), SQLITE_STATIC);
      int rc = sqlite3_step(st);
      util::Error error;
      if (rc == SQLITE_DONE)
        error.errnum = ENOENT;
      else if (rc != SQLITE_ROW)
        error = failure(rc, "cannot look up " + describe(e->key));
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      done.push_back({std::move(req), std::move(error), {}});
    } else if (auto* p = std::get_if<PragmaReq>(&req)) {
      int rc = sqlite3_exec(db_.get(), p->sql.c_str(), nullptr, nullptr, nullptr);
      util::Error error;
      if (rc != SQLITE_OK) error = failure(rc, p->sql);
      done.push_back({std::move(req), std::move(error), {}});
    }
  }
  run_stores(stores, done);
}

void SqliteBacking::run_stores(std::vector<StoreReq*>& stores, std::vector<Completion>& done) {
  if (stores.empty()) return;
  int rc = step_reset(begin_.get());
  for (size_t i = 0; rc == SQLITE_OK && i < stores.size(); i++) {
    sqlite3_stmt* st = insert_.get();
    const StoreReq& s = *stores[i];
    sqlite3_bind_blob(st, 1, s.key.bytes.data(), static_cast<int>(s.key.size()), SQLITE_STATIC);
    // A zero-length blob must still be bound as a blob (not NULL).
    sqlite3_bind_blob64(st, 2, s.data.empty() ? "" : s.data.data(), s.data.size(), SQLITE_STATIC);
    rc = step_reset(st);
    sqlite3_clear_bindings(st);
  }
  if (rc == SQLITE_OK) rc = step_reset(commit_.get());
  if (rc != SQLITE_OK) {
    // Nothing of this transaction is kept; every write in it fails and stays dirty upstream.
    if (!sqlite3_get_autocommit(db_.get())) step_reset(rollback_.get());
  } else {
    transactions_++;
  }
  util::Error error;
  if (rc != SQLITE_OK)
    error = failure(rc, "cannot write " + std::to_string(stores.size()) + " blob(s) to " + path_);
  for (StoreReq* s : stores) done.push_back({std::move(*s), error, {}});
  stores.clear();
}

void SqliteBacking::deliver() {
  std::vector<Completion> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(done_);
  }
  for (auto& c : ready) {
    util::Status status;
    if (c.error.errnum != 0) status = std::move(c.error);
    if (auto* s = std::get_if<StoreReq>(&c.req))
      s->cb(status);
    else if (auto* l = std::get_if<LoadReq>(&c.req))
      l->cb(status ? util::Result<std::string_view>(c.data)
                   : util::Result<std::string_view>(status.error()));
    else if (auto* e = std::get_if<ExistsReq>(&c.req))
      e->cb(status);
    else if (auto* p = std::get_if<PragmaReq>(&c.req))
      p->cb(status.errnum());
  }
}

}  // namespace cairn::content
