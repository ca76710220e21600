// Unit tests for the content module's service glue with a fake ModuleContext: the topics of
// doc/protocol.md with their errnos and texts, config errors, heartbeat gauges arriving at a real
// UDP socket, and the shutdown flush reaching SQLite.
#include <gtest/gtest.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "broker/module-api/test/fake_context.hpp"
#include "libstats/stats.hpp"
#include "libtest/temp_dir.hpp"
#include "libtest/udp_sink.hpp"
#include "libutil/blobref.hpp"
#include "modules/content-files/files_backing.hpp"
#include "modules/content-sqlite/sqlite_backing.hpp"
#include "modules/content/backings.hpp"
#include "modules/content/module.hpp"

using namespace cairn;

namespace {

using broker::testing::Reply;

// The backing stores these tests choose from, as the broker's program lists them (sqlite, the
// default, first).
const content::BackingTypes& backings() {
  static const content::BackingTypes types = {
      content::sqlite_backing_type(), content::none_backing_type(), content::files_backing_type()};
  return types;
}

// The content module's own keys at their defaults, in a fake broker.
class FakeContext : public broker::testing::FakeContext {
 public:
  explicit FakeContext(const std::string& statedir, std::string stats_endpoint = {})
      : broker::testing::FakeContext(content::config_keys(backings()), statedir,
                                     std::move(stats_endpoint)) {}
};

using test::TempDir;

// A content module over a files backing (<dir>/blobs) in a fake broker, `limit` its
// content.dirty-limit. break_store() removes the directory, so every write fails (ENOENT, even
// for root); mend_store() puts it back, and a flush then retries the failed writes.
struct FilesModule {
  explicit FilesModule(int64_t limit = 268435456) {
    std::filesystem::create_directory(files_dir);
    EXPECT_EQ(ctx.set("content.backing", std::string("files")), "");
    EXPECT_EQ(ctx.set("files.dir", files_dir), "");
    EXPECT_EQ(ctx.set("content.dirty-limit", limit), "");
    mod = content::create_module(ctx, backings());
  }
  void break_store() { std::filesystem::remove_all(files_dir); }
  void mend_store() { std::filesystem::create_directory(files_dir); }

  TempDir dir;
  std::string files_dir = dir.path() + "/blobs";
  FakeContext ctx{dir.path()};
  std::unique_ptr<broker::Module> mod;
};

}  // namespace

TEST(ContentService, StoreAndLoadRoundTripThroughTopics) {
  TempDir dir;
  FakeContext ctx(dir.path());
  auto mod = content::create_module(ctx, backings());
  std::string data("bin\0ary", 7);
  Reply s = ctx.request("content.store", data);
  ASSERT_EQ(s.errnum, 0) << s.payload;
  EXPECT_EQ(s.payload, util::blobref_hash(util::HashType::kSha1, data));
  Reply l = ctx.request("content.load", s.payload);
  EXPECT_EQ(l.errnum, 0);
  EXPECT_EQ(l.payload, data);
}

TEST(ContentService, MalformedBlobrefsAreEinvalOrEproto) {
  TempDir dir;
  FakeContext ctx(dir.path());
  auto mod = content::create_module(ctx, backings());
  Reply a = ctx.request("content.load", "not-a-blobref");
  EXPECT_EQ(a.errnum, EINVAL);
  EXPECT_NE(a.payload.find("malformed blobref"), std::string::npos) << a.payload;
  EXPECT_EQ(ctx.request("content.load", "sha1-abcd").errnum, EPROTO);
}

TEST(ContentService, ABlobrefOfTheOtherHashNamesTheHashThisBrokerUses) {
  TempDir dir;
  FakeContext ctx(dir.path());
  auto mod = content::create_module(ctx, backings());
  Reply r = ctx.request("content.load", util::blobref_hash(util::HashType::kSha256, "x"));
  EXPECT_EQ(r.errnum, EPROTO);
  EXPECT_EQ(r.payload,
            "the blobref is sha256, but this broker uses sha1 (content.hash = \"sha1\"): give a "
            "sha1 blobref, or load it from a broker started with content.hash = \"sha256\" (-o "
            "content.hash=sha256)");
}

