// Unit tests for the content module's service glue with a fake ModuleContext: the topics of
// doc/protocol.md with their errnos and texts, config errors, heartbeat gauges arriving at a real
// UDP socket, and the shutdown flush reaching SQLite.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "libstats/stats.hpp"
#include "libutil/blobref.hpp"
#include "modules/content/module.hpp"

using namespace cairn;

namespace {

struct Reply {
  bool answered = false;
  int errnum = 0;
  std::string payload;
};

class FakeResponder : public broker::Responder {
 public:
  explicit FakeResponder(std::shared_ptr<Reply> r) : r_(std::move(r)) {}
  void ok(std::string payload) override { set(0, std::move(payload)); }
  void error(int errnum, std::string text) override { set(errnum, std::move(text)); }
  void stream(std::string) override { ADD_FAILURE() << "content topics do not stream"; }
  void end() override { ADD_FAILURE() << "content topics do not stream"; }

 private:
  void set(int errnum, std::string payload) {
    EXPECT_FALSE(r_->answered) << "answered twice";
    r_->answered = true;
    r_->errnum = errnum;
    r_->payload = std::move(payload);
  }
  std::shared_ptr<Reply> r_;
};

class FakeContext : public broker::ModuleContext {
 public:
  FakeContext(const std::string& statedir, std::string stats_endpoint = {})
      : statedir_(statedir), stats_(loop_, stats::Options{stats_endpoint, 1440, {}}) {
    config_ = {{"content.hash", "sha1"},
               {"content.blob-size-limit", "1073741824"},
               {"content.flush-batch-limit", "256"},
               {"content.purge-target-size", "16777216"},
               {"content.purge-old-entry", "10"},
               {"content.backing", "sqlite"}};
  }
  reactor::Loop& loop() override { return loop_; }
  void register_service(const std::string& topic, broker::Handler h) override {
    handlers_[topic] = std::move(h);
  }
  std::unique_ptr<stats::Context> stats_context() override {
    return stats_.context("cairn.0", 0);  // immediate: every update is a packet
  }
  std::string config(const std::string& key) const override {
    auto it = config_.find(key);
    if (it == config_.end()) throw std::logic_error("unknown key " + key);
    return it->second;
  }
  const std::string& statedir() const override { return statedir_; }
  int rank() const override { return 0; }
  void log(broker::Level, std::string_view text) override { logs_.emplace_back(text); }
  void on_heartbeat(std::function<void()> fn) override { heartbeat_ = std::move(fn); }
  void on_shutdown(std::function<void(std::function<void()>)> fn) override {
    shutdown_ = std::move(fn);
  }

  // Sends a request and runs the loop until it is answered (10 s hang guard).
  Reply request(const std::string& topic, const std::string& payload = {}) {
    auto r = std::make_shared<Reply>();
    auto it = handlers_.find(topic);
    if (it == handlers_.end()) {
      ADD_FAILURE() << "no handler for " << topic;
      return *r;
    }
    it->second(msg::Message::request(topic, payload, 1), std::make_shared<FakeResponder>(r));
    run_until([&] { return r->answered; });
    return *r;
  }
  template <typename Pred>
  void run_until(Pred pred) {
    bool expired = false;
    reactor::Timer guard(loop_, 10.0, 0, [&](reactor::Timer&) { expired = true; });
    guard.start();
    while (!pred() && !expired) loop_.run_once(true);
    EXPECT_FALSE(expired) << "not answered within 10 s";
  }
  void shutdown() {
    bool done = false;
    shutdown_([&] { done = true; });
    run_until([&] { return done; });
  }

  std::map<std::string, std::string> config_;
  std::function<void()> heartbeat_;
  std::vector<std::string> logs_;

