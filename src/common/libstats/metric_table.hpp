// cairn::stats::MetricTable: one context's metrics by (type, name), open addressing with linear
// probing over a power-of-two array kept at most half full. Invariants: slots live in a deque
// and never move, so a Slot* (a handle) stays valid for the table's life; only valid names are
// inserted, so a hit needs no validation; finding an existing name allocates nothing.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libstats/line_text.hpp"
#include "libstats/stats.hpp"

namespace cairn::stats {

// statsd keeps the types apart: "x" as a counter and "x" as a gauge are two metrics.
enum class Kind : uint8_t { kCounter, kGauge, kTimer };

// A metric. What a flush reads of a pending slot (its values, kind, next_pending and line
// head) comes first, in the slot's first two cache lines; the name and samples follow. A head
// that does not fit head_inline lives in head_heap. Slots never move (the head may point into
// the slot itself), so they are neither copied nor moved.
struct alignas(64) Slot : detail::SlotValues {
  Slot(Kind k, std::string_view n) : kind(k), name(n) {}
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

  // Makes the head "PREFIX.NAME:" ("NAME:" for an empty prefix) followed by kHeadPadding zero
  // bytes, built for the context's prefix generation `generation`.
  void set_head(std::string_view prefix, uint32_t generation) {
    size_t size = (prefix.empty() ? 0 : prefix.size() + 1) + name.size() + 1;
    char* p = head_inline;
    if (size + kHeadPadding > sizeof head_inline) {
      head_heap = std::make_unique<char[]>(size + kHeadPadding);
      p = head_heap.get();
    }
    head = p;
    if (!prefix.empty()) {
      std::memcpy(p, prefix.data(), prefix.size());
      p += prefix.size();
      *p++ = '.';
    }
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    *p++ = ':';
    std::memset(p, 0, kHeadPadding);
    head_size = static_cast<uint32_t>(size);
    head_generation = generation;
  }

  Kind kind;
  uint32_t head_generation = 0;  // the context's prefix generation `head` was built for (0: none)
  uint32_t head_size = 0;        // of "PREFIX.NAME:", without the padding
  Slot* next_pending = nullptr;  // the context's pending list, in first-update order
  const char* head = nullptr;    // head_inline or head_heap
  char head_inline[64];
  std::unique_ptr<char[]> head_heap;
  std::string name;             // without the context's prefix
  std::vector<double> samples;  // timer: the samples of the period (capacity is kept)
};

class MetricTable {
 public:
  [[gnu::always_inline]] Slot* find(Kind kind, std::string_view name) const {
    if (entries_.empty()) return nullptr;
    uint64_t h = hash(kind, name);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (!e.slot) return nullptr;
      if (e.hash == h && e.kind == kind && same(e.name, e.size, name)) return e.slot;
    }
  }

  // Adds a metric that find() did not find. Kept out of line so the lookup stays lean.
  [[gnu::noinline]] Slot* insert(Kind kind, std::string_view name) {
    if ((slots_.size() + 1) * 2 > entries_.size()) grow();
    Slot* slot = &slots_.emplace_back(kind, name);
    place(Entry{hash(kind, name), slot->name.data(), static_cast<uint32_t>(slot->name.size()), kind,
                slot});
    return slot;
  }

  size_t size() const { return slots_.size(); }

 private:
  // The name's bytes are reached from the entry directly (they never move: the Slot does
  // not), saving a dependent load per probe.
  struct Entry {
    uint64_t hash = 0;
    const char* name = nullptr;
    uint32_t size = 0;  // names longer than 4 GiB are not a concern
    Kind kind = Kind::kCounter;
    Slot* slot = nullptr;
  };

  // A fast 64-bit hash of short strings (in the manner of wyhash): up to 16 bytes take one
  // 64x64->128 multiply, up to 32 bytes two independent ones and a final one; longer names
  // fold 16 bytes per multiply first.
  static uint64_t hash(Kind kind, std::string_view s) {
    constexpr uint64_t kS0 = 0xa0761d6478bd642full, kS1 = 0xe7037ed1a0b428dbull,
                       kS2 = 0x8ebc6af09c88c6e3ull;
    const char* p = s.data();
    size_t n = s.size();
    uint64_t seed = kS0 ^ static_cast<uint64_t>(kind);
    if (n <= 16) {
      uint64_t a = 0, b = 0;
      if (n >= 8) {
        a = load64(p);
        b = load64(p + n - 8);
      } else if (n >= 4) {
        a = load32(p);
        b = load32(p + n - 4);
      } else if (n > 0) {
        a = (static_cast<uint64_t>(static_cast<uint8_t>(p[0])) << 16) |
            (static_cast<uint64_t>(static_cast<uint8_t>(p[n / 2])) << 8) |
            static_cast<uint8_t>(p[n - 1]);
      }
      return mum(a ^ kS1 ^ n, b ^ seed);
    }
    size_t i = n;
    while (i > 32) {
      seed = mum(load64(p) ^ kS1, load64(p + 8) ^ seed);
      p += 16;
      i -= 16;
    }
    // 17..32 bytes left: two independent multiplies over (overlapping) halves.
    uint64_t a = mum(load64(p) ^ kS1, load64(p + 8) ^ seed);
    uint64_t b = mum(load64(p + i - 16) ^ kS2, load64(p + i - 8) ^ seed);
    return mum(a ^ n, b ^ kS2);
  }
  static uint64_t mum(uint64_t x, uint64_t y) {
    unsigned __int128 r = static_cast<unsigned __int128>(x) * y;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  }
  // Name equality without a call to memcmp for the usual 8+ byte names.
  static bool same(const char* x, uint32_t size, std::string_view y) {
    size_t n = y.size();
    if (size != n) return false;
    if (n < 8) return std::memcmp(x, y.data(), n) == 0;
    for (size_t i = 0; i + 8 < n; i += 8)
      if (load64(x + i) != load64(y.data() + i)) return false;
    return load64(x + n - 8) == load64(y.data() + n - 8);
  }
  static uint64_t load64(const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }
  static uint32_t load32(const char* p) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
  }

  void place(Entry e) {
    size_t i = e.hash & mask_;
    while (entries_[i].slot) i = (i + 1) & mask_;
    entries_[i] = e;
  }
  void grow() {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(old.empty() ? 16 : old.size() * 2, Entry{});
    mask_ = entries_.size() - 1;
    for (const Entry& e : old)
      if (e.slot) place(e);
  }

  std::vector<Entry> entries_;  // empty, or a power of two entries
  size_t mask_ = 0;             // entries_.size() - 1
  std::deque<Slot> slots_;
};

}  // namespace cairn::stats