TEST(ContentService, ASha1BlobrefOnASha256BrokerNamesSha256) {
  TempDir dir;
  FakeContext ctx(dir.path());
  ASSERT_EQ(ctx.set("content.hash", std::string("sha256")), "");
  auto mod = content::create_module(ctx, backings());
  Reply r = ctx.request("content.load", util::blobref_hash(util::HashType::kSha1, "x"));
  EXPECT_EQ(r.errnum, EPROTO);
  EXPECT_NE(r.payload.find("this broker uses sha256 (content.hash = \"sha256\")"),
            std::string::npos)
      << r.payload;
}

TEST(ContentService, UnknownBlobIsEnoentNoSuchBlob) {
  TempDir dir;
  FakeContext ctx(dir.path());
  auto mod = content::create_module(ctx, backings());
  Reply r = ctx.request("content.load", util::blobref_hash(util::HashType::kSha1, "nope"));
  EXPECT_EQ(r.errnum, ENOENT);
  EXPECT_EQ(r.payload, "no such blob");
}

TEST(ContentService, TooLargeBlobIsEfbigNamingSizeAndLimit) {
  TempDir dir;
  FakeContext ctx(dir.path());
  ASSERT_EQ(ctx.set("content.blob-size-limit", int64_t{4}), "");
  auto mod = content::create_module(ctx, backings());
  Reply r = ctx.request("content.store", "12345");
  EXPECT_EQ(r.errnum, EFBIG);
  EXPECT_EQ(r.payload, "blob too large (5 > limit 4 bytes)");
}

TEST(ContentService, BackingNoneKeepsBlobsAndFlushIsEnosys) {
  TempDir dir;
  FakeContext ctx(dir.path());
  ASSERT_EQ(ctx.set("content.backing", std::string("none")), "");
  auto mod = content::create_module(ctx, backings());
  Reply s = ctx.request("content.store", "memory");
  EXPECT_EQ(ctx.request("content.flush").errnum, ENOSYS);
  EXPECT_EQ(ctx.request("content.load", s.payload).payload, "memory");
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/content.sqlite"));
  ctx.shutdown();
}

TEST(ContentService, StatsGetReportsTheCacheAsJson) {
  TempDir dir;
  FakeContext ctx(dir.path());
  auto mod = content::create_module(ctx, backings());
  ctx.request("content.store", "one");
  ctx.request("content.store", "two!");
  ASSERT_EQ(ctx.request("content.flush").errnum, 0);
  auto j = nlohmann::json::parse(ctx.request("content.stats-get").payload);
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["valid"], 2);
  EXPECT_EQ(j["dirty"], 0);
  EXPECT_EQ(j["size"], 7);
  EXPECT_EQ(j["flush-batch-count"], 0);
  EXPECT_TRUE(j["load-hit-rate"].is_null());  // no load yet: no rate
  EXPECT_EQ(ctx.request("content.dropcache").errnum, 0);
  j = nlohmann::json::parse(ctx.request("content.stats-get").payload);
  EXPECT_EQ(j["count"], 0);
  // Three loads from memory and one from the backing store: a hit rate of 3/4.
  auto ref = ctx.request("content.store", "three").payload;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(ctx.request("content.load", ref).errnum, 0);
  ASSERT_EQ(ctx.request("content.flush").errnum, 0);
  ASSERT_EQ(ctx.request("content.dropcache").errnum, 0);
  ASSERT_EQ(ctx.request("content.load", ref).payload, "three");
  j = nlohmann::json::parse(ctx.request("content.stats-get").payload);
  EXPECT_EQ(j["load-hits"], 3);
  EXPECT_EQ(j["load-misses"], 1);
  EXPECT_DOUBLE_EQ(j["load-hit-rate"].get<double>(), 0.75);
}

TEST(ContentService, DeclaredKeysRefuseBadValuesWithAReason) {
  TempDir dir;
  for (auto [key, value] : std::vector<std::pair<std::string, broker::Value>>{
           {"content.hash", std::string("md5")},
           {"content.backing", std::string("redis")},
           {"content.flush-batch-limit", int64_t{0}},
           {"content.purge-old-entry", -1.0},
           {"content.blob-size-limit", std::string("lots")}}) {
    FakeContext ctx(dir.path());
    EXPECT_NE(ctx.set(key, value), "") << key << " accepted a bad value";
  }
  FakeContext ctx(dir.path());
  std::string choices;
  for (const content::BackingType& type : backings())
    choices += (choices.empty() ? "" : " or ") + type.name;
  EXPECT_EQ(choices.rfind("sqlite or none", 0), 0u) << choices;  // the default first
  EXPECT_EQ(ctx.set("content.backing", std::string("redis")),
            "'redis' is not allowed: expected " + choices);
}

