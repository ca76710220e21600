// Unit tests for local:// (local_listener.hpp) through a real broker and raw stream clients:
// replies of one iteration leave as one frame; a peer that writes one byte at a time, closes
// mid-frame, sends an oversized length or a malformed frame, stops reading, or goes away while
// its reply is written costs only its own connection; EMFILE pauses accepting without spinning
// and accepting resumes; the broker's own uid is an owner.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "libmsg/batch.hpp"
#include "libmsg/stream.hpp"
#include "libtest/temp_dir.hpp"
#include "libutil/fd.hpp"

using namespace cairn;
using namespace cairn::broker;

namespace {

// Runs the loop until pred() holds or `timeout` passes; returns pred().
template <typename Pred>
bool run_until(reactor::Loop& loop, Pred pred, double timeout = 10.0) {
  loop.now_update();
  double deadline = loop.now() + timeout;
  while (!pred()) {
    loop.run_once(false);
    usleep(500);
    loop.now_update();
    if (loop.now() > deadline) return pred();
  }
  return true;
}

std::string framed(const std::string& frame) {
  char prefix[msg::kStreamPrefixBytes];
  msg::encode_stream_prefix(static_cast<uint32_t>(frame.size()), prefix);
  return std::string(prefix, sizeof prefix) + frame;
}

std::string batch_of(const std::vector<msg::Message>& requests) {
  msg::BatchWriter w;
  for (const auto& m : requests) w.add(m, m.topic, m.payload);
  return w.frame();
}

// A raw local:// client, non-blocking, driven from the test thread while the loop runs.
class StreamClient {
 public:
  explicit StreamClient(const std::string& path) : fd_(socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    connected_ = connect(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    fcntl(fd_.get(), F_SETFL, O_NONBLOCK);
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

  // Writes all of `bytes`, running the loop while the socket is full.
  void write(reactor::Loop& loop, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      ASSERT_TRUE(n < 0 && errno == EAGAIN) << std::strerror(errno);
      loop.run_once(false);
    }
  }
  void send(reactor::Loop& loop, const std::vector<msg::Message>& requests) {
    write(loop, framed(batch_of(requests)));
  }
  // The next frame's messages, waiting (bounded) while the loop runs; nullopt at EOF or timeout.
  std::optional<std::vector<msg::Message>> recv_frame(reactor::Loop& loop, double timeout = 10.0) {
    std::optional<std::vector<msg::Message>> got;
    bool eof = false;
    run_until(
        loop,
        [&] {
          if (!frames_.empty() || eof) return true;
          char buf[65536];
          ssize_t n = read(fd_.get(), buf, sizeof buf);
          if (n == 0 || (n < 0 && errno != EAGAIN)) eof = true;
          if (n > 0) {
            (void)decoder_.feed(std::string_view(buf, static_cast<size_t>(n)),
                                [&](std::string_view f) {
                                  frames_.emplace_back(f);
                                  return true;
                                });
          }
          return !frames_.empty() || eof;
        },
        timeout);
    if (frames_.empty()) return std::nullopt;
    auto batch = msg::BatchReader::open(frames_.front());
    EXPECT_TRUE(batch) << batch.error().text;
    std::vector<msg::Message> out;
    while (batch && !batch->done()) {
      msg::Message m;
      EXPECT_TRUE(batch->next(m));
      out.push_back(std::move(m));
    }
    frames_.erase(frames_.begin());
    return out;
  }
  // Whether the broker closed the connection (EOF or reset), within `timeout`.
  bool closed_by_peer(reactor::Loop& loop, double timeout = 10.0) {
    return run_until(
        loop,
        [&] {
          char buf[65536];
          ssize_t n = read(fd_.get(), buf, sizeof buf);
          return n == 0 || (n < 0 && errno != EAGAIN);
        },
        timeout);
  }

 private:
  util::UniqueFd fd_;
  bool connected_ = false;
  msg::FrameDecoder decoder_{uint64_t{1} << 32};
  std::vector<std::string> frames_;
};

bool log_has(Broker& b, const std::string& text) {
  for (const auto& e : b.log().entries())
    if (e.text.find(text) != std::string::npos) return true;
  return false;
}

class LocalTest : public testing::Test {
 protected:
  Broker& start(const std::vector<std::string>& options = {}) {
    Config config;
    for (const auto& o : options) config.set_option(o);
    BrokerOptions opts;
    opts.listen = "local://" + path_;
    opts.statedir = dir_.path();
    opts.log_to_stderr = false;
    opts.modules = modules_;
    broker_ = std::make_unique<Broker>(loop_, config, opts);
    return *broker_;
  }
  StreamClient& client() {
    clients_.push_back(std::make_unique<StreamClient>(path_));
    EXPECT_TRUE(clients_.back()->connected());
    return *clients_.back();
  }
  // A ping answered on a new connection: the broker still serves.
  bool still_serves() {
    StreamClient& c = client();
    c.send(loop_, {msg::Message::request("broker.ping", "alive", 42)});
    auto r = c.recv_frame(loop_);
    return r && r->size() == 1 && (*r)[0].payload == "alive";
  }

