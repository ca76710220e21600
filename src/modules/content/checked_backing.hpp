// cairn::content::CheckedBacking: wraps whichever backing store content.backing chose, so that
// every backing gets the same checks and the same metric names: each blob read back is hashed
// and compared with its blobref (a mismatch is EBADMSG, never served, its text naming the copy
// and the repair), and reads and writes
// are timed and counted into the content context.
// It also remembers the keys whose copies it found corrupt, until a store of the key succeeds
// or a load of it verifies: exists() answers ENOENT for them without asking the store, so that
// `cairn content missing` lists a blob known to be corrupt and a client uploads it again.
// Invariants: it adds no thread and no queue; every callback of the inner store passes through
// it exactly once, on the reactor thread, and the counters below only grow; corrupt_keys_ holds
// at most kMaxCorruptKeys keys (past that, a corrupt copy found is still refused and logged,
// but exists() asks the store about it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "libstats/stats.hpp"
#include "libutil/blobref.hpp"
#include "modules/content-backing/backing.hpp"

namespace cairn::content {

// The content-cache.backing-* metrics (handles; default ones do nothing).
struct BackingMetrics {
  stats::Timing store_ms;        // backing-store: one write, issue to completion
  stats::Timing load_ms;         // backing-load: one read, issue to completion
  stats::Counter bytes_written;  // backing-bytes-written: blobs written successfully
  stats::Counter bytes_read;     // backing-bytes-read: blobs read and verified
  stats::Counter read_errors;    // backing-read-errors: reads that failed (ENOENT excepted)
  stats::Counter corrupt;        // backing-corrupt: reads whose data did not match the hash
};

struct BackingCounts {
  uint64_t reads = 0;   // reads completed, whatever their outcome (cairn top's reads/s)
  uint64_t writes = 0;  // writes completed, whatever their outcome (cairn top's writes/s)
  uint64_t bytes_written = 0;
  uint64_t bytes_read = 0;
  uint64_t read_errors = 0;
  uint64_t corrupt = 0;
};

class CheckedBacking : public Backing {
 public:
  // Called once for each read whose data does not hash to its key (to log it).
  using CorruptFn = std::function<void(const util::Digest& key, size_t size)>;

  CheckedBacking(std::unique_ptr<Backing> inner, util::HashType hash, BackingMetrics metrics,
                 CorruptFn on_corrupt);

  void store(const util::Digest& key, std::string_view data, StoreCallback cb) override;
  void load(const util::Digest& key, LoadCallback cb) override;
  void exists(const util::Digest& key, ExistsCallback cb) override;
  std::string describe(const util::Digest& key) const override { return inner_->describe(key); }

  const BackingCounts& counts() const { return counts_; }
  // Keys found corrupt and not stored (or verified) since.
  size_t corrupt_keys() const { return corrupt_keys_.size(); }

  static constexpr size_t kMaxCorruptKeys = 65536;

 private:
  // EBADMSG: the copy of `key` does not hash to it; the text names the copy and the repair.
  util::Error corrupt_copy(const util::Digest& key) const;

  std::unique_ptr<Backing> inner_;
  util::Hasher hasher_;
  BackingMetrics metrics_;
  CorruptFn on_corrupt_;
  BackingCounts counts_;
  std::unordered_set<std::string> corrupt_keys_;  // blobrefs
};

}  // namespace cairn::content
