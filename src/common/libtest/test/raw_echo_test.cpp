// RawEcho, the benchmarks' raw ZeroMQ baseline (and its plain stream socket variant): it starts
// and answers from a process that already runs threads which allocate (as a benchmark does once
// its client is connected), it fails with a message instead of hanging when the echo cannot
// start, and it leaves nothing behind.
#include "libtest/raw_echo.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "libutil/fd.hpp"

namespace {

using cairn::test::RawEcho;

std::string raw_echo_program() {
  const char* b = std::getenv("CAIRN_BUILDDIR");
  return b ? std::string(b) + "/t/perf/raw-echo" : RawEcho::default_program();
}

// Ends the test binary with a message if it is still running after `seconds`: a hang here is the
// bug these tests look for, and it must fail rather than stall `make check`.
class Watchdog {
 public:
  explicit Watchdog(int seconds)
      : thread_([this, seconds] {
          auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
          while (!done_ && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          if (!done_) {
            std::fprintf(stderr, "raw_echo_test: still running after %d s: hung\n", seconds);
            std::_Exit(1);
          }
        }) {}
  ~Watchdog() {
    done_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// One request through the echo; true when the same two frames came back.
bool echoes(const RawEcho& echo) {
  void* ctx = zmq_ctx_new();
  void* dealer = zmq_socket(ctx, ZMQ_DEALER);
  RawEcho::bound_waits(dealer);
  zmq_connect(dealer, echo.uri().c_str());
  zmq_send(dealer, "head", 4, ZMQ_SNDMORE);
  zmq_send(dealer, "payload", 7, 0);
  char a[16] = {}, b[16] = {};
  int na = zmq_recv(dealer, a, sizeof a, 0);
  int more = 0;
  size_t len = sizeof more;
  zmq_getsockopt(dealer, ZMQ_RCVMORE, &more, &len);
  int nb = more ? zmq_recv(dealer, b, sizeof b, 0) : -1;
  zmq_close(dealer);
  zmq_ctx_term(ctx);
  return na == 4 && std::string(a, 4) == "head" && nb == 7 && std::string(b, 7) == "payload";
}

TEST(RawEcho, StartsAndAnswersWhileOtherThreadsAllocate) {
  Watchdog watchdog(120);
  // Threads that keep the allocator's locks busy, as a connected client's ZeroMQ threads do. A
  // child forked from this process without exec may inherit one of those locks held, and hang
  // on its first allocation.
  std::atomic<bool> stop{false};
  std::vector<std::thread> churn;
  for (int t = 0; t < 3; ++t)
    churn.emplace_back([&stop] {
      while (!stop) {
        std::vector<std::unique_ptr<char[]>> blocks;
        for (int i = 0; i < 64; ++i) blocks.push_back(std::make_unique<char[]>(32 + 64 * i));
      }
    });
  int answered = 0;
  for (int i = 0; i < 40; ++i) {
    RawEcho echo(raw_echo_program());
    if (echoes(echo)) ++answered;
  }
  stop = true;
  for (auto& t : churn) t.join();
  EXPECT_EQ(answered, 40);
}

// The error RawEcho(program) throws, or "" if it started.
std::string start_error(const std::string& program) {
  try {
    RawEcho echo(program);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(RawEcho, AProgramThatCannotRunIsAnErrorNamingIt) {
  Watchdog watchdog(120);
  std::string what = start_error("/nonexistent/raw-echo");
  EXPECT_NE(what.find("cannot run /nonexistent/raw-echo"), std::string::npos) << what;
  EXPECT_NE(what.find("CAIRN_RAW_ECHO"), std::string::npos) << what;
}

TEST(RawEcho, AnEchoThatExitsBeforeBindingIsAnErrorNotAHang) {
  Watchdog watchdog(120);
  std::string what = start_error("/bin/true");
  EXPECT_NE(what.find("exited before it bound"), std::string::npos) << what;
}

TEST(RawEcho, AProgramThatPrintsSomethingElseIsAnErrorQuotingIt) {
  Watchdog watchdog(120);
  std::string what = start_error("/bin/echo");  // prints its argument, the socket's URI
  EXPECT_NE(what.find("printed \"ipc:///tmp/cairn-raw-echo-"), std::string::npos) << what;
  EXPECT_NE(what.find("instead of \"ready\""), std::string::npos) << what;
}

TEST(RawEcho, TheSocketDirectoryIsRemovedAndTheEchoEnded) {
  Watchdog watchdog(120);
  std::string uri;
  {
    RawEcho echo(raw_echo_program());
    uri = echo.uri();
    ASSERT_TRUE(echoes(echo));
  }
  std::string path = uri.substr(std::string("ipc://").size());
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path())) << path;
}

// Sends `data` through a new connection to the stream echo `echo`, 16 KiB at a time,
// each piece read back before the next goes (so that neither side's socket buffer fills); returns
// what came back, short if the echo stopped.
std::string stream_echoes(const RawEcho& echo, const std::string& data) {
  cairn::util::UniqueFd fd = echo.connect_stream();
  std::string back;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = write(fd.get(), data.data() + off, std::min<size_t>(data.size() - off, 16384));
    if (w <= 0) break;
    off += static_cast<size_t>(w);
    char buf[65536];
    while (back.size() < off) {
      ssize_t r = read(fd.get(), buf, sizeof buf);
      if (r <= 0) break;
      back.append(buf, static_cast<size_t>(r));
    }
  }
  return back;
}

TEST(RawEcho, TheStreamEchoSendsBackEveryByteOnEachConnection) {
  Watchdog watchdog(120);
  std::string uri;
  {
    RawEcho echo(raw_echo_program(), RawEcho::Transport::unix_stream);
    uri = echo.uri();
    ASSERT_EQ(uri.rfind("unix:/tmp/cairn-raw-echo-", 0), 0u) << uri;
    // More than the echo reads at once (64 KiB), with every byte value, on two connections
    // one after the other.
    std::string data(300000, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
    EXPECT_TRUE(stream_echoes(echo, data) == data);
    EXPECT_EQ(stream_echoes(echo, "second connection"), "second connection");
  }
  std::string path = uri.substr(std::string("unix:").size());
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path())) << path;
}

}  // namespace
