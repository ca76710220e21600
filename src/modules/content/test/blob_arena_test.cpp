// Unit tests for the blob arena: blocks of every size keep their bytes while others come and
// go, freed slots serve the next blob of their class, and trim() gives back what is free.
#include "modules/content/blob_arena.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using cairn::content::BlobArena;

namespace {

struct Block {
  char* p;
  uint32_t size;
  char fill;
};

bool intact(const Block& b) {
  for (uint32_t i = 0; i < b.size; i++)
    if (b.p[i] != b.fill) return false;
  return true;
}

TEST(BlobArena, BlocksOfEverySizeKeepTheirBytesWhileOthersComeAndGo) {
  BlobArena arena;
  std::mt19937 rng(22);
  std::vector<Block> live;
  for (int round = 0; round < 20000; round++) {
    if (!live.empty() && rng() % 3 == 0) {
      size_t i = rng() % live.size();
      ASSERT_TRUE(intact(live[i])) << "block of " << live[i].size << " bytes";
      arena.release(live[i].p, live[i].size);
      live[i] = live.back();
      live.pop_back();
      continue;
    }
    // Mostly slab sizes, across every class boundary, and now and then a large block.
    uint32_t size = rng() % 50 == 0 ? BlobArena::kMaxSlabBlob + 1 + rng() % 20000
                                    : 1 + rng() % BlobArena::kMaxSlabBlob;
    Block b{arena.allocate(size), size, static_cast<char>(rng())};
    std::memset(b.p, b.fill, size);
    live.push_back(b);
  }
  for (const Block& b : live) {
    ASSERT_TRUE(intact(b));
    arena.release(b.p, b.size);
  }
}

TEST(BlobArena, AFreedSlotServesTheNextBlobOfItsClass) {
  BlobArena arena;
  char* a = arena.allocate(1000);
  char* b = arena.allocate(1000);
  EXPECT_NE(a, b);
  arena.release(a, 1000);
  EXPECT_EQ(arena.allocate(1010), a);  // the same class (1024 bytes)
  arena.release(b, 1000);
}

TEST(BlobArena, SlotsAreSixteenByteAlignedAndNeverOverlap) {
  BlobArena arena;
  std::vector<char*> blocks;
  for (uint32_t size = 1; size <= BlobArena::kMaxSlabBlob; size += 7) {
    char* p = arena.allocate(size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << size;
    std::memset(p, 0, size);
    blocks.push_back(p);
  }
  std::vector<char*> sorted = blocks;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  uint32_t size = 1;
  for (char* p : blocks) {
    arena.release(p, size);
    size += 7;
  }
}

TEST(BlobArena, TrimUnmapsChunksWithoutALiveBlob) {
  BlobArena arena;
  EXPECT_EQ(arena.footprint(), 0u);
  // Three chunks' worth of 1 KiB blobs; one blob stays, at the start of the first chunk.
  std::vector<char*> blocks;
  for (size_t i = 0; i < 3 * BlobArena::kChunkBytes / 1024; i++)
    blocks.push_back(arena.allocate(1024));
  EXPECT_EQ(arena.footprint(), 3 * BlobArena::kChunkBytes);
  for (size_t i = 1; i < blocks.size(); i++) arena.release(blocks[i], 1024);
  EXPECT_GE(arena.trim(), 2 * BlobArena::kChunkBytes);
  EXPECT_EQ(arena.footprint(), BlobArena::kChunkBytes);
  EXPECT_EQ(arena.trim(), 0u);  // nothing new is free
  // What is left still serves, the kept blob is untouched, and the arena grows again.
  std::memset(blocks[0], 'k', 1024);
  std::vector<char*> again;
  // (the first chunk has room for all but one of a chunk's worth)
  for (size_t i = 0; i < 2 * BlobArena::kChunkBytes / 1024 - 1; i++) {
    again.push_back(arena.allocate(1024));
    std::memset(again.back(), 'n', 1024);
  }
  EXPECT_EQ(blocks[0][1023], 'k');
  EXPECT_EQ(arena.footprint(), 2 * BlobArena::kChunkBytes);
  arena.release(blocks[0], 1024);
  for (char* p : again) arena.release(p, 1024);
  arena.trim();
  EXPECT_EQ(arena.footprint(), 0u);
}

TEST(BlobArena, LargeBlocksAreCountedInTheFootprint) {
  BlobArena arena;
  char* p = arena.allocate(100000);
  EXPECT_EQ(arena.footprint(), 100000u);
  arena.release(p, 100000);
  EXPECT_EQ(arena.footprint(), 0u);
}

}  // namespace