TEST(ContentService, EveryBackingTypeIsAChoiceOfContentBacking) {
  TempDir dir;
  FakeContext ctx(dir.path());
  for (const content::BackingType& type : backings())
    EXPECT_EQ(ctx.set("content.backing", type.name), "") << type.name;
}

// A store carries a whole blob: the broker is asked to let payloads that large in.
TEST(ContentService, AsksTheBrokerToTakePayloadsAsLargeAsTheLargestBlob) {
  TempDir dir;
  FakeContext ctx(dir.path());
  ASSERT_EQ(ctx.set("content.blob-size-limit", int64_t{5000000}), "");
  auto mod = content::create_module(ctx, backings());
  EXPECT_EQ(ctx.accepted_payloads_, 5000000u);
}

TEST(ContentService, ShutdownFlushesDirtyBlobsToTheStatedir) {
  TempDir dir;
  std::vector<std::string> refs;
  {
    FakeContext ctx(dir.path());
    auto mod = content::create_module(ctx, backings());
    for (int i = 0; i < 300; i++)
      refs.push_back(ctx.request("content.store", "blob " + std::to_string(i)).payload);
    ctx.shutdown();
    EXPECT_TRUE(ctx.lost_data_.empty()) << ctx.lost_data_[0];
  }
  FakeContext ctx(dir.path());
  auto mod = content::create_module(ctx, backings());
  for (int i = 0; i < 300; i++)
    ASSERT_EQ(ctx.request("content.load", refs[i]).payload, "blob " + std::to_string(i));
}

