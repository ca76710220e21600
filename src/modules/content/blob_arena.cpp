// BlobArena (see blob_arena.hpp for the layout and its invariants): size classes, slabs cut
// from 2 MiB chunks mapped for transparent huge pages, and trim().
#include "modules/content/blob_arena.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// Free slots are poisoned, so AddressSanitizer reports a read of a freed blob as it would one
// from the heap.
#define CAIRN_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define CAIRN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define CAIRN_POISON(p, n) ((void)(p), (void)(n))
#define CAIRN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace cairn::content {

namespace {
constexpr uint32_t kSmallClasses = 8;  // 16, 32, ... 128
constexpr uint32_t kClassesPerDoubling = 8;
// Classes above 128 bytes: doublings 256, 512, ... kMaxSlabBlob (8192).
constexpr uint32_t kClasses =
    kSmallClasses + kClassesPerDoubling * (std::bit_width(BlobArena::kMaxSlabBlob) - 1 - 7);
}  // namespace

BlobArena::BlobArena() : partial_(kClasses) {}

BlobArena::~BlobArena() {
  for (auto& [base, chunk] : chunks_) unmap(chunk->base);
}

uint32_t BlobArena::class_of(uint32_t size) {
  if (size <= 128) return (size + 15) / 16 - 1;
  uint32_t k = static_cast<uint32_t>(std::bit_width(size - 1));  // 2^(k-1) < size <= 2^k
  uint32_t step = 1u << (k - 4);
  uint32_t j = (size - (1u << (k - 1)) + step - 1) / step;  // 1..8
  return kSmallClasses + (k - 8) * kClassesPerDoubling + j - 1;
}

uint32_t BlobArena::class_size(uint32_t cls) {
  if (cls < kSmallClasses) return (cls + 1) * 16;
  uint32_t r = cls - kSmallClasses;
  uint32_t k = 8 + r / kClassesPerDoubling;
  uint32_t j = r % kClassesPerDoubling + 1;
  return (1u << (k - 1)) + j * (1u << (k - 4));
}

void BlobArena::map_chunk() {
  // Twice the size, then the unaligned ends cut off: a chunk aligned to a huge page.
  void* m =
      mmap(nullptr, 2 * kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  auto start = reinterpret_cast<uintptr_t>(m);
  uintptr_t base = (start + kChunkBytes - 1) & ~(uintptr_t{kChunkBytes} - 1);
  if (base > start) munmap(m, base - start);
  if (uintptr_t end = start + 2 * kChunkBytes; end > base + kChunkBytes)
    munmap(reinterpret_cast<void*>(base + kChunkBytes), end - base - kChunkBytes);
  auto* p = reinterpret_cast<char*>(base);
  madvise(p, kChunkBytes, MADV_HUGEPAGE);  // a hint: without THP, plain pages serve
  CAIRN_POISON(p, kChunkBytes);
  auto chunk = std::make_unique<Chunk>();
  chunk->base = p;
  // Pushed in reverse, so slabs are taken from the chunk's start.
  for (size_t i = kSlabsPerChunk; i-- > 0;) {
    chunk->slabs[i].base = p + i * kSlabBytes;
    free_slabs_.push_back(&chunk->slabs[i]);
  }
  chunks_.emplace(base, std::move(chunk));
}

void BlobArena::unmap(char* base) {
  CAIRN_UNPOISON(base, kChunkBytes);  // the addresses may serve another mapping next
  munmap(base, kChunkBytes);
}

BlobArena::Slab* BlobArena::take_free_slab() {
  if (free_slabs_.empty()) map_chunk();
  Slab* s = free_slabs_.back();
  free_slabs_.pop_back();
  s->trimmed = false;
  return s;
}

BlobArena::Slab* BlobArena::slab_of(char* p) {
  auto at = reinterpret_cast<uintptr_t>(p);
  Chunk& chunk = *chunks_.at(at & ~(uintptr_t{kChunkBytes} - 1));
  return &chunk.slabs[static_cast<size_t>(p - chunk.base) / kSlabBytes];
}

void BlobArena::list_partial(Slab& s) {
  auto& list = partial_[s.cls];
  s.partial_at = static_cast<uint32_t>(list.size());
  list.push_back(&s);
}

void BlobArena::unlist_partial(Slab& s) {
  auto& list = partial_[s.cls];
  Slab* last = list.back();
  list[s.partial_at] = last;
  last->partial_at = s.partial_at;
  list.pop_back();
  s.partial_at = kNotListed;
}

char* BlobArena::allocate(uint32_t size) {
  if (size > kMaxSlabBlob) {
    char* p = std::allocator<char>().allocate(size);
    large_bytes_ += size;
    return p;
  }
  uint32_t cls = class_of(size);
  uint32_t slot = class_size(cls);
  auto& list = partial_[cls];
  if (list.empty()) {
    Slab* s = take_free_slab();
    s->cls = cls;
    list_partial(*s);
  }
  Slab& s = *list.back();
  char* p;
  if (s.free_head) {
    p = s.free_head;
    CAIRN_UNPOISON(p, slot);
    std::memcpy(&s.free_head, p, sizeof s.free_head);
  } else {
    p = s.base + s.bump;
    s.bump += slot;
    CAIRN_UNPOISON(p, slot);
  }
  s.live++;
  if (!s.free_head && s.bump + slot > kSlabBytes) unlist_partial(s);
  return p;
}

void BlobArena::release(char* p, uint32_t size) {
  if (size > kMaxSlabBlob) {
    std::allocator<char>().deallocate(p, size);
    large_bytes_ -= size;
    return;
  }
  Slab& s = *slab_of(p);
  std::memcpy(p, &s.free_head, sizeof s.free_head);
  s.free_head = p;
  CAIRN_POISON(p, class_size(s.cls));
  if (--s.live > 0) {
    if (s.partial_at == kNotListed) list_partial(s);
    return;
  }
  // No live slot left: the slab goes back to the free slabs, for any class.
  if (s.partial_at != kNotListed) unlist_partial(s);
  s.cls = kNoClass;
  s.bump = 0;
  s.free_head = nullptr;
  free_slabs_.push_back(&s);
}

size_t BlobArena::trim() {
  size_t given_back = 0;
  std::vector<uintptr_t> empty;  // chunks without a live slab
  for (auto& [base, chunk] : chunks_) {
    size_t live_slabs = 0;
    for (const Slab& s : chunk->slabs) live_slabs += s.cls != kNoClass;
    if (live_slabs == 0) {
      empty.push_back(base);
      continue;
    }
    for (Slab& s : chunk->slabs) {
      if (s.cls != kNoClass || s.trimmed) continue;
      madvise(s.base, kSlabBytes, MADV_DONTNEED);
      s.trimmed = true;
      given_back += kSlabBytes;
    }
  }
  if (empty.empty()) return given_back;
  std::erase_if(free_slabs_, [&empty](const Slab* s) {
    auto base = reinterpret_cast<uintptr_t>(s->base) & ~(uintptr_t{kChunkBytes} - 1);
    return std::find(empty.begin(), empty.end(), base) != empty.end();
  });
  for (uintptr_t base : empty) {
    unmap(reinterpret_cast<char*>(base));
    chunks_.erase(base);
    given_back += kChunkBytes;
  }
  return given_back;
}

}  // namespace cairn::content