  reactor::Loop loop_;
  test::TempDir dir_{"cairn-local-test", "/tmp"};
  std::string path_ = dir_.path() + "/s";
  ModuleSpecs modules_;  // what start() runs: none unless a test lists some
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<StreamClient>> clients_;
};

TEST_F(LocalTest, TheUriIsLocalAndABatchsRepliesLeaveAsOneFrame) {
  Broker& b = start();
  EXPECT_EQ(b.uri(), "local://" + path_);
  StreamClient& c = client();
  c.send(loop_, {msg::Message::request("broker.ping", "a", 1),
                 msg::Message::request("no.such.service", "", 2),
                 msg::Message::request("broker.ping", "c", 3)});
  auto r = c.recv_frame(loop_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].payload, "a");
  EXPECT_EQ((*r)[1].errnum, ENOSYS);
  EXPECT_EQ((*r)[2].matchtag, 3u);
}

TEST_F(LocalTest, APeerWritingOneByteAtATimeIsServedAndBlocksNobody) {
  start();
  StreamClient& slow = client();
  std::string bytes = framed(batch_of({msg::Message::request("broker.ping", "slow", 7)}));
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    slow.write(loop_, bytes.substr(i, 1));
    loop_.run_once(false);
  }
  EXPECT_TRUE(still_serves());  // while the slow peer is mid-frame
  slow.write(loop_, bytes.substr(bytes.size() - 1));
  auto r = slow.recv_frame(loop_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at(0).payload, "slow");
}

TEST_F(LocalTest, APeerThatClosesMidFrameLosesOnlyItsConnection) {
  Broker& b = start();
  StreamClient& c = client();
  std::string bytes = framed(batch_of({msg::Message::request("broker.ping", "cut", 1)}));
  c.write(loop_, bytes.substr(0, bytes.size() / 2));
  c.close();
  EXPECT_TRUE(run_until(loop_, [&] { return log_has(b, "in the middle of a frame"); }));
  EXPECT_TRUE(still_serves());
}

TEST_F(LocalTest, ALengthPastTheLimitClosesTheConnectionWithTheReason) {
  Broker& b = start();
  StreamClient& c = client();
  char prefix[msg::kStreamPrefixBytes];
  msg::encode_stream_prefix(0xfffffff0u, prefix);
  c.write(loop_, std::string(prefix, sizeof prefix));
  EXPECT_TRUE(c.closed_by_peer(loop_));
  EXPECT_TRUE(log_has(b, "stream: a frame of 4294967280 bytes, past the limit of"));
  EXPECT_TRUE(still_serves());
}

// The broker alone refuses a frame past about 1 MiB; a module that takes larger payloads (the
// content module: content.blob-size-limit) raises the limit for every peer.
TEST_F(LocalTest, AModuleThatTakesLargePayloadsRaisesTheFrameLimit) {
  const std::string big(3 * 1024 * 1024, 'x');
  {
    Broker& b = start();
    StreamClient& c = client();
    char prefix[msg::kStreamPrefixBytes];
    msg::encode_stream_prefix(static_cast<uint32_t>(big.size() + 1000), prefix);
    c.write(loop_, std::string(prefix, sizeof prefix));
    EXPECT_TRUE(c.closed_by_peer(loop_));
    EXPECT_TRUE(log_has(b, "past the limit of"));
  }
  clients_.clear();
  broker_.reset();
  modules_ = {{"big", [](ModuleContext& ctx) {
                 ctx.accept_payloads_up_to(4 * 1024 * 1024);
                 ctx.register_service("test.size", [](const msg::Message& m, ResponderPtr r) {
                   r->ok(std::to_string(m.payload.size()));
                 });
                 return std::make_unique<Module>();
               }}};
  start();
  StreamClient& c = client();
  c.send(loop_, {msg::Message::request("test.size", big, 1)});
  auto replies = c.recv_frame(loop_);
  ASSERT_TRUE(replies);
  ASSERT_EQ(replies->size(), 1u);
  EXPECT_EQ(replies->front().payload, std::to_string(big.size()));
}

TEST_F(LocalTest, AMalformedFrameClosesTheConnectionAndIsLogged) {
  Broker& b = start();
  StreamClient& c = client();
  c.write(loop_, framed("not a batch at all"));
  EXPECT_TRUE(c.closed_by_peer(loop_));
  EXPECT_TRUE(log_has(b, "a malformed frame: batch: not a batch header"));
  EXPECT_TRUE(still_serves());
}

