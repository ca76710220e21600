// cairn::content::Cache: the content cache as a plain class (no broker needed); its place in
// the broker is in doc/architecture.md.
//
// Entries live in a slab of fixed-size chunks, addressed by a 32-bit index; a hash table of
// indices (open addressing, linear probing, keyed by the digest bytes stored in the entry) finds
// them. No per-entry heap node exists; blobs live in a BlobArena (blob_arena.hpp), which the
// Cache alone allocates from and releases to.
//
// Invariants (checked by the unit tests through stats()):
//  - An entry is VALID when it holds its blob, DIRTY when the backing store may not have it.
//    Every entry in the table is valid, or has a backing load in flight (LOADING), or both.
//  - The LRU list holds exactly the entries that are valid, clean and not LOADING; only these
//    can be dropped (purge, dropcache). Dirty entries are never dropped.
//  - With a backing store, each dirty entry is in exactly one of: the flush queue (QUEUED),
//    the set of writes in flight (WRITING, at most flush_batch_limit of them), or the failed
//    list (FAILED, retried on the next flush() or purge()). Without one, dirty entries stay in
//    memory on no list and flush() fails with ENOSYS.
//  - An entry with a backing request in flight (WRITING or LOADING) is never freed, so the
//    index captured by the request's callback stays valid; the blob a write reads is immutable.
//  - The Cache owns its Backing and destroys it first, so no callback outlives the Cache.
//  - size counts the bytes of valid blobs; count the entries in the table.
//  - Flush epochs: a dirty entry carries the epoch it was marked dirty in; dirty_epochs_ counts
//    the dirty entries of each epoch (ascending, no zero counts). A flush asked in epoch E
//    closes E (later stores go to E+1) and is answered once no dirty entry of an epoch <= E is
//    left, so stores that arrive after it never delay it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "libutil/blobref.hpp"
#include "libutil/result.hpp"
#include "modules/content-backing/backing.hpp"
#include "modules/content/blob_arena.hpp"

namespace cairn::content {

struct Options {
  util::HashType hash = util::HashType::kSha1;
  uint64_t blob_size_limit = 1073741824;  // larger stores fail with EFBIG (at most 4 GiB - 1)
  uint32_t flush_batch_limit = 256;       // backing-store writes in flight
  uint64_t purge_target_size = 16777216;  // purge drops clean entries while size exceeds this
  double purge_old_entry = 10;            // ... and only entries unused this many seconds
  uint64_t dirty_limit = 0;  // with a backing store: dirty bytes past which dirty_full(); 0: none
};

struct CacheStats {
  uint64_t count = 0;              // entries
  uint64_t valid = 0;              // entries holding their blob
  uint64_t dirty = 0;              // entries not yet on the backing store
  uint64_t dirty_size = 0;         // bytes of the dirty entries' blobs
  uint64_t size = 0;               // bytes of valid blobs
  uint64_t flush_batch_count = 0;  // writes in flight
  uint64_t flush_queue = 0;        // dirty entries waiting for a write slot
  uint64_t failed = 0;             // dirty entries whose last write failed
  // Running totals.
  uint64_t load_hits = 0;
  uint64_t load_misses = 0;     // loads that went to (or joined a read of) the backing store
  uint64_t store_dedups = 0;    // stores of a blob already valid in the cache
  uint64_t backing_errors = 0;  // failed backing writes
  int last_errno = 0;           // errno of the last write, 0 after a success
  int last_failure_errno = 0;   // errno of the last failed write, kept after a success
  uint64_t arena_bytes = 0;     // memory the blob arena holds from the system (BlobArena)
};

class Cache {
 public:
  // Time in seconds (the reactor's loop time in the broker; a fake in tests).
  using Clock = std::function<double()>;
  // The blob (a view valid only during the call), or why there is none: the Error's text is
  // what a client is told (e.g. ENOENT "no such blob").
  using LoadCallback = std::function<void(const util::Result<std::string_view>& blob)>;
  // Success, or the failed write's errno with the text a client is told.
  using FlushCallback = std::function<void(const util::Status& status)>;

  // `backing` may be null: memory only (loads of unknown blobs fail with ENOENT).
  Cache(Options opts, std::unique_ptr<Backing> backing, Clock clock);
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  const Options& options() const { return opts_; }
  bool has_backing() const { return backing_ != nullptr; }

  // Keeps `data` in memory (write-back: its backing write starts in the background) and returns
  // its digest; EFBIG if data is larger than blob_size_limit. A blob already cached is not
  // copied again (dedup).
  util::Result<util::Digest> store(std::string_view data);

  // Answers with the blob of `key`: at once on a hit (cb runs before load() returns), later
  // after one backing read shared by every load of that key that arrives meanwhile. ENOENT if
  // no copy exists anywhere; EPROTO if key is not of the cache's hash type; EBADMSG if the
  // backing store's copy is corrupt; the backing store's errno if its read failed.
  void load(const util::Digest& key, LoadCallback cb);

  // The blob of `key` if it is in memory (a hit, counted and marked used as load() would);
  // nullopt otherwise, counting nothing: the caller then calls load(). The view is valid until
  // the cache is next changed. A key of another hash type is never found.
  std::optional<std::string_view> lookup(const util::Digest& key);

  // Answers which of `keys` neither the cache nor the backing store holds: the indices into
  // `keys` of those, ascending. A key held in memory (valid, dirty or not) is held; any other
  // is asked of the backing store (Backing::exists, its cheapest query, off the loop thread),
  // all at once; without a backing store it is missing. Never answers inside the call unless
  // no key needs the backing store. Fails with the first failed query's errno (text naming the
  // backing object), or EPROTO if a key is not of the cache's hash type.
  using MissingCallback = std::function<void(const util::Result<std::vector<size_t>>& missing)>;
  void missing(const std::vector<util::Digest>& keys, MissingCallback cb);

