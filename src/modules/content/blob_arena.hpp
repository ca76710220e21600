// cairn::content::BlobArena: the memory the Cache keeps its blobs in. A store of a new blob is
// one allocation and one copy; measured (issue 22), the page faults of fresh heap memory were
// the largest cost of a memory-only store. The arena maps 2 MiB chunks that the kernel may back
// with transparent huge pages (MADV_HUGEPAGE): one fault per chunk instead of one per 4 KiB.
//
// Layout and invariants:
//  - Blobs up to kMaxSlabBlob bytes live in slots of fixed-size classes (16-byte steps to 128,
//    then 8 classes per doubling: at most 12.5% wasted). A chunk is cut into kSlabBytes slabs;
//    a slab serves one class while any slot of it is live, and is free (no class) otherwise.
//  - A slab with room (a freed slot, or never-used bytes past `bump`) is on its class's partial
//    list, at index partial_at; a full one is on no list. A free slab is on free_slabs_.
//  - A freed slot holds the next free slot's address (an intrusive list per slab); the caller
//    gives each blob's size back with it, so no slot carries a header.
//  - Larger blobs come from the C++ allocator (operator new), as they did before the arena.
//  - trim() returns the pages of free slabs to the kernel and unmaps chunks with no live slab;
//    nothing else gives memory back, so the arena holds at most the peak of what was live.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace cairn::content {

class BlobArena {
 public:
  static constexpr size_t kChunkBytes = size_t{2} << 20;  // one huge page, aligned to it
  static constexpr size_t kSlabBytes = size_t{64} << 10;
  static constexpr uint32_t kMaxSlabBlob = 8192;

  BlobArena();
  ~BlobArena();  // unmaps every chunk; blocks still allocated by then must not be used
  BlobArena(const BlobArena&) = delete;
  BlobArena& operator=(const BlobArena&) = delete;

  // Room for a blob of `size` bytes (size >= 1); throws std::bad_alloc if memory runs out.
  char* allocate(uint32_t size);
  // Gives back `p`, which allocate(size) returned.
  void release(char* p, uint32_t size);
  // Returns the pages of free slabs to the kernel and unmaps chunks without a live slot;
  // returns the bytes given back. Call it after large frees, as malloc_trim.
  size_t trim();
  // Bytes the arena holds from the system: mapped chunks and large blocks.
  size_t footprint() const { return chunks_.size() * kChunkBytes + large_bytes_; }

 private:
  static constexpr uint32_t kNoClass = UINT32_MAX;
  static constexpr uint32_t kNotListed = UINT32_MAX;
  static constexpr size_t kSlabsPerChunk = kChunkBytes / kSlabBytes;

  struct Slab {
    char* base = nullptr;
    uint32_t cls = kNoClass;
    uint32_t live = 0;                 // slots handed out
    uint32_t bump = 0;                 // bytes from base that slots have ever used
    uint32_t partial_at = kNotListed;  // index in partial_[cls]
    char* free_head = nullptr;         // freed slots, linked through their first bytes
    bool trimmed = false;              // its pages were given back while it was free
  };
  struct Chunk {
    char* base = nullptr;
    Slab slabs[kSlabsPerChunk];
  };

  static uint32_t class_of(uint32_t size);
  static uint32_t class_size(uint32_t cls);
  Slab* slab_of(char* p);
  Slab* take_free_slab();
  void map_chunk();
  static void unmap(char* base);
  void list_partial(Slab& s);
  void unlist_partial(Slab& s);

  // By the chunk's base address.
  std::unordered_map<uintptr_t, std::unique_ptr<Chunk>> chunks_;
  std::vector<Slab*> free_slabs_;
  std::vector<std::vector<Slab*>> partial_;  // per class
  size_t large_bytes_ = 0;
};

}  // namespace cairn::content