 private:
  reactor::Loop loop_;
  std::string statedir_;
  stats::Stats stats_;
  std::map<std::string, broker::Handler> handlers_;
  std::function<void(std::function<void()>)> shutdown_;
};

struct TempDir {
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-content-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

}  // namespace

TEST(ContentService, StoreAndLoadRoundTripThroughTopics) {
  TempDir dir;
  FakeContext ctx(dir.path);
  auto mod = content::create_module(ctx);
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
  FakeContext ctx(dir.path);
  auto mod = content::create_module(ctx);
  Reply a = ctx.request("content.load", "not-a-blobref");
  EXPECT_EQ(a.errnum, EINVAL);
  EXPECT_NE(a.payload.find("malformed blobref"), std::string::npos) << a.payload;
  EXPECT_EQ(ctx.request("content.load", "sha1-abcd").errnum, EPROTO);
  // A well-formed sha256 blobref for a sha1 cache has the wrong size.
  EXPECT_EQ(ctx.request("content.load", util::blobref_hash(util::HashType::kSha256, "x")).errnum,
            EPROTO);
}

TEST(ContentService, UnknownBlobIsEnoentNoSuchBlob) {
  TempDir dir;
  FakeContext ctx(dir.path);
  auto mod = content::create_module(ctx);
  Reply r = ctx.request("content.load", util::blobref_hash(util::HashType::kSha1, "nope"));
  EXPECT_EQ(r.errnum, ENOENT);
  EXPECT_EQ(r.payload, "no such blob");
}

TEST(ContentService, TooLargeBlobIsEfbigNamingSizeAndLimit) {
  TempDir dir;
  FakeContext ctx(dir.path);
  ctx.config_["content.blob-size-limit"] = "4";
  auto mod = content::create_module(ctx);
  Reply r = ctx.request("content.store", "12345");
  EXPECT_EQ(r.errnum, EFBIG);
  EXPECT_EQ(r.payload, "blob too large (5 > limit 4 bytes)");
}

TEST(ContentService, BackingNoneKeepsBlobsAndFlushIsEnosys) {
  TempDir dir;
  FakeContext ctx(dir.path);
  ctx.config_["content.backing"] = "none";
  auto mod = content::create_module(ctx);
  Reply s = ctx.request("content.store", "memory");
  EXPECT_EQ(ctx.request("content.flush").errnum, ENOSYS);
  EXPECT_EQ(ctx.request("content.load", s.payload).payload, "memory");
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/content.sqlite"));
  ctx.shutdown();
}

TEST(ContentService, StatsGetReportsTheCacheAsJson) {
  TempDir dir;
  FakeContext ctx(dir.path);
  auto mod = content::create_module(ctx);
  ctx.request("content.store", "one");
  ctx.request("content.store", "two!");
  ASSERT_EQ(ctx.request("content.flush").errnum, 0);
  auto j = nlohmann::json::parse(ctx.request("content.stats-get").payload);
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["valid"], 2);
  EXPECT_EQ(j["dirty"], 0);
  EXPECT_EQ(j["size"], 7);
  EXPECT_EQ(j["flush-batch-count"], 0);
  EXPECT_EQ(ctx.request("content.dropcache").errnum, 0);
  j = nlohmann::json::parse(ctx.request("content.stats-get").payload);
  EXPECT_EQ(j["count"], 0);
}

TEST(ContentService, BadConfigurationStopsCreationNamingTheKey) {
  TempDir dir;
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"content.hash", "md5"},
           {"content.backing", "redis"},
           {"content.flush-batch-limit", "0"},
           {"content.purge-old-entry", "-1"},
           {"content.blob-size-limit", "lots"}}) {
    FakeContext ctx(dir.path);
    ctx.config_[key] = value;
    try {
      content::create_module(ctx);
      ADD_FAILURE() << key << "=" << value << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

TEST(ContentService, ShutdownFlushesDirtyBlobsToTheStatedir) {
  TempDir dir;
  std::vector<std::string> refs;
  {
    FakeContext ctx(dir.path);
    auto mod = content::create_module(ctx);
    for (int i = 0; i < 300; i++)
      refs.push_back(ctx.request("content.store", "blob " + std::to_string(i)).payload);
    ctx.shutdown();
  }
  FakeContext ctx(dir.path);
  auto mod = content::create_module(ctx);
  for (int i = 0; i < 300; i++)
    ASSERT_EQ(ctx.request("content.load", refs[i]).payload, "blob " + std::to_string(i));
}

TEST(ContentService, HeartbeatSendsTheFiveGaugesOverUdp) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  TempDir dir;
  FakeContext ctx(dir.path, "127.0.0.1:" + std::to_string(ntohs(sa.sin_port)));
  auto mod = content::create_module(ctx);
  ctx.request("content.store", "gauged");
  ctx.heartbeat_();
  std::string got;
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, 2000) > 0) {
    char buf[2048];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.find("flush-batch-count") != std::string::npos) break;
  }
  close(fd);
  for (const char* line : {"cairn.0.content-cache.count:1|g", "cairn.0.content-cache.valid:1|g",
                           "cairn.0.content-cache.size:6|g"})
    EXPECT_NE(got.find(line), std::string::npos) << line << " not in:\n" << got;
  EXPECT_NE(got.find("cairn.0.content-cache.dirty:"), std::string::npos) << got;
  EXPECT_NE(got.find("cairn.0.content-cache.flush-batch-count:"), std::string::npos) << got;
}
