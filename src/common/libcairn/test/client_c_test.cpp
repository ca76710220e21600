// Unit tests of libcairn (<cairn/client.h>): against a real broker (`cairn start`, a child
// process per test suite), and against a scripted ROUTER on a thread where the test must see
// what goes over the wire (one batch) or control when answers come (timeouts, late answers).
// Every wait is bounded.
#include <cairn/client.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "libmsg/batch.hpp"
#include "libmsg/message.hpp"
#include "libmsg/stream.hpp"
#include "libmsg/zmq_io.hpp"
#include "libtest/raw_echo.hpp"
#include "libutil/fd.hpp"
#include "libutil/process.hpp"

extern "C" int c99_store_and_load(const char* uri);  // client_c99.c

namespace {

namespace msg = cairn::msg;
using std::chrono::milliseconds;

// Owning wrappers, so that a failed ASSERT leaks nothing.
struct HandleCloser {
  void operator()(cairn_t* h) const { cairn_close(h); }
};
struct FutureDestroyer {
  void operator()(cairn_future_t* f) const { cairn_future_destroy(f); }
};
using HandlePtr = std::unique_ptr<cairn_t, HandleCloser>;
using FuturePtr = std::unique_ptr<cairn_future_t, FutureDestroyer>;

// `cairn start` as a child process: the build tree's cairn ($CAIRN_BUILDDIR/src/cmd/cairn, or
// found from this program's directory), a private statedir; its URI is the line it prints.
class Broker {
 public:
  Broker() {
    std::string cairn;
    if (const char* b = std::getenv("CAIRN_BUILDDIR"))
      cairn = std::string(b) + "/src/cmd/cairn";
    else
      cairn = (cairn::test::own_build_directory() / "../../../cmd/cairn").lexically_normal();
    char tmpl[] = "/tmp/cairn-libcairn-test-XXXXXX";
    if (mkdtemp(tmpl)) statedir_ = tmpl;
    auto child = cairn::util::spawn_captured({cairn, "start", "--statedir", statedir_});
    if (!child) {
      why_ = child.error().text;
      return;
    }
    child_ = std::move(child).value();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string out;
    while (out.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{child_.out.get(), POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(child_.out.get(), buf, sizeof buf);
      if (n == 0) break;
      if (n > 0) out.append(buf, static_cast<size_t>(n));
    }
    if (out.find('\n') == std::string::npos) {
      why_ = "cairn start printed no URI: " + out;
      return;
    }
    uri_ = out.substr(0, out.find('\n'));
  }
  ~Broker() {
    if (child_.pid > 0) {
      kill(child_.pid, SIGTERM);
      waitpid(child_.pid, nullptr, 0);
    }
    if (!statedir_.empty()) std::filesystem::remove_all(statedir_);
  }
  const std::string& uri() const { return uri_; }
  const std::string& why() const { return why_; }

 private:
  cairn::util::CapturedChild child_;
  std::string statedir_, uri_, why_;
};

class LibcairnTest : public testing::Test {
 protected:
  static void SetUpTestSuite() { broker_ = new Broker; }
  static void TearDownTestSuite() {
    delete broker_;
    broker_ = nullptr;
  }
  void SetUp() override {
    ASSERT_FALSE(broker_->uri().empty()) << broker_->why();
    h_.reset(cairn_open(broker_->uri().c_str(), 0));
    ASSERT_TRUE(h_) << std::strerror(errno);
    ASSERT_EQ(cairn_set_timeout(h_.get(), 30), 0);
  }
  std::string store(const std::string& data) {
    FuturePtr f(cairn_content_store(h_.get(), data.data(), data.size()));
    const char* ref = nullptr;
    EXPECT_EQ(cairn_content_store_get(f.get(), &ref), 0) << cairn_future_error(f.get());
    return ref ? ref : "";
  }

