// ping-bench: what libclient + the broker cost over raw ZeroMQ. Measures, in one run,
//   - round trip: sequential broker.ping rpcs vs. a raw DEALER/ROUTER echo of the same frames;
//   - throughput: requests/s with 64 (--inflight) requests in flight, both ways.
// The raw echo is a ROUTER in a child process on an ipc:// socket, like the broker's default
// endpoint. Run without CAIRN_URI, it re-runs itself under `cairn start` (the cairn next to it in
// the build tree, or $CAIRN). Targets: round trip <= 1.2x raw, throughput >= 0.8x raw.
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "libclient/client.hpp"
#include "libmsg/message.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libmsg/zmq_io.hpp"
#include "libtest/raw_echo.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using cairn::client::Client;
using cairn::msg::ZmqContext;
using cairn::msg::ZmqSocket;
namespace msg = cairn::msg;

struct Options {
  int requests = 20000;
  int inflight = 64;
  int trials = 5;
  size_t payload_size = 8;
  bool round_trip = true, throughput = true;  // --only round-trip|throughput
  std::string drive;  // --drive raw|lib: only send the pipelined requests to $CAIRN_URI
};

void usage() {
  std::fprintf(
      stderr,
      "usage: ping-bench [--requests N] [--inflight K] [--trials T] [--payload-size B]\n"
      "                  [--only round-trip|throughput]\n"
      "       ping-bench --drive raw|lib [--requests N] [--inflight K]   (needs CAIRN_URI;\n"
      "                  t/perf/ping-instructions.sh runs it)\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    if (a == "--only") {
      std::string what = argv[++i];
      if (what != "round-trip" && what != "throughput") usage();
      o.round_trip = what == "round-trip";
      o.throughput = what == "throughput";
      continue;
    }
    if (a == "--drive") {
      o.drive = argv[++i];
      if (o.drive != "raw" && o.drive != "lib") usage();
      continue;
    }
    long v = std::strtol(argv[++i], nullptr, 10);
    if (v <= 0 && a != "--payload-size") usage();
    if (a == "--requests")
      o.requests = static_cast<int>(v);
    else if (a == "--inflight")
      o.inflight = static_cast<int>(v);
    else if (a == "--trials")
      o.trials = static_cast<int>(v);
    else if (a == "--payload-size")
      o.payload_size = static_cast<size_t>(v);
    else
      usage();
  }
  return o;
}

// Re-runs this program as the initial program of a fresh broker.
[[noreturn]] void reexec_under_broker(int argc, char** argv) {
  std::string cairn;
  if (const char* c = std::getenv("CAIRN")) {
    cairn = c;
  } else {
    cairn = (cairn::test::own_build_directory() / "../../src/cmd/cairn").lexically_normal();
  }
  std::vector<char*> args;
  args.push_back(cairn.data());
  std::string start = "start";
  args.push_back(start.data());
  for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(cairn.c_str(), args.data());
  std::fprintf(stderr, "ping-bench: cannot run %s: %s (set CAIRN or CAIRN_URI)\n", cairn.c_str(),
               std::strerror(errno));
  std::exit(1);
}

// The raw side's client: a DEALER sending the very frames a cairn request has. A reply that does
// not come within RawEcho::kTimeoutMs throws.
class RawClient {
 public:
  RawClient(const std::string& uri, const std::string& payload) : sock_(ctx_, ZMQ_DEALER) {
    cairn::test::RawEcho::bound_waits(sock_.get());
    zmq_connect(sock_.get(), uri.c_str());
    frames_ = msg::encode(msg::Message::request("broker.ping", payload, 1));
  }
  void send() {
    if (!cairn::msg::send_frames(sock_.get(), frames_))
      throw std::runtime_error(std::string("raw echo: send failed: ") + zmq_strerror(zmq_errno()));
  }
  void recv() {
    if (cairn::msg::recv_frames(sock_.get(), reply_) != 1)
      throw std::runtime_error("raw echo: no reply within " +
                               std::to_string(cairn::test::RawEcho::kTimeoutMs / 1000) + " s");
  }

 private:
  ZmqContext ctx_;
  ZmqSocket sock_;
  msg::Frames frames_, reply_;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Round trip, µs per request, n sequential requests.
template <typename Send, typename Recv>
double round_trip_us(int n, Send send, Recv recv) {
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    send();
    recv();
  }
  return seconds_since(t0) * 1e6 / n;
}