  // Calls cb with success once every entry that is dirty now is on the backing store (retrying
  // failed writes; entries stored later do not delay it), or with the errno of the first write
  // of one of those entries that fails; ENOSYS without a backing store.
  void flush(FlushCallback cb);

  // Whether the dirty bytes have reached dirty_limit (never without a backing store, whose
  // dirty entries could never drain): a caller that honours the bound holds its stores until
  // when_room() calls back. A store is never refused for it.
  bool dirty_full() const {
    return backing_ && opts_.dirty_limit != 0 && stats_.dirty_size >= opts_.dirty_limit;
  }
  // Calls `cb` once, after a backing write completes and dirty_full() is false (not from inside
  // this call, even if it is false now: only a completed write makes room). A later call
  // replaces an earlier callback not yet called.
  void when_room(std::function<void()> cb) { room_cb_ = std::move(cb); }

  // Drops every clean valid entry; returns the bytes of the blobs dropped.
  uint64_t dropcache();

  // Returns the blob arena's free memory to the kernel (after a purge or dropcache that freed
  // much); returns the bytes given back.
  uint64_t release_free_memory() { return arena_.trim(); }

  // Heartbeat work: retries failed writes, then drops least recently used clean entries unused
  // for purge_old_entry seconds while size exceeds purge_target_size. Returns the bytes dropped.
  uint64_t purge();

  CacheStats stats() const;

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  static constexpr uint32_t kChunkBits = 12;  // 4096 entries per slab chunk
  enum Flag : uint8_t {
    kValid = 1 << 0,
    kDirty = 1 << 1,
    kLoading = 1 << 2,
    kQueued = 1 << 3,
    kWriting = 1 << 4,
    kFailed = 1 << 5,
  };
  // 72 bytes with a 32-byte key.
  struct Entry {
    std::array<uint8_t, util::kMaxDigestSize> key;
    char* data = nullptr;  // in arena_; null when invalid or empty
    double last_used = 0;
    uint64_t epoch = 0;  // while dirty: the flush epoch it was marked dirty in
    uint32_t size = 0;
    uint32_t prev = kNil;  // LRU links; `next` also links the free list
    uint32_t next = kNil;
    uint8_t flags = 0;
  };

  Entry& entry(uint32_t idx) { return chunks_[idx >> kChunkBits][idx & ((1u << kChunkBits) - 1)]; }
  const Entry& entry(uint32_t idx) const {
    return chunks_[idx >> kChunkBits][idx & ((1u << kChunkBits) - 1)];
  }
  std::string_view blob(const Entry& e) const { return {e.data, e.size}; }
  util::Digest digest_of(const Entry& e) const;

  // Hash table of entry indices.
  size_t home_slot(const uint8_t* key) const;
  uint32_t find(const util::Digest& key) const;
  void table_insert(uint32_t idx);
  void table_erase(uint32_t idx);
  void table_grow();

  uint32_t alloc_entry(const util::Digest& key);
  void free_entry(uint32_t idx);  // must be off every list, no request in flight

  void lru_unlink(uint32_t idx);
  void lru_push_back(uint32_t idx);  // most recently used end
  void lru_sync(uint32_t idx);       // on the LRU iff valid, clean and not loading
  void touch(uint32_t idx);

  void set_blob(uint32_t idx, std::string_view data);
  void drop_blob(Entry& e);  // gives e's buffer back to the arena
  void mark_dirty(uint32_t idx);
  void start_writes();
  void on_write_done(uint32_t idx, const util::Status& status);
  void on_load_done(uint32_t idx, const util::Result<std::string_view>& loaded);
  // The blob of entry idx (kNil: none) if it is valid, counted as a hit and marked used.
  std::optional<std::string_view> hit(uint32_t idx);
  void requeue_failed();
  void mark_clean(uint32_t idx);
  // Answers the flushes whose epochs hold no dirty entry any more.
  void finish_flushes();
  // Fails the flushes that wait for an entry of `epoch` (or a later one): the backing store's
  // `why`, in a flush's words.
  void fail_flushes(uint64_t epoch, const util::Error& why);

  Options opts_;
  std::unique_ptr<Backing> backing_;
  Clock clock_;
  util::Hasher hasher_;
  BlobArena arena_;

  std::vector<std::unique_ptr<Entry[]>> chunks_;
  uint32_t slab_used_ = 0;  // indices handed out so far
  uint32_t free_head_ = kNil;
  std::vector<uint32_t> slots_;  // kNil = empty; size is a power of two
  size_t slot_mask_ = 0;

  uint32_t lru_head_ = kNil;  // least recently used
  uint32_t lru_tail_ = kNil;
  std::deque<uint32_t> flush_queue_;
  std::vector<uint32_t> failed_;
  std::unordered_map<uint32_t, std::vector<LoadCallback>> load_waiters_;
  struct FlushWaiter {
    uint64_t epoch;  // answered once no dirty entry of this epoch or an earlier one is left
    FlushCallback cb;
  };
  std::deque<FlushWaiter> flush_waiters_;                   // ascending epochs
  uint64_t epoch_ = 0;                                      // epoch of entries marked dirty now
  std::deque<std::pair<uint64_t, uint64_t>> dirty_epochs_;  // (epoch, dirty entries), ascending
  std::function<void()> room_cb_;                           // when_room(); empty once called

  CacheStats stats_;
};

}  // namespace cairn::content