  static Broker* broker_;
  HandlePtr h_;
};
Broker* LibcairnTest::broker_ = nullptr;

TEST_F(LibcairnTest, StoreThenLoadReturnsTheSameBytes) {
  std::string data("blob\0with a nul", 15);
  std::string ref = store(data);
  EXPECT_EQ(ref.rfind("sha1-", 0), 0u) << ref;
  EXPECT_EQ(ref.size(), 45u);
  FuturePtr f(cairn_content_load(h_.get(), ref.c_str()));
  ASSERT_TRUE(f);
  const void* got = nullptr;
  size_t len = 0;
  ASSERT_EQ(cairn_content_load_get(f.get(), &got, &len), 0);
  EXPECT_EQ(std::string(static_cast<const char*>(got), len), data);
  EXPECT_EQ(cairn_future_error(f.get()), nullptr);
  // A second get answers again from the future, without a request.
  ASSERT_EQ(cairn_content_load_get(f.get(), &got, &len), 0);
  EXPECT_EQ(len, data.size());
}

TEST_F(LibcairnTest, AnEmptyBlobCanBeStoredAndLoaded) {
  FuturePtr s(cairn_content_store(h_.get(), nullptr, 0));
  const char* ref = nullptr;
  ASSERT_EQ(cairn_content_store_get(s.get(), &ref), 0);
  FuturePtr l(cairn_content_load(h_.get(), ref));
  const void* data = nullptr;
  size_t len = 99;
  ASSERT_EQ(cairn_content_load_get(l.get(), &data, &len), 0);
  EXPECT_EQ(len, 0u);
}

TEST_F(LibcairnTest, LoadingAnUnknownBlobFailsWithEnoentAndTheBrokersText) {
  FuturePtr f(cairn_content_load(h_.get(), "sha1-0000000000000000000000000000000000000000"));
  const void* data = nullptr;
  size_t len = 0;
  errno = 0;
  EXPECT_EQ(cairn_content_load_get(f.get(), &data, &len), -1);
  EXPECT_EQ(errno, ENOENT);
  ASSERT_NE(cairn_future_error(f.get()), nullptr);
  EXPECT_STREQ(cairn_future_error(f.get()), "no such blob");
  EXPECT_EQ(cairn_future_get(f.get()), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(LibcairnTest, AMalformedBlobrefIsRefusedByTheBroker) {
  FuturePtr f(cairn_content_load(h_.get(), "not-a-blobref"));
  EXPECT_EQ(cairn_future_get(f.get()), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_NE(std::string(cairn_future_error(f.get())).find("malformed blobref"), std::string::npos);
}

TEST_F(LibcairnTest, ManyFuturesInFlightAreAnsweredInAnyOrderOfGets) {
  std::vector<std::string> blobs;
  std::vector<FuturePtr> stores;
  for (int i = 0; i < 100; i++) {
    blobs.push_back("blob number " + std::to_string(i));
    stores.emplace_back(cairn_content_store(h_.get(), blobs.back().data(), blobs.back().size()));
  }
  std::vector<FuturePtr> loads(blobs.size());
  for (size_t i = blobs.size(); i-- > 0;) {  // newest first
    const char* ref = nullptr;
    ASSERT_EQ(cairn_content_store_get(stores[i].get(), &ref), 0);
    loads[i].reset(cairn_content_load(h_.get(), ref));
  }
  for (size_t i = 0; i < blobs.size(); i++) {
    const void* data = nullptr;
    size_t len = 0;
    ASSERT_EQ(cairn_content_load_get(loads[i].get(), &data, &len), 0);
    EXPECT_EQ(std::string(static_cast<const char*>(data), len), blobs[i]);
  }
}

TEST_F(LibcairnTest, RpcEchoesAPingAndAnUnknownTopicIsEnosys) {
  FuturePtr ping(cairn_rpc(h_.get(), "broker.ping", "hello", 5));
  FuturePtr unknown(cairn_rpc(h_.get(), "no.such.service", nullptr, 0));
  const void* payload = nullptr;
  size_t len = 0;
  ASSERT_EQ(cairn_rpc_get(ping.get(), &payload, &len), 0);
  EXPECT_EQ(std::string(static_cast<const char*>(payload), len), "hello");
  EXPECT_EQ(cairn_rpc_get(unknown.get(), &payload, &len), -1);
  EXPECT_EQ(errno, ENOSYS);
  EXPECT_STREQ(cairn_future_error(unknown.get()), "unknown service: no.such.service");
}

TEST_F(LibcairnTest, FlushIsAnsweredOnceStoresAreOnTheBackingStore) {
  store("to be flushed");
  FuturePtr f(cairn_content_flush(h_.get()));
  ASSERT_EQ(cairn_future_get(f.get()), 0) << cairn_future_error(f.get());
  FuturePtr stats(cairn_rpc(h_.get(), "content.stats-get", nullptr, 0));
  const void* payload = nullptr;
  size_t len = 0;
  ASSERT_EQ(cairn_rpc_get(stats.get(), &payload, &len), 0);
  EXPECT_NE(std::string(static_cast<const char*>(payload), len).find("\"dirty\":0"),
            std::string::npos);
}

TEST_F(LibcairnTest, MissingNamesTheBlobsNobodyHoldsInTheOrderAsked) {
  std::string kept = store("held by the cache");
  std::string absent1 = "sha1-" + std::string(40, '1');
  std::string absent2 = "sha1-" + std::string(40, '2');
  const char* refs[] = {absent2.c_str(), kept.c_str(), absent1.c_str()};
  FuturePtr f(cairn_content_missing(h_.get(), refs, 3));
  ASSERT_TRUE(f);
  const char* const* missing = nullptr;
  size_t count = 99;
  ASSERT_EQ(cairn_content_missing_get(f.get(), &missing, &count), 0) << cairn_future_error(f.get());
  ASSERT_EQ(count, 2u);
  EXPECT_STREQ(missing[0], absent2.c_str());
  EXPECT_STREQ(missing[1], absent1.c_str());
  // Asking again gives the same list; none missing gives none.
  ASSERT_EQ(cairn_content_missing_get(f.get(), &missing, &count), 0);
  EXPECT_EQ(count, 2u);
  const char* held[] = {kept.c_str()};
  FuturePtr none(cairn_content_missing(h_.get(), held, 1));
  ASSERT_EQ(cairn_content_missing_get(none.get(), &missing, &count), 0);
  EXPECT_EQ(count, 0u);
  // A blobref that would change the list is refused before anything is sent.
  const char* bad[] = {"sha1-a\nsha1-b"};
  errno = 0;
  EXPECT_EQ(cairn_content_missing(h_.get(), bad, 1), nullptr);
  EXPECT_EQ(errno, EINVAL);
  // And a malformed one gets the broker's answer.
  const char* malformed[] = {"sha1-nothex"};
  FuturePtr refused(cairn_content_missing(h_.get(), malformed, 1));
  EXPECT_EQ(cairn_content_missing_get(refused.get(), &missing, &count), -1);
  ASSERT_NE(cairn_future_error(refused.get()), nullptr);
  EXPECT_NE(std::string(cairn_future_error(refused.get())).find("sha1-nothex"), std::string::npos);
}

TEST_F(LibcairnTest, AGetOfTheWrongKindIsEinval) {
  FuturePtr f(cairn_content_flush(h_.get()));
  const char* ref = nullptr;
  EXPECT_EQ(cairn_content_store_get(f.get(), &ref), -1);
  EXPECT_EQ(errno, EINVAL);
  const void* data = nullptr;
  size_t len = 0;
  EXPECT_EQ(cairn_content_load_get(f.get(), &data, &len), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(cairn_future_get(f.get()), 0);  // the future itself is fine
}

TEST_F(LibcairnTest, NullArgumentsAreEinval) {
  EXPECT_EQ(cairn_content_store(nullptr, "x", 1), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(cairn_content_store(h_.get(), nullptr, 1), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(cairn_content_load(h_.get(), nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(cairn_rpc(h_.get(), nullptr, nullptr, 0), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(cairn_future_get(nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(cairn_set_timeout(h_.get(), std::nan("")), -1);
  EXPECT_EQ(errno, EINVAL);
  FuturePtr f(cairn_content_flush(h_.get()));
  EXPECT_EQ(cairn_future_then(f.get(), nullptr, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(cairn_open("local:///x", 1), nullptr);
  EXPECT_EQ(errno, EINVAL);
  cairn_close(nullptr);
  cairn_future_destroy(nullptr);
}

// A future destroyed before its answer: the answer is dropped, the handle goes on.
TEST_F(LibcairnTest, AFutureDestroyedBeforeItsAnswerIsSafe) {
  std::string ref = store("answered late");
  for (int i = 0; i < 10; i++) cairn_future_destroy(cairn_content_load(h_.get(), ref.c_str()));
  bool ran = false;
  FuturePtr doomed(cairn_content_load(h_.get(), ref.c_str()));
  ASSERT_EQ(
      cairn_future_then(
          doomed.get(), [](cairn_future_t*, void* arg) { *static_cast<bool*>(arg) = true; }, &ran),
      0);
  doomed.reset();
  FuturePtr f(cairn_content_load(h_.get(), ref.c_str()));
  ASSERT_EQ(cairn_future_get(f.get()), 0);  // the eleven answers before it are dropped
  EXPECT_GE(cairn_dispatch(h_.get()), 0);
  EXPECT_FALSE(ran);
}

// The caller's own loop: poll the descriptor, ask pollevents, dispatch.
TEST_F(LibcairnTest, ContinuationsRunFromDispatchInAPollLoop) {
  struct Seen {
    int count = 0;
    std::vector<std::string> refs;
  } seen;
  auto cb = [](cairn_future_t* f, void* arg) {
    auto* s = static_cast<Seen*>(arg);
    const char* ref = nullptr;
    EXPECT_EQ(cairn_content_store_get(f, &ref), 0);  // answered: does not wait
    if (ref) s->refs.push_back(ref);
    s->count++;
    cairn_future_destroy(f);  // a continuation may destroy its own future
  };
  for (int i = 0; i < 20; i++) {
    std::string blob = "continued " + std::to_string(i);
    cairn_future_t* f = cairn_content_store(h_.get(), blob.data(), blob.size());
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(cairn_future_then(f, cb, &seen), 0);
  }
  EXPECT_EQ(seen.count, 0);  // nothing runs before dispatch
  int fd = cairn_pollfd(h_.get());
  ASSERT_GE(fd, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (seen.count < 20 && std::chrono::steady_clock::now() < deadline) {
    if (!(cairn_pollevents(h_.get()) & POLLIN)) {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, 1000);
      continue;
    }
    ASSERT_GE(cairn_dispatch(h_.get()), 0);
  }
  EXPECT_EQ(seen.count, 20);
  EXPECT_EQ(seen.refs.size(), 20u);
  EXPECT_EQ(cairn_pollevents(h_.get()), 0);
}

TEST_F(LibcairnTest, ThenOnAnAnsweredFutureRunsAtTheNextDispatchOnly) {
  FuturePtr f(cairn_rpc(h_.get(), "broker.ping", "x", 1));
  ASSERT_EQ(cairn_future_get(f.get()), 0);
  int ran = 0;
  ASSERT_EQ(cairn_future_then(
                f.get(), [](cairn_future_t*, void* arg) { ++*static_cast<int*>(arg); }, &ran),
            0);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(cairn_pollevents(h_.get()), POLLIN);
  EXPECT_EQ(cairn_dispatch(h_.get()), 1);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(cairn_dispatch(h_.get()), 0);  // once
  EXPECT_EQ(ran, 1);
}

TEST_F(LibcairnTest, AContinuationCanMakeAndWaitForAnotherFuture) {
  struct Chain {
    cairn_t* h;
    std::string loaded;
  } chain{h_.get(), {}};
  FuturePtr s(cairn_content_store(h_.get(), "chained", 7));
  ASSERT_EQ(cairn_future_then(
                s.get(),
                [](cairn_future_t* f, void* arg) {
                  auto* c = static_cast<Chain*>(arg);
                  const char* ref = nullptr;
                  ASSERT_EQ(cairn_content_store_get(f, &ref), 0);
                  FuturePtr l(cairn_content_load(c->h, ref));
                  const void* data = nullptr;
                  size_t len = 0;
                  ASSERT_EQ(cairn_content_load_get(l.get(), &data, &len), 0);
                  c->loaded.assign(static_cast<const char*>(data), len);
                },
                &chain),
            0);
  ASSERT_EQ(cairn_future_get(s.get()), 0);
  EXPECT_EQ(cairn_dispatch(h_.get()), 1);
  EXPECT_EQ(chain.loaded, "chained");
}

TEST_F(LibcairnTest, CloseWithFuturesOutstandingKeepsAnswersAndFailsTheRest) {
  FuturePtr answered(cairn_rpc(h_.get(), "broker.ping", "kept", 4));
  ASSERT_EQ(cairn_future_get(answered.get()), 0);
  FuturePtr pending(cairn_rpc(h_.get(), "broker.ping", "lost", 4));
  h_.reset();
  const void* payload = nullptr;
  size_t len = 0;
  ASSERT_EQ(cairn_rpc_get(answered.get(), &payload, &len), 0);
  EXPECT_EQ(std::string(static_cast<const char*>(payload), len), "kept");
  EXPECT_EQ(cairn_rpc_get(pending.get(), &payload, &len), -1);
  EXPECT_EQ(errno, ENOTCONN);
  EXPECT_NE(std::string(cairn_future_error(pending.get())).find("cairn_close"), std::string::npos);
  EXPECT_EQ(cairn_future_then(
                pending.get(), [](cairn_future_t*, void*) {}, nullptr),
            -1);
  EXPECT_EQ(errno, ENOTCONN);
}  // both futures destroyed after their handle

TEST_F(LibcairnTest, TheHeaderIsC99AndWorksFromC) {
  EXPECT_EQ(c99_store_and_load(broker_->uri().c_str()), 0);
}

TEST(LibcairnOpen, AMissingSocketFailsAtOnceWithEnoent) {
  char tmpl[] = "/tmp/cairn-libcairn-open-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string uri = std::string("local://") + tmpl + "/no-such.sock";
  auto start = std::chrono::steady_clock::now();
  errno = 0;
  EXPECT_EQ(cairn_open(uri.c_str(), 0), nullptr);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  rmdir(tmpl);
}

TEST(LibcairnOpen, NoUriAndNoCairnUriIsEinval) {
  const char* saved = std::getenv("CAIRN_URI");
  std::string keep = saved ? saved : "";
  unsetenv("CAIRN_URI");
  errno = 0;
  EXPECT_EQ(cairn_open(nullptr, 0), nullptr);
  EXPECT_EQ(errno, EINVAL);
  if (saved) setenv("CAIRN_URI", keep.c_str(), 1);
}

// ---- against a scripted server ----------------------------------------------------------------

// A local:// socket in a private directory; `script` runs on a thread with the one connection
// it accepts (the "sock" it is given is that connection's descriptor).
class ScriptedServer {
 public:
  using Script = std::function<void(int sock)>;
  explicit ScriptedServer(Script script) {
    char tmpl[] = "/tmp/cairn-libcairn-srv-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string path = dir_ + "/s.sock";
    uri_ = "local://" + path;
    listen_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    EXPECT_EQ(bind(listen_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(listen(listen_.get(), 4), 0);
    thread_ = std::thread([this, script] {
      pollfd p{listen_.get(), POLLIN, 0};
      if (poll(&p, 1, 10000) != 1) return;
      cairn::util::UniqueFd conn(accept(listen_.get(), nullptr, nullptr));
      timeval tv{10, 0};
      setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      script(conn.get());
    });
  }
  ~ScriptedServer() {
    thread_.join();
    std::filesystem::remove_all(dir_);
  }
  const std::string& uri() const { return uri_; }

  // Receives one frame: the requests in it (`identity` is left empty: a stream has none).
  static std::vector<msg::Message> receive(int sock, std::string& identity) {
    identity.clear();
    std::vector<msg::Message> got;
    char prefix[msg::kStreamPrefixBytes];
    if (!read_all(sock, prefix, sizeof prefix)) return got;
    uint32_t len = 0;
    for (int i = 3; i >= 0; --i) len = (len << 8) | static_cast<uint8_t>(prefix[i]);
    std::string frame(len, '\0');
    if (!read_all(sock, frame.data(), len)) return got;
    auto batch = msg::BatchReader::open(frame);
    if (!batch) return got;
    while (!batch->done()) {
      msg::Message m;
      if (batch->next(m)) got.push_back(std::move(m));
    }
    return got;
  }
  static void answer(int sock, const std::string&, const msg::Message& reply) {
    msg::BatchWriter w;
    w.add(reply, reply.topic, reply.payload);
    char prefix[msg::kStreamPrefixBytes];
    msg::encode_stream_prefix(static_cast<uint32_t>(w.frame().size()), prefix);
    std::string bytes = std::string(prefix, sizeof prefix) + w.frame();
    EXPECT_EQ(send(sock, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

 private:
  static bool read_all(int fd, char* out, size_t n) {
    while (n > 0) {
      ssize_t got = read(fd, out, n);
      if (got <= 0) return false;
      out += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }
  std::string dir_, uri_;
  cairn::util::UniqueFd listen_;
  std::thread thread_;
};

TEST(LibcairnWire, FuturesMadeBeforeTheCallerWaitsLeaveInOneBatch) {
  size_t first_message = 0;
  ScriptedServer server([&](int sock) {
    std::string id;
    auto reqs = ScriptedServer::receive(sock, id);
    first_message = reqs.size();
    for (auto& r : reqs) ScriptedServer::answer(sock, id, msg::Message::response(r, r.payload));
  });
  HandlePtr h(cairn_open(server.uri().c_str(), 0));
  ASSERT_TRUE(h);
  FuturePtr a(cairn_rpc(h.get(), "t.a", "1", 1));
  FuturePtr b(cairn_content_store(h.get(), "2", 1));
  FuturePtr c(cairn_content_load(h.get(), "sha1-x"));
  ASSERT_EQ(cairn_future_get(c.get()), 0);
  EXPECT_EQ(first_message, 3u);
  EXPECT_EQ(cairn_future_get(a.get()), 0);
  EXPECT_EQ(cairn_future_get(b.get()), 0);
}

TEST(LibcairnWire, AGetTimesOutWithTheLibrarysTextAndCanWaitAgain) {
  ScriptedServer server([](int sock) {
    std::string id;
    auto reqs = ScriptedServer::receive(sock, id);  // answered only when asked a second time
    auto again = ScriptedServer::receive(sock, id);
    for (auto& r : reqs) ScriptedServer::answer(sock, id, msg::Message::response(r, "late"));
    for (auto& r : again) ScriptedServer::answer(sock, id, msg::Message::response(r, "now"));
  });
  HandlePtr h(cairn_open(server.uri().c_str(), 0));
  ASSERT_TRUE(h);
  ASSERT_EQ(cairn_set_timeout(h.get(), 0.1), 0);
  FuturePtr f(cairn_rpc(h.get(), "t.slow", nullptr, 0));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(cairn_future_get(f.get()), -1);
  EXPECT_EQ(errno, ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(90));
  EXPECT_NE(std::string(cairn_future_error(f.get())).find("no answer from the broker within 0.1 s"),
            std::string::npos);
  ASSERT_EQ(cairn_set_timeout(h.get(), 10), 0);
  FuturePtr g(cairn_rpc(h.get(), "t.again", nullptr, 0));
  const void* payload = nullptr;
  size_t len = 0;
  ASSERT_EQ(cairn_rpc_get(f.get(), &payload, &len), 0);  // the late answer still counts
  EXPECT_EQ(std::string(static_cast<const char*>(payload), len), "late");
  ASSERT_EQ(cairn_rpc_get(g.get(), &payload, &len), 0);
  EXPECT_EQ(std::string(static_cast<const char*>(payload), len), "now");
}

}  // namespace
