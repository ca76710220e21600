// The content cache (see cache.hpp for the invariants this file keeps).
#include "modules/content/cache.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace cairn::content {

namespace {
constexpr size_t kInitialSlots = 1024;
// Grow the table when it would be more than 70% full (linear probing stays short).
constexpr size_t kMaxLoadNum = 7, kMaxLoadDen = 10;

util::Error no_such_blob() { return util::Error{ENOENT, "no such blob"}; }

// Why a backing read that failed gives no blob, in a client's words: the backing store's own
// (see Backing), but for ENOENT, which is the protocol's "no such blob".
util::Error load_error(const util::Error& e) {
  if (e.errnum == ENOENT) return no_such_blob();
  return e;
}
}  // namespace

Cache::Cache(Options opts, std::unique_ptr<Backing> backing, Clock clock)
    : opts_(opts), backing_(std::move(backing)), clock_(std::move(clock)), hasher_(opts.hash) {
  if (opts_.blob_size_limit > UINT32_MAX) opts_.blob_size_limit = UINT32_MAX;
  if (opts_.flush_batch_limit == 0) opts_.flush_batch_limit = 1;
  slots_.assign(kInitialSlots, kNil);
  slot_mask_ = kInitialSlots - 1;
}

Cache::~Cache() {
  // First, so that no backing callback can run against a half-destroyed cache.
  backing_.reset();
  for (uint32_t idx = 0; idx < slab_used_; idx++) drop_blob(entry(idx));
}

util::Digest Cache::digest_of(const Entry& e) const {
  util::Digest d;
  d.type = opts_.hash;
  d.bytes = e.key;
  return d;
}

// ---- hash table -------------------------------------------------------------------------

size_t Cache::home_slot(const uint8_t* key) const {
  // Digest bytes are already uniform; fold the first eight and spread them (Fibonacci hashing).
  uint64_t h;
  std::memcpy(&h, key, sizeof h);
  h *= 0x9E3779B97F4A7C15ull;
  return static_cast<size_t>(h >> 32) & slot_mask_;
}

uint32_t Cache::find(const util::Digest& key) const {
  const size_t n = key.size();
  for (size_t i = home_slot(key.bytes.data());; i = (i + 1) & slot_mask_) {
    uint32_t idx = slots_[i];
    if (idx == kNil) return kNil;
    if (std::memcmp(entry(idx).key.data(), key.bytes.data(), n) == 0) return idx;
  }
}

void Cache::table_insert(uint32_t idx) {
  if ((stats_.count + 1) * kMaxLoadDen > slots_.size() * kMaxLoadNum) table_grow();
  size_t i = home_slot(entry(idx).key.data());
  while (slots_[i] != kNil) i = (i + 1) & slot_mask_;
  slots_[i] = idx;
  stats_.count++;
}

