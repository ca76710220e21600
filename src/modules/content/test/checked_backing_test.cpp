// CheckedBacking: a blob read back that does not match its blobref is refused (EBADMSG) and
// reported once; good reads and writes are counted in bytes, every completed read and write
// in number; read failures other than ENOENT are counted; callbacks pass through exactly once.
#include "modules/content/checked_backing.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "modules/content/test/fake_backing.hpp"

namespace cairn::content {
namespace {

struct Fixture {
  std::shared_ptr<test::FakeBackingState> state = std::make_shared<test::FakeBackingState>();
  std::vector<std::string> corrupt;  // blobrefs reported corrupt
  CheckedBacking backing{
      std::make_unique<test::FakeBacking>(state),
      util::HashType::kSha1,
      {},
      [this](const util::Digest& key, size_t) { corrupt.push_back(util::blobref_format(key)); }};
};

util::Digest digest_of(std::string_view data) {
  util::Hasher h(util::HashType::kSha1);
  return h.hash(data);
}

TEST(CheckedBacking, ServesABlobThatMatchesItsHashAndCountsItsBytes) {
  Fixture f;
  std::string data = "hello";
  util::Digest key = digest_of(data);
  int stored = -1;
  f.backing.store(key, data, [&](const util::Status& st) { stored = st.errnum(); });
  f.state->complete();
  EXPECT_EQ(stored, 0);
  int calls = 0;
  f.backing.load(key, [&](const util::Result<std::string_view>& blob) {
    calls++;
    ASSERT_TRUE(blob.ok()) << blob.error().text;
    EXPECT_EQ(*blob, "hello");
  });
  f.state->complete();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(f.backing.counts().bytes_written, 5u);
  EXPECT_EQ(f.backing.counts().bytes_read, 5u);
  EXPECT_EQ(f.backing.counts().corrupt, 0u);
  EXPECT_TRUE(f.corrupt.empty());
}

TEST(CheckedBacking, RefusesATamperedCopyWithEbadmsgAndReportsItOnce) {
  Fixture f;
  util::Digest key = digest_of("original");
  f.state->blobs[util::blobref_format(key)] = "tampered";
  int calls = 0;
  f.backing.load(key, [&](const util::Result<std::string_view>& blob) {
    calls++;
    ASSERT_EQ(blob.errnum(), EBADMSG);
    // The text names the copy and says how to repair it.
    EXPECT_NE(blob.error().text.find("(fake object " + util::blobref_format(key) + ") is corrupt"),
              std::string::npos)
        << blob.error().text;
    EXPECT_NE(blob.error().text.find("cairn content store"), std::string::npos);
  });
  f.state->complete();
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(f.corrupt.size(), 1u);
  EXPECT_EQ(f.corrupt[0], util::blobref_format(key));
  EXPECT_EQ(f.backing.counts().corrupt, 1u);
  EXPECT_EQ(f.backing.counts().bytes_read, 0u);
}

TEST(CheckedBacking, CountsReadFailuresButNotMissingBlobs) {
  Fixture f;
  int got = -1;
  f.backing.load(digest_of("never stored"),
                 [&](const util::Result<std::string_view>& loaded) { got = loaded.errnum(); });
  f.state->complete();
  EXPECT_EQ(got, ENOENT);
  EXPECT_EQ(f.backing.counts().read_errors, 0u);

  f.state->store_errno = ENOSPC;
  std::optional<util::Status> stored;
  f.backing.store(digest_of("x"), "x", [&](const util::Status& st) { stored = st; });
  f.state->complete();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->errnum(), ENOSPC);
  EXPECT_EQ(f.backing.counts().bytes_written, 0u);

  f.state->load_errno = EIO;
  std::string text;
  f.backing.load(digest_of("x"), [&](const util::Result<std::string_view>& blob) {
    if (!blob) text = blob.error().text;
  });
  f.state->complete();
  EXPECT_EQ(f.backing.counts().read_errors, 1u);
  // The inner store's words pass through as they are.
  EXPECT_EQ(stored->error().text,
            "fake store of " + util::blobref_format(digest_of("x")) + ": " + std::strerror(ENOSPC));
  EXPECT_EQ(text,
            "fake load of " + util::blobref_format(digest_of("x")) + ": " + std::strerror(EIO));
}

// cairn top's backing reads/s and writes/s: every completed read and write counts, whatever
// its outcome (found, missing, failed, corrupt; written or failed).
TEST(CheckedBacking, CountsEveryCompletedReadAndWrite) {
  Fixture f;
  util::Digest good = digest_of("good");
  util::Digest bad = digest_of("original");
  f.state->blobs[util::blobref_format(bad)] = "tampered";
  f.backing.store(good, "good", [](const util::Status&) {});
  f.state->complete();
  f.state->store_errno = ENOSPC;
  f.backing.store(digest_of("x"), "x", [](const util::Status&) {});
  f.state->complete();
  for (const util::Digest& key : {good, bad, digest_of("never stored")})
    f.backing.load(key, [](const util::Result<std::string_view>&) {});
  f.state->complete();
  f.backing.exists(good, [](const util::Status&) {});  // not a read
  f.state->complete();
  EXPECT_EQ(f.backing.counts().writes, 2u);
  EXPECT_EQ(f.backing.counts().reads, 3u);
}

// A key found corrupt is missing to exists() (even though the store has an object under it),
// until a store of it succeeds; then the store's own answer counts again.
TEST(CheckedBacking, AKeyFoundCorruptExistsNowhereUntilItIsStoredAgain) {
  Fixture f;
  std::string data = "original";
  util::Digest key = digest_of(data);
  f.state->blobs[util::blobref_format(key)] = "tampered";
  int got = -1;
  f.backing.exists(key, [&](const util::Status& st) { got = st.errnum(); });
  f.state->complete();
  EXPECT_EQ(got, 0);  // nothing known yet: the store has an object

  f.backing.load(key, [](const util::Result<std::string_view>&) {});
  f.state->complete();
  EXPECT_EQ(f.backing.corrupt_keys(), 1u);
  got = -1;
  f.backing.exists(key, [&](const util::Status& st) { got = st.errnum(); });
  EXPECT_EQ(got, -1);  // never inside the call
  f.state->complete();
  EXPECT_EQ(got, ENOENT);

  f.backing.store(key, data, [](const util::Status&) {});
  f.state->complete();
  EXPECT_EQ(f.backing.corrupt_keys(), 0u);
  got = -1;
  f.backing.exists(key, [&](const util::Status& st) { got = st.errnum(); });
  f.state->complete();
  EXPECT_EQ(got, 0);
  EXPECT_EQ(f.backing.describe(key), "fake object " + util::blobref_format(key));
}

}  // namespace
}  // namespace cairn::content