TEST_F(LocalTest, APeerThatStopsReadingIsDisconnectedPastTheLimit) {
  Broker& b = start({"broker.peer-queue-limit=1048576"});
  int served = 0;
  b.register_service("test.big", [&](const msg::Message&, ResponderPtr r) {
    ++served;
    r->ok(std::string(256 * 1024, 'x'));
  });
  StreamClient& c = client();
  int small = 4096;
  setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  // 64 requests, each in a frame of its own: 16 MiB of replies, never read.
  for (uint32_t i = 1; i <= 64; ++i) c.send(loop_, {msg::Message::request("test.big", "", i)});
  EXPECT_TRUE(run_until(loop_, [&] {
    return log_has(b, "bytes of replies unread, past broker.peer-queue-limit (1048576)");
  }));
  EXPECT_TRUE(c.closed_by_peer(loop_));
  EXPECT_TRUE(still_serves());
}

TEST_F(LocalTest, APeerGoneBeforeItsReplyIsWrittenRaisesNoSigpipe) {
  struct sigaction dfl {
  }, old{};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, &old);  // a SIGPIPE would kill this test
  Broker& b = start();
  ResponderPtr held;
  b.register_service("test.hold", [&](const msg::Message&, ResponderPtr r) { held = r; });
  StreamClient& c = client();
  c.send(loop_, {msg::Message::request("test.hold", "", 1)});
  ASSERT_TRUE(run_until(loop_, [&] { return held != nullptr; }));
  c.close();
  loop_.run_once(false);
  held->ok(std::string(1 << 20, 'x'));  // written to a socket whose peer is gone
  held.reset();
  for (int i = 0; i < 5; ++i) loop_.run_once(false);
  EXPECT_TRUE(still_serves());
  sigaction(SIGPIPE, &old, nullptr);
}

TEST_F(LocalTest, EmfileOnAcceptPausesAcceptingThenItResumes) {
  Broker& b = start();
  rlimit old{};
  getrlimit(RLIMIT_NOFILE, &old);
  // The client's socket exists before descriptors run out; connect needs none more.
  auto waiting = std::make_unique<StreamClient>(path_);
  std::vector<util::UniqueFd> hogs;
  for (;;) {
    util::UniqueFd fd(dup(0));
    if (!fd) break;
    hogs.push_back(std::move(fd));
  }
  ASSERT_EQ(errno, EMFILE);
  waiting->send(loop_, {msg::Message::request("broker.ping", "waited", 5)});
  EXPECT_TRUE(run_until(loop_, [&] { return log_has(b, "cannot accept a connection: Too many"); }));
  hogs.clear();
  auto r = waiting->recv_frame(loop_);
  ASSERT_TRUE(r) << "accepting did not resume once descriptors were free";
  EXPECT_EQ(r->at(0).payload, "waited");
  EXPECT_TRUE(log_has(b, "pausing new connections"));
}

TEST_F(LocalTest, AThousandIdleConnectionsDoNotStopService) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 2200 && lim.rlim_max >= 2200) {
    lim.rlim_cur = 2200;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  ASSERT_GE(lim.rlim_cur, 2200u) << "needs 2200 descriptors: raise the hard limit (ulimit -Hn)";
  start();
  for (int i = 0; i < 1000; ++i) client();
  for (int i = 0; i < 20; ++i) loop_.run_once(false);
  EXPECT_TRUE(still_serves());
}

TEST_F(LocalTest, ThePeersOfTheBrokersOwnUidAreOwners) {
  Broker& b = start();
  b.register_service("jobtap.load", [](const msg::Message&, ResponderPtr r) { r->ok("ok"); });
  StreamClient& c = client();
  c.send(loop_, {msg::Message::request("jobtap.load", "", 1)});
  auto r = c.recv_frame(loop_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at(0).errnum, 0) << r->at(0).payload;
}

TEST_F(LocalTest, AStaleSocketFileIsReplacedALiveOneRefused) {
  {
    // A socket file nobody listens on, as a broker that was killed leaves.
    util::UniqueFd s(socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
    ASSERT_EQ(bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  }
  start();
  EXPECT_TRUE(still_serves());
  Config config;
  BrokerOptions opts;
  opts.listen = "local://" + path_;
  opts.statedir = dir_.path();
  opts.log_to_stderr = false;
  try {
    Broker second(loop_, config, opts);
    FAIL() << "a second broker took over a live socket";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string(e.what()).find("another broker is listening there"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(still_serves());
}

TEST_F(LocalTest, APathThatIsNotASocketOrIsTooLongIsRefusedSayingWhatToDo) {
  Config config;
  BrokerOptions opts;
  opts.statedir = dir_.path();
  opts.log_to_stderr = false;
  std::string file = dir_.path() + "/plain-file";
  { util::UniqueFd fd(open(file.c_str(), O_CREAT | O_WRONLY, 0600)); }
  struct Case {
    std::string path, expected;
  } cases[] = {{file, "the path exists and is not a socket: remove it or give another"},
               {dir_.path() + "/" + std::string(120, 'x'), "the socket path must be 1 to"}};
  for (const auto& c : cases) {
    opts.listen = "local://" + c.path;
    try {
      Broker b(loop_, config, opts);
      ADD_FAILURE() << "bound " << c.path;
    } catch (const StartupError& e) {
      EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
    }
  }
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);  // the file is left alone
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

}  // namespace