void Cache::table_erase(uint32_t idx) {
  size_t i = home_slot(entry(idx).key.data());
  while (slots_[i] != idx) i = (i + 1) & slot_mask_;
  // Backward-shift deletion: pull later members of the probe run into the hole, so lookups
  // never need tombstones.
  for (size_t j = (i + 1) & slot_mask_; slots_[j] != kNil; j = (j + 1) & slot_mask_) {
    size_t home = home_slot(entry(slots_[j]).key.data());
    if (((j - home) & slot_mask_) >= ((j - i) & slot_mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = kNil;
  stats_.count--;
}

void Cache::table_grow() {
  std::vector<uint32_t> old(slots_.size() * 2, kNil);
  old.swap(slots_);
  slot_mask_ = slots_.size() - 1;
  for (uint32_t idx : old) {
    if (idx == kNil) continue;
    size_t i = home_slot(entry(idx).key.data());
    while (slots_[i] != kNil) i = (i + 1) & slot_mask_;
    slots_[i] = idx;
  }
}

// ---- slab ---------------------------------------------------------------------------------

uint32_t Cache::alloc_entry(const util::Digest& key) {
  uint32_t idx;
  if (free_head_ != kNil) {
    idx = free_head_;
    free_head_ = entry(idx).next;
  } else {
    idx = slab_used_++;
    if ((idx >> kChunkBits) == chunks_.size())
      chunks_.push_back(std::make_unique<Entry[]>(size_t{1} << kChunkBits));
  }
  Entry& e = entry(idx);
  e.key = key.bytes;
  drop_blob(e);
  e.size = 0;
  e.prev = e.next = kNil;
  e.flags = 0;
  e.last_used = clock_();
  table_insert(idx);
  return idx;
}

void Cache::free_entry(uint32_t idx) {
  table_erase(idx);
  Entry& e = entry(idx);
  if (e.flags & kValid) {
    stats_.valid--;
    stats_.size -= e.size;
  }
  drop_blob(e);
  e.size = 0;
  e.flags = 0;
  e.prev = kNil;
  e.next = free_head_;
  free_head_ = idx;
}

// ---- LRU ----------------------------------------------------------------------------------

void Cache::lru_unlink(uint32_t idx) {
  Entry& e = entry(idx);
  if (e.prev != kNil)
    entry(e.prev).next = e.next;
  else
    lru_head_ = e.next;
  if (e.next != kNil)
    entry(e.next).prev = e.prev;
  else
    lru_tail_ = e.prev;
  e.prev = e.next = kNil;
}

void Cache::lru_push_back(uint32_t idx) {
  Entry& e = entry(idx);
  e.prev = lru_tail_;
  e.next = kNil;
  if (lru_tail_ != kNil)
    entry(lru_tail_).next = idx;
  else
    lru_head_ = idx;
  lru_tail_ = idx;
}

void Cache::lru_sync(uint32_t idx) {
  const Entry& e = entry(idx);
  bool belongs = (e.flags & (kValid | kDirty | kLoading)) == kValid;
  bool linked = e.prev != kNil || lru_head_ == idx;
  if (belongs && !linked) lru_push_back(idx);
  if (!belongs && linked) lru_unlink(idx);
}

void Cache::touch(uint32_t idx) {
  Entry& e = entry(idx);
  e.last_used = clock_();
  if (e.prev != kNil || lru_head_ == idx) {
    if (lru_tail_ != idx) {
      lru_unlink(idx);
      lru_push_back(idx);
    }
  }
}

// ---- store --------------------------------------------------------------------------------

void Cache::set_blob(uint32_t idx, std::string_view data) {
  Entry& e = entry(idx);
  drop_blob(e);
  if (!data.empty()) {
    e.data = arena_.allocate(static_cast<uint32_t>(data.size()));
    std::memcpy(e.data, data.data(), data.size());
  }
  e.size = static_cast<uint32_t>(data.size());
  e.flags |= kValid;
  stats_.valid++;
  stats_.size += data.size();
}

void Cache::drop_blob(Entry& e) {
  if (!e.data) return;
  arena_.release(e.data, e.size);
  e.data = nullptr;
}

void Cache::mark_dirty(uint32_t idx) {
  Entry& e = entry(idx);
  e.flags |= kDirty;
  e.epoch = epoch_;
  stats_.dirty++;
  stats_.dirty_size += e.size;
  if (dirty_epochs_.empty() || dirty_epochs_.back().first != epoch_)
    dirty_epochs_.emplace_back(epoch_, 0);
  dirty_epochs_.back().second++;
  if (backing_) {
    e.flags |= kQueued;
    flush_queue_.push_back(idx);
  }
}

util::Result<util::Digest> Cache::store(std::string_view data) {
  if (data.size() > opts_.blob_size_limit) {
    return util::Error{EFBIG, fmt::format("blob too large ({} > limit {} bytes)", data.size(),
                                          opts_.blob_size_limit)};
  }
  util::Digest key = hasher_.hash(data);
  uint32_t idx = find(key);
  if (idx != kNil && (entry(idx).flags & kValid)) {
    stats_.store_dedups++;
    touch(idx);
    return key;
  }
  if (idx == kNil) idx = alloc_entry(key);
  // A new entry, or one whose backing load is still in flight: whether the backing store has
  // the blob is unknown, so it is written (an existing key is a no-op write there).
  set_blob(idx, data);
  mark_dirty(idx);
  touch(idx);
  auto it = load_waiters_.find(idx);
  if (it != load_waiters_.end()) {
    auto waiters = std::move(it->second);
    load_waiters_.erase(it);
    const util::Result<std::string_view> blob(data);
    for (auto& w : waiters) w(blob);
  }
  start_writes();
  return key;
}

void Cache::start_writes() {
  while (stats_.flush_batch_count < opts_.flush_batch_limit && !flush_queue_.empty()) {
    uint32_t idx = flush_queue_.front();
    flush_queue_.pop_front();
    Entry& e = entry(idx);
    e.flags = static_cast<uint8_t>((e.flags & ~kQueued) | kWriting);
    stats_.flush_batch_count++;
    backing_->store(digest_of(e), blob(e),
                    [this, idx](const util::Status& status) { on_write_done(idx, status); });
  }
}

void Cache::on_write_done(uint32_t idx, const util::Status& status) {
  Entry& e = entry(idx);
  e.flags &= static_cast<uint8_t>(~kWriting);
  stats_.flush_batch_count--;
  stats_.last_errno = status.errnum();
  if (status) {
    mark_clean(idx);
  } else {
    e.flags |= kFailed;
    failed_.push_back(idx);
    stats_.backing_errors++;
    stats_.last_failure_errno = status.errnum();
    fail_flushes(e.epoch, status.error());
  }
  start_writes();
  finish_flushes();
  if (room_cb_ && !dirty_full()) std::exchange(room_cb_, nullptr)();
}

void Cache::mark_clean(uint32_t idx) {
  Entry& e = entry(idx);
  e.flags &= static_cast<uint8_t>(~kDirty);
  stats_.dirty--;
  stats_.dirty_size -= e.size;
  auto it = std::lower_bound(dirty_epochs_.begin(), dirty_epochs_.end(),
                             std::make_pair(e.epoch, uint64_t{0}));
  if (it != dirty_epochs_.end() && it->first == e.epoch && --it->second == 0)
    dirty_epochs_.erase(it);
  // Becoming clean counts as a use, which keeps the LRU ordered by last_used.
  e.last_used = clock_();
  lru_sync(idx);
}

void Cache::requeue_failed() {
  for (uint32_t idx : failed_) {
    Entry& e = entry(idx);
    e.flags = static_cast<uint8_t>((e.flags & ~kFailed) | kQueued);
    flush_queue_.push_back(idx);
  }
  failed_.clear();
}

// ---- load ---------------------------------------------------------------------------------

void Cache::load(const util::Digest& key, LoadCallback cb) {
  if (key.type != opts_.hash) {
    cb(util::Error{EPROTO, fmt::format("the blobref is not {}", util::hash_name(opts_.hash))});
    return;
  }
  uint32_t idx = find(key);
  if (auto blob = hit(idx)) {
    cb(*blob);
    return;
  }
  if (idx != kNil) {
    // A backing read of this key is in flight: wait for it instead of issuing another.
    stats_.load_misses++;
    load_waiters_[idx].push_back(std::move(cb));
    return;
  }
  stats_.load_misses++;
  if (!backing_) {
    cb(no_such_blob());
    return;
  }
  idx = alloc_entry(key);
  entry(idx).flags = kLoading;
  load_waiters_[idx].push_back(std::move(cb));
  backing_->load(key, [this, idx](const util::Result<std::string_view>& loaded) {
    on_load_done(idx, loaded);
  });
}

std::optional<std::string_view> Cache::lookup(const util::Digest& key) {
  if (key.type != opts_.hash) return std::nullopt;
  return hit(find(key));
}

std::optional<std::string_view> Cache::hit(uint32_t idx) {
  if (idx == kNil || !(entry(idx).flags & kValid)) return std::nullopt;
  stats_.load_hits++;
  touch(idx);
  return blob(entry(idx));
}

void Cache::on_load_done(uint32_t idx, const util::Result<std::string_view>& loaded) {
  Entry& e = entry(idx);
  e.flags &= static_cast<uint8_t>(~kLoading);
  std::vector<LoadCallback> waiters;
  if (auto it = load_waiters_.find(idx); it != load_waiters_.end()) {
    waiters = std::move(it->second);
    load_waiters_.erase(it);
  }
  if (e.flags & kValid) {
    // A store filled the entry meanwhile and answered the waiters.
    lru_sync(idx);
    return;
  }
  util::Result<std::string_view> blob = loaded ? loaded : load_error(loaded.error());
  if (blob && blob->size() > UINT32_MAX) {
    blob = util::Error{EFBIG, fmt::format("backing store read of {} failed: {}",
                                          backing_->describe(digest_of(e)), std::strerror(EFBIG))};
  }
  if (!blob) {
    // Nothing is kept: a later store of the blob is a new, dirty entry, so it reaches the
    // backing store and replaces a corrupt copy there.
    free_entry(idx);
  } else {
    set_blob(idx, *blob);
    e.last_used = clock_();
    lru_sync(idx);
  }
  // Answer from the backing store's buffer, not the entry: a waiter may drop or purge it.
  for (auto& w : waiters) w(blob);
}

// ---- missing ------------------------------------------------------------------------------

void Cache::missing(const std::vector<util::Digest>& keys, MissingCallback cb) {
  for (const util::Digest& key : keys) {
    if (key.type != opts_.hash) {
      cb(util::Error{EPROTO, fmt::format("{}: the blobref is not {}", util::blobref_format(key),
                                         util::hash_name(opts_.hash))});
      return;
    }
  }
  // The answers of one request; shared by its backing queries, which may outlive nothing but
  // the Cache (which drops them uncalled).
  struct Query {
    std::vector<bool> absent;
    size_t waiting = 0;
    util::Error failure;  // errnum 0: none yet
    MissingCallback cb;
    void finish() {
      if (failure.errnum != 0) {
        cb(failure);
        return;
      }
      std::vector<size_t> out;
      for (size_t i = 0; i < absent.size(); i++)
        if (absent[i]) out.push_back(i);
      cb(out);
    }
  };
  auto q = std::make_shared<Query>();
  q->absent.assign(keys.size(), false);
  q->cb = std::move(cb);
  std::vector<size_t> ask;
  for (size_t i = 0; i < keys.size(); i++) {
    uint32_t idx = find(keys[i]);
    if (idx != kNil && (entry(idx).flags & kValid)) continue;  // in memory (dirty ones too)
    if (!backing_)
      q->absent[i] = true;
    else
      ask.push_back(i);
  }
  if (ask.empty()) {
    q->finish();
    return;
  }
  q->waiting = ask.size();
  for (size_t i : ask) {
    const util::Digest& key = keys[i];
    backing_->exists(key, [q, i, key](const util::Status& status) {
      if (status.errnum() == ENOENT) {
        q->absent[i] = true;
      } else if (!status && q->failure.errnum == 0) {
        q->failure = util::Error{status.errnum(),
                                 fmt::format("cannot tell whether the backing store holds {}: {}; "
                                             "ask again once it answers (cairn dmesg shows its "
                                             "errors)",
                                             util::blobref_format(key), status.error().text)};
      }
      if (--q->waiting == 0) q->finish();
    });
  }
}

// ---- flush, drop, purge -------------------------------------------------------------------

void Cache::finish_flushes() {
  // A callback may store and flush again, so the oldest dirty epoch is read each time.
  while (!flush_waiters_.empty() &&
         (dirty_epochs_.empty() || flush_waiters_.front().epoch < dirty_epochs_.front().first)) {
    auto cb = std::move(flush_waiters_.front().cb);
    flush_waiters_.pop_front();
    cb(util::Status());
  }
}

void Cache::fail_flushes(uint64_t epoch, const util::Error& why) {
  // Waiters are in ascending epochs: those at or after `epoch` wait for the failed entry.
  std::vector<FlushCallback> failed;
  while (!flush_waiters_.empty() && flush_waiters_.back().epoch >= epoch) {
    failed.push_back(std::move(flush_waiters_.back().cb));
    flush_waiters_.pop_back();
  }
  if (failed.empty()) return;
  const util::Status status = util::Error{
      why.errnum, fmt::format("backing store write failed: {} (the blobs stay in memory; retry "
                              "after fixing the cause)",
                              why.text)};
  for (auto it = failed.rbegin(); it != failed.rend(); ++it) (*it)(status);
}

void Cache::flush(FlushCallback cb) {
  if (!backing_) {
    cb(util::Error{ENOSYS, "there is no backing store to flush to"});
    return;
  }
  if (dirty_epochs_.empty()) {
    cb(util::Status());
    return;
  }
  // Close the newest epoch holding dirty entries: later stores go to a new one.
  uint64_t horizon = dirty_epochs_.back().first;
  if (epoch_ == horizon) epoch_++;
  flush_waiters_.push_back({horizon, std::move(cb)});
  requeue_failed();
  start_writes();
}

uint64_t Cache::dropcache() {
  uint64_t before = stats_.size;
  while (lru_head_ != kNil) {
    uint32_t idx = lru_head_;
    lru_unlink(idx);
    free_entry(idx);
  }
  return before - stats_.size;
}

uint64_t Cache::purge() {
  if (backing_ && !failed_.empty()) {
    requeue_failed();
    start_writes();
  }
  double now = clock_();
  uint64_t before = stats_.size;
  while (stats_.size > opts_.purge_target_size && lru_head_ != kNil) {
    uint32_t idx = lru_head_;
    if (now - entry(idx).last_used < opts_.purge_old_entry) break;
    lru_unlink(idx);
    free_entry(idx);
  }
  return before - stats_.size;
}

CacheStats Cache::stats() const {
  CacheStats s = stats_;
  s.arena_bytes = arena_.footprint();
  s.flush_queue = flush_queue_.size();
  s.failed = failed_.size();
  return s;
}

}  // namespace cairn::content