// Throughput, requests/s, n requests with `window` in flight.
template <typename Send, typename Recv>
double throughput(int n, int window, Send send, Recv recv) {
  auto t0 = Clock::now();
  int sent = 0, done = 0;
  while (sent < std::min(window, n)) {
    send();
    ++sent;
  }
  while (done < n) {
    recv();
    ++done;
    if (sent < n) {
      send();
      ++sent;
    }
  }
  return n / seconds_since(t0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One figure measured on both sides, trial by trial.
class Series {
 public:
  template <typename Raw, typename Cairn>
  void pair(bool raw_first, Raw raw, Cairn cairn) {
    double r, c;
    if (raw_first) {
      r = raw();
      c = cairn();
    } else {
      c = cairn();
      r = raw();
    }
    raw_.push_back(r);
    cairn_.push_back(c);
    ratios_.push_back(c / r);
  }
  double raw_median() const { return median(raw_); }
  double cairn_median() const { return median(cairn_); }
  double ratio() const { return median(ratios_); }
  double ratio_min() const { return *std::min_element(ratios_.begin(), ratios_.end()); }
  double ratio_max() const { return *std::max_element(ratios_.begin(), ratios_.end()); }

 private:
  std::vector<double> raw_, cairn_, ratios_;
};

// broker.ping through libclient; any failure throws.
class CairnPing {
 public:
  CairnPing(Client& client, size_t payload_size) : client_(client), payload_(payload_size, 'p') {}
  void send() {
    if (client_.send("broker.ping", payload_) == 0)
      throw std::runtime_error("sending broker.ping failed");
  }
  void recv() { check(client_.recv()); }
  void rpc() { check(client_.rpc("broker.ping", payload_)); }

 private:
  void check(const cairn::client::Response& r) const {
    if (!r.ok())
      throw std::runtime_error("broker.ping failed: " + r.error_text() +
                               " (is the broker serving it?)");
    if (r.payload != payload_) throw std::runtime_error("broker.ping returned the wrong payload");
  }
  Client& client_;
  const std::string payload_;
};

// --drive: the pipelined requests alone, for a profiler watching one end (ping-instructions.sh).
int drive(const Options& o, Client* client, const std::string& uri) {
  if (client) {
    CairnPing ping(*client, o.payload_size);
    throughput(
        o.requests, o.inflight, [&] { ping.send(); }, [&] { ping.recv(); });
  } else {
    RawClient raw(uri, std::string(o.payload_size, 'p'));
    throughput(
        o.requests, o.inflight, [&] { raw.send(); }, [&] { raw.recv(); });
  }
  return 0;
}

// Everything after the broker connection; throws std::runtime_error on the first failure (a
// failed or wrong broker.ping, a lost echo), so that no loop goes on waiting after one.
int run(const Options& o, Client& client) {
  CairnPing ping(client, o.payload_size);
  auto cairn_send = [&] { ping.send(); };
  auto cairn_recv = [&] { ping.recv(); };
  auto cairn_rpc = [&] { ping.rpc(); };

  cairn::test::RawEcho echo;
  RawClient raw(echo.uri(), std::string(o.payload_size, 'p'));
  auto raw_send = [&] { raw.send(); };
  auto raw_recv = [&] { raw.recv(); };

  // Warm up both paths (connections, allocator, caches).
  round_trip_us(1000, raw_send, raw_recv);
  round_trip_us(1000, cairn_rpc, [] {});

  // Each trial measures both sides back to back, in alternating order, and yields one ratio:
  // this machine's speed drifts from second to second, and a pair sees the same drift.
  Series rtt, tput;
  for (int t = 0; t < o.trials; ++t) {
    bool raw_first = t % 2 == 0;
    if (o.round_trip) {
      rtt.pair(
          raw_first, [&] { return round_trip_us(o.requests, raw_send, raw_recv); },
          [&] { return round_trip_us(o.requests, cairn_rpc, [] {}); });
    }
    if (o.throughput) {
      tput.pair(
          raw_first, [&] { return throughput(o.requests, o.inflight, raw_send, raw_recv); },
          [&] { return throughput(o.requests, o.inflight, cairn_send, cairn_recv); });
    }
  }
  std::printf(
      "ping-bench: %d requests x %d trials, payload %zu bytes, %d in flight; figures are "
      "medians, the ratio is the median of the trials' ratios (their range in brackets)\n",
      o.requests, o.trials, o.payload_size, o.inflight);
  if (o.round_trip) {
    double r = rtt.ratio();
    std::printf(
        "round trip   raw zmq echo %8.1f us   cairn broker.ping %8.1f us   ratio %.3fx [%.2f-%.2f] "
        "(target <= 1.2x) %s\n",
        rtt.raw_median(), rtt.cairn_median(), r, rtt.ratio_min(), rtt.ratio_max(),
        r <= 1.2 ? "ok" : "MISSED");
  }
  if (o.throughput) {
    double r = tput.ratio();
    std::printf(
        "throughput   raw zmq echo %8.0f /s   cairn broker.ping %8.0f /s   ratio %.3fx [%.2f-%.2f] "
        "(target >= 0.8x) %s\n",
        tput.raw_median(), tput.cairn_median(), r, tput.ratio_min(), tput.ratio_max(),
        r >= 0.8 ? "ok" : "MISSED");
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  const char* uri = std::getenv("CAIRN_URI");
  if (!uri && !o.drive.empty()) {
    std::fprintf(stderr, "ping-bench: --drive sends to $CAIRN_URI, which is not set\n");
    return 2;
  }
  if (!uri) reexec_under_broker(argc, argv);

  std::optional<Client> client;
  if (o.drive != "raw") {
    auto connected = Client::connect();
    if (!connected) {
      std::fprintf(stderr, "ping-bench: %s\n", connected.error().text.c_str());
      return 1;
    }
    client = std::move(connected).value();
  }
  try {
    if (!o.drive.empty()) return drive(o, client ? &*client : nullptr, uri);
    return run(o, *client);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ping-bench: %s\n", e.what());
    return 1;
  }
}
