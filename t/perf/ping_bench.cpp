// ping-bench: what libclient + the broker cost over the raw transport. Measures, in one run,
//   - round trip: sequential broker.ping rpcs vs. a raw echo of the same request;
//   - throughput: requests/s with 64 (--inflight) requests in flight, each way.
// The broker serves local:// (a Unix stream socket its reactor reads itself), so the baseline
// is raw-echo on a plain Unix stream socket, in a child process as the broker is, driven by
// RawStreamClient with the same frames; a raw ZeroMQ DEALER/ROUTER echo on ipc:// (ZeroMQ's I/O
// threads on both sides) is measured beside it for comparison. Run without CAIRN_URI, it re-runs
// itself under `cairn start` (the cairn next to it in the build tree, or $CAIRN). Targets,
// against the unix echo: round trip <= 1.2x, throughput >= 0.8x.
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
#include "libmsg/batch.hpp"
#include "libmsg/message.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libmsg/zmq_io.hpp"
#include "libtest/raw_echo.hpp"
#include "libtest/raw_stream.hpp"

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
  // --drive raw|lib: only send the pipelined requests to $CAIRN_URI (raw: RawStreamClient for
  // local://PATH or unix:PATH, the raw ZeroMQ client for ipc://)
  std::string drive;
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

// A raw ZeroMQ client: a DEALER sending the very frames a cairn request has (one message each).
// A reply that does not come within RawEcho::kTimeoutMs throws.
class RawZmqClient {
 public:
  RawZmqClient(const std::string& uri, const std::string& payload) : sock_(ctx_, ZMQ_DEALER) {
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

// A raw stream client sending broker.ping requests to a unix: echo or to the broker's local://
// socket, corked as libclient corks them: the requests sent before it has to wait leave as one
// batch frame. A reply that does not come within RawEcho::kTimeoutMs throws.
class RawUnixClient {
 public:
  // `path`: the socket's path (the URI without local:// or unix:).
  RawUnixClient(const std::string& path, const std::string& payload)
      : client_(cairn::test::RawEcho::connect_unix_stream(path)) {
    msg::BatchWriter w;
    w.add(msg::Message::request("broker.ping", {}, 1), "broker.ping", payload);
    entry_ = cairn::test::RawStreamClient::entry_of(w.frame());
  }
  void send() { client_.queue(entry_); }
  void recv() { client_.recv_message(); }

 private:
  cairn::test::RawStreamClient client_;
  std::string entry_;
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

// `v` printed with the printf `format` of one double.
std::string fmt_figure(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// One figure measured for cairn and for each raw echo (unix, zmq), trial by trial; each trial
// measures the three back to back and yields one ratio per echo.
class Series {
 public:
  enum Side { kUnix, kZmq, kCairn, kSides };

  // Measures the three in an order that turns with the trial `t`, so that no side always runs
  // first (on a warm cache) or last.
  template <typename Unix, typename Zmq, typename Cairn>
  void trial(int t, Unix unix_echo, Zmq zmq_echo, Cairn cairn) {
    double v[kSides];
    for (int k = 0; k < kSides; ++k) {
      switch ((t + k) % kSides) {
        case kUnix:
          v[kUnix] = unix_echo();
          break;
        case kZmq:
          v[kZmq] = zmq_echo();
          break;
        default:
          v[kCairn] = cairn();
          break;
      }
    }
    for (int k = 0; k < kSides; ++k) figures_[k].push_back(v[k]);
    ratios_[kUnix].push_back(v[kCairn] / v[kUnix]);
    ratios_[kZmq].push_back(v[kCairn] / v[kZmq]);
  }
  double median_of(Side s) const { return median(figures_[s]); }
  // cairn's figure over the echo's: the median and range of the trials' ratios.
  double ratio(Side echo) const { return median(ratios_[echo]); }
  double ratio_min(Side echo) const {
    return *std::min_element(ratios_[echo].begin(), ratios_[echo].end());
  }
  double ratio_max(Side echo) const {
    return *std::max_element(ratios_[echo].begin(), ratios_[echo].end());
  }

 private:
  std::vector<double> figures_[kSides], ratios_[kZmq + 1];
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

// The socket path of a local://PATH or unix:PATH URI; empty for any other.
std::string stream_path(const std::string& uri) {
  for (const char* scheme : {"local://", "unix:"})
    if (uri.starts_with(scheme)) return uri.substr(std::strlen(scheme));
  return {};
}

// --drive: the pipelined requests alone, for a profiler watching one end (ping-instructions.sh).
int drive(const Options& o, Client* client, const std::string& uri) {
  if (client) {
    CairnPing ping(*client, o.payload_size);
    throughput(
        o.requests, o.inflight, [&] { ping.send(); }, [&] { ping.recv(); });
  } else if (std::string path = stream_path(uri); !path.empty()) {
    RawUnixClient raw(path, std::string(o.payload_size, 'p'));
    throughput(
        o.requests, o.inflight, [&] { raw.send(); }, [&] { raw.recv(); });
  } else {
    RawZmqClient raw(uri, std::string(o.payload_size, 'p'));
    throughput(
        o.requests, o.inflight, [&] { raw.send(); }, [&] { raw.recv(); });
  }
  return 0;
}

// Prints one figure's two lines: cairn against the unix echo (with the target), then against
// the zmq echo (for comparison). `unit` follows each figure; `better_low`: a lower figure is
// better (a round trip), so the target is a ceiling.
void print_series(const char* what, const Series& s, const char* format, const char* unit,
                  double target, bool better_low) {
  double r = s.ratio(Series::kUnix);
  bool ok = better_low ? r <= target : r >= target;
  std::string unix_fig = fmt_figure(format, s.median_of(Series::kUnix));
  std::string zmq_fig = fmt_figure(format, s.median_of(Series::kZmq));
  std::string cairn_fig = fmt_figure(format, s.median_of(Series::kCairn));
  std::printf(
      "%-12s raw unix echo %s %s   cairn broker.ping %s %s   ratio %.3fx [%.2f-%.2f] (target "
      "%s %.1fx) %s\n",
      what, unix_fig.c_str(), unit, cairn_fig.c_str(), unit, r, s.ratio_min(Series::kUnix),
      s.ratio_max(Series::kUnix), better_low ? "<=" : ">=", target, ok ? "ok" : "MISSED");
  std::printf(
      "%-12s raw zmq echo  %s %s   cairn broker.ping %s %s   ratio %.3fx [%.2f-%.2f] (ZeroMQ "
      "on ipc://, for comparison)\n",
      what, zmq_fig.c_str(), unit, cairn_fig.c_str(), unit, s.ratio(Series::kZmq),
      s.ratio_min(Series::kZmq), s.ratio_max(Series::kZmq));
}

// Everything after the broker connection; throws std::runtime_error on the first failure (a
// failed or wrong broker.ping, a lost echo), so that no loop goes on waiting after one.
int run(const Options& o, Client& client) {
  CairnPing ping(client, o.payload_size);
  auto cairn_send = [&] { ping.send(); };
  auto cairn_recv = [&] { ping.recv(); };
  auto cairn_rpc = [&] { ping.rpc(); };

  std::string payload(o.payload_size, 'p');
  cairn::test::RawEcho zmq_echo;
  RawZmqClient zmq_raw(zmq_echo.uri(), payload);
  auto zmq_send = [&] { zmq_raw.send(); };
  auto zmq_recv = [&] { zmq_raw.recv(); };
  cairn::test::RawEcho unix_echo(cairn::test::RawEcho::default_program(),
                                 cairn::test::RawEcho::Transport::unix_stream);
  RawUnixClient unix_raw(stream_path(unix_echo.uri()), payload);
  auto unix_send = [&] { unix_raw.send(); };
  auto unix_recv = [&] { unix_raw.recv(); };

  // Warm up every path (connections, allocator, caches).
  round_trip_us(1000, unix_send, unix_recv);
  round_trip_us(1000, zmq_send, zmq_recv);
  round_trip_us(1000, cairn_rpc, [] {});

  // Each trial measures all sides back to back and yields one ratio per echo: this machine's
  // speed drifts from second to second, and a trial sees the same drift.
  Series rtt, tput;
  for (int t = 0; t < o.trials; ++t) {
    if (o.round_trip) {
      rtt.trial(
          t, [&] { return round_trip_us(o.requests, unix_send, unix_recv); },
          [&] { return round_trip_us(o.requests, zmq_send, zmq_recv); },
          [&] { return round_trip_us(o.requests, cairn_rpc, [] {}); });
    }
    if (o.throughput) {
      tput.trial(
          t, [&] { return throughput(o.requests, o.inflight, unix_send, unix_recv); },
          [&] { return throughput(o.requests, o.inflight, zmq_send, zmq_recv); },
          [&] { return throughput(o.requests, o.inflight, cairn_send, cairn_recv); });
    }
  }
  std::printf(
      "ping-bench: broker on %s; %d requests x %d trials, payload %zu bytes, %d in flight; "
      "figures are medians, each ratio the median of the trials' ratios (their range in "
      "brackets)\n",
      client.uri().c_str(), o.requests, o.trials, o.payload_size, o.inflight);
  if (o.round_trip) print_series("round trip", rtt, "%8.1f", "us", 1.2, true);
  if (o.throughput) print_series("throughput", tput, "%8.0f", "/s", 0.8, false);
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