TEST(ContentService, BlobsTheShutdownFlushCannotWriteAreReportedLost) {
  FilesModule m;
  FakeContext& ctx = m.ctx;
  m.break_store();  // after the store opened it
  for (int i = 0; i < 3; i++) ctx.request("content.store", "doomed " + std::to_string(i));
  ctx.shutdown();
  ASSERT_EQ(ctx.lost_data_.size(), 1u);
  const std::string& what = ctx.lost_data_[0];
  EXPECT_NE(what.find("content: 3 blob(s) that clients had stored were not written to the files "
                      "backing store (No such file or directory) and are lost"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("store those blobs again"), std::string::npos) << what;
}

// A backing store's failure reaches the client with the store's own words (the path and the
// system's reason), not an errno's name rebuilt by the cache.
TEST(ContentService, BackingStoreFailuresReplyWithTheStoresOwnText) {
  FilesModule m;
  FakeContext& ctx = m.ctx;
  std::string ref = ctx.request("content.store", "kept").payload;
  ASSERT_EQ(ctx.request("content.flush").errnum, 0);
  ASSERT_EQ(ctx.request("content.dropcache").errnum, 0);
  std::string path = m.files_dir + "/sha1/" + ref.substr(5, 2) + "/" + ref;
  ASSERT_TRUE(std::filesystem::remove(path));
  std::filesystem::create_directory(path);  // opens, but cannot be read
  Reply l = ctx.request("content.load", ref);
  EXPECT_EQ(l.errnum, EISDIR);
  EXPECT_EQ(l.payload, "cannot read " + path + ": " + std::strerror(EISDIR));

  m.break_store();
  ctx.request("content.store", "unwritable");
  Reply f = ctx.request("content.flush");
  EXPECT_EQ(f.errnum, ENOENT);
  EXPECT_EQ(f.payload.rfind("backing store write failed: cannot create " + m.files_dir +
                                "/sha1: " + std::strerror(ENOENT) + " (the blobs stay in memory",
                            0),
            0u)
      << f.payload;
}

TEST(ContentService, StoresAreRefusedOnceShutdownBeginsAndTheDirtyOnesAreWritten) {
  TempDir dir;
  std::string ref;
  {
    FakeContext ctx(dir.path());
    auto mod = content::create_module(ctx, backings());
    ref = ctx.request("content.store", "before").payload;
    auto flushing = ctx.begin_shutdown();
    Reply late = ctx.request("content.store", "after");
    EXPECT_EQ(late.errnum, ESHUTDOWN);
    EXPECT_NE(late.payload.find("shutting down"), std::string::npos) << late.payload;
    ctx.run_until([&] { return *flushing; });
    // Loads still work during and after the shutdown flush.
    EXPECT_EQ(ctx.request("content.load", ref).payload, "before");
  }
  FakeContext ctx(dir.path());
  auto mod = content::create_module(ctx, backings());
  EXPECT_EQ(ctx.request("content.load", ref).payload, "before");
  EXPECT_EQ(ctx.request("content.load", util::blobref_hash(util::HashType::kSha1, "after")).errnum,
            ENOENT);
}

TEST(ContentService, PastTheDirtyLimitStoresWaitForTheBackingStoreNotFail) {
  FilesModule m(1000);
  FakeContext& ctx = m.ctx;
  m.break_store();
  auto stats = [&] { return nlohmann::json::parse(ctx.request("content.stats-get").payload); };
  std::vector<std::string> blobs;
  for (char c : std::string("abcd")) blobs.emplace_back(600, c);
  EXPECT_EQ(ctx.request("content.store", blobs[0]).errnum, 0);
  EXPECT_EQ(ctx.request("content.store", blobs[1]).errnum, 0);  // 600 < 1000 when it came
  auto c = ctx.send("content.store", blobs[2]);
  auto d = ctx.send("content.store", blobs[3]);
  ASSERT_TRUE(ctx.run_until([&] { return stats()["failed-writes"] == 2; }));
  EXPECT_FALSE(c->answered);
  EXPECT_FALSE(d->answered);
  nlohmann::json s = stats();
  EXPECT_EQ(s["dirty-size"], 1200);
  EXPECT_EQ(s["stores-waiting"], 2);
  EXPECT_EQ(s["stores-waiting-size"], 1200);
  // The backing store recovers: the waiting stores go through, in order.
  m.mend_store();
  auto flushed = ctx.send("content.flush");
  ASSERT_TRUE(ctx.run_until([&] { return c->answered && d->answered && flushed->answered; }));
  EXPECT_EQ(c->errnum, 0) << c->payload;
  EXPECT_EQ(c->payload, util::blobref_hash(util::HashType::kSha1, blobs[2]));
  EXPECT_EQ(d->payload, util::blobref_hash(util::HashType::kSha1, blobs[3]));
  EXPECT_EQ(stats()["stores-waiting"], 0);
  for (const auto& b : blobs)
    EXPECT_EQ(ctx.request("content.load", util::blobref_hash(util::HashType::kSha1, b)).payload, b);
  // A store still waiting when shutdown begins is refused, not lost silently.
  ASSERT_EQ(ctx.request("content.flush").errnum, 0);  // c and d too
  m.break_store();
  ctx.request("content.store", std::string(1200, 'e'));
  auto f = ctx.send("content.store", std::string(10, 'f'));
  EXPECT_FALSE(f->answered);
  ctx.begin_shutdown();
  ASSERT_TRUE(ctx.run_until([&] { return f->answered; }));
  EXPECT_EQ(f->errnum, ESHUTDOWN);
}

// content.missing: one blobref per line, the final newline optional; the reply lists, in
// request order and as sent, the refs held neither in memory nor on the backing store.
TEST(ContentService, MissingAnswersABatchOfBlobrefsInOrder) {
  FilesModule m;
  FakeContext& ctx = m.ctx;
  std::string in_memory = ctx.request("content.store", "in memory").payload;
  std::string flushed = ctx.request("content.store", "flushed").payload;
  ASSERT_EQ(ctx.request("content.flush").errnum, 0);
  ASSERT_EQ(ctx.request("content.dropcache").errnum, 0);
  in_memory = ctx.request("content.store", "in memory").payload;
  std::string a = util::blobref_hash(util::HashType::kSha1, "absent a");
  std::string b = util::blobref_hash(util::HashType::kSha1, "absent b");
  std::string upper = b;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  upper.replace(0, 4, "sha1");  // hex of either case, answered as sent
  Reply r = ctx.request("content.missing", b + "\n" + in_memory + "\n" + a + "\n" + flushed);
  ASSERT_EQ(r.errnum, 0) << r.payload;
  EXPECT_EQ(r.payload, b + "\n" + a + "\n");
  r = ctx.request("content.missing", flushed + "\n" + upper + "\n");
  ASSERT_EQ(r.errnum, 0) << r.payload;
  EXPECT_EQ(r.payload, upper + "\n");
  r = ctx.request("content.missing", in_memory);
  EXPECT_EQ(r.errnum, 0);
  EXPECT_EQ(r.payload, "");
  EXPECT_EQ(ctx.request("content.missing", "").payload, "");
}

TEST(ContentService, MissingRefusesAMalformedLineNamingItsNumberAndText) {
  TempDir dir;
  FakeContext ctx(dir.path());
  auto mod = content::create_module(ctx, backings());
  std::string good = util::blobref_hash(util::HashType::kSha1, "x");
  Reply r = ctx.request("content.missing", good + "\nsha1-nothex\n");
  EXPECT_EQ(r.errnum, EINVAL);
  EXPECT_NE(r.payload.find("line 2: sha1-nothex: malformed blobref: expected sha1-<40 hex"),
            std::string::npos)
      << r.payload;
  r = ctx.request("content.missing", good + "\n\n" + good);
  EXPECT_EQ(r.errnum, EINVAL);
  EXPECT_NE(r.payload.find("line 2: an empty line: malformed blobref"), std::string::npos)
      << r.payload;
  r = ctx.request("content.missing", util::blobref_hash(util::HashType::kSha256, "x"));
  EXPECT_EQ(r.errnum, EPROTO);
  EXPECT_NE(r.payload.find("line 1: sha256-"), std::string::npos) << r.payload;
  r = ctx.request("content.missing", std::string("\x01\xff garbage", 10));
  EXPECT_EQ(r.errnum, EINVAL);
  EXPECT_EQ(r.payload.find('\x01'), std::string::npos) << "bytes that are not text are not quoted";
}

// The whole repair through the topics over files.dir: a corrupt file is refused naming its
// path and the repair, is listed by content.missing, and storing the blob again and flushing
// replaces it.
TEST(ContentService, ACorruptFileIsNamedListedMissingAndRepairedByStoringAgain) {
  FilesModule m;
  FakeContext& ctx = m.ctx;
  std::string data = "a blob that will be damaged on disk";
  std::string ref = ctx.request("content.store", data).payload;
  ASSERT_EQ(ctx.request("content.flush").errnum, 0);
  ASSERT_EQ(ctx.request("content.dropcache").errnum, 0);
  std::string path = m.files_dir + "/sha1/" + ref.substr(5, 2) + "/" + ref;
  ASSERT_TRUE(std::filesystem::is_regular_file(path));
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << "damaged"; }

  Reply l = ctx.request("content.load", ref);
  EXPECT_EQ(l.errnum, EBADMSG);
  EXPECT_NE(l.payload.find("file " + path), std::string::npos) << l.payload;
  EXPECT_NE(l.payload.find("cairn content store"), std::string::npos) << l.payload;
  EXPECT_EQ(ctx.request("content.missing", ref).payload, ref + "\n");

  EXPECT_EQ(ctx.request("content.store", data).payload, ref);
  ASSERT_EQ(ctx.request("content.flush").errnum, 0);
  ASSERT_EQ(ctx.request("content.dropcache").errnum, 0);
  EXPECT_EQ(ctx.request("content.missing", ref).payload, "");
  l = ctx.request("content.load", ref);
  EXPECT_EQ(l.errnum, 0) << l.payload;
  EXPECT_EQ(l.payload, data);
}

TEST(ContentService, HeartbeatSendsTheFiveGaugesOverUdp) {
  test::UdpSink sink;
  TempDir dir;
  FakeContext ctx(dir.path(), sink.endpoint());
  auto mod = content::create_module(ctx, backings());
  ctx.request("content.store", "gauged");
  ctx.heartbeat_();
  std::string got;
  while (auto datagram = sink.recv(2000)) {
    got += *datagram;
    if (got.find("flush-batch-count") != std::string::npos) break;
  }
  for (const char* line : {"cairn.0.content-cache.count:1|g", "cairn.0.content-cache.valid:1|g",
                           "cairn.0.content-cache.size:6|g"})
    EXPECT_NE(got.find(line), std::string::npos) << line << " not in:\n" << got;
  EXPECT_NE(got.find("cairn.0.content-cache.dirty:"), std::string::npos) << got;
  EXPECT_NE(got.find("cairn.0.content-cache.flush-batch-count:"), std::string::npos) << got;
}
