// content-bench: throughput and latency of the content cache through a real broker, against
// baselines measured in the same run (doc/architecture.md, Tests and benchmarks):
//   - raw ZeroMQ DEALER/ROUTER echo of the same payload at the same depth, the ROUTER in a child
//     process as the broker is;
//   - the same store requests in batches of the depth (libmsg's format), each sent and echoed
//     whole before the next, through raw-echo's ROUTER and through a plain Unix stream socket
//     (the framing of local://): what the transport alone costs a batch, with ZeroMQ's I/O
//     threads and without;
//   - the same requests one per frame through the stream echo, `depth` in flight: the baseline
//     of the broker with libclient's batch limit at 1 (unbatched);
//   - redis-server + redis-benchmark SET/GET at the same size and pipeline depth over tcp
//     loopback, if installed, and SET against a second redis-server with appendonly yes,
//     appendfsync everysec (the baseline of stores with SQLite write-back: both acknowledge
//     from memory and are on disk within about a second); the CPU time per request of
//     redis-server (/proc) and of redis-benchmark (wait4);
//   - memory per cache entry beyond the blob (the Cache class alone, mallinfo2);
//   - the broker over local:// (its default), with telemetry off and on, memory only, unbatched,
//     and over tcp:// (ZeroMQ with CURVE); for each broker run, the CPU time per request of the
//     broker and of the client process.
// The broker runs are `cairn start` processes whose initial program is this binary in --client
// mode; it prints one JSON line of results that the parent reads.
#include <fcntl.h>
#include <fmt/format.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "content_bench_backing.hpp"
#include "libclient/client.hpp"
#include "libmsg/batch.hpp"
#include "libmsg/message.hpp"
#include "libmsg/zmq_handle.hpp"
#include "libmsg/zmq_io.hpp"
#include "libtest/loopback.hpp"
#include "libtest/raw_echo.hpp"
#include "libtest/raw_stream.hpp"
#include "libtest/temp_dir.hpp"
#include "libutil/fd.hpp"
#include "modules/content/cache.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Params {
  size_t count = 200000;
  size_t size = 1024;
  size_t depth = 16;
  size_t clients = 1;      // client threads, each with its own connection
  size_t batch_limit = 0;  // --client: requests per batch (0: libclient's default)
  size_t memory_entries = 1000000;
  std::string cairn;  // path of the cairn command
  bool client_mode = false;
  bool skip_redis = false;
  size_t redis_requests = 0;  // per redis-benchmark test (0: redis_requests()'s default)
  int repeat = 5;             // runs of each phase; the median run and the range are reported
};

struct Result {
  double ops = 0;  // per second
  double p50_us = 0;
  double p99_us = 0;
  // Broker and redis runs: CPU time (user + system, all threads) per request of the server
  // process (the broker, redis-server) and of the client process (this one, redis-benchmark);
  // NaN where unknown. A cost per request that the machine's other load disturbs less than the
  // rate.
  double broker_cpu_us = std::nan("");
  double client_cpu_us = std::nan("");
  const char* server_name = "broker";
  const char* client_name = "client";
  // Server and client CPU per request, NaN where unknown.
  double cpu_us() const { return broker_cpu_us + client_cpu_us; }
};

Result summarize(size_t n, double seconds, std::vector<double>& lat_us) {
  Result r;
  r.ops = n / seconds;
  if (!lat_us.empty()) {
    std::sort(lat_us.begin(), lat_us.end());
    r.p50_us = lat_us[lat_us.size() / 2];
    r.p99_us = lat_us[std::min(lat_us.size() - 1, lat_us.size() * 99 / 100)];
  }
  return r;
}

std::string blob(size_t i, size_t size) {
  std::string s(size, 'x');
  std::string tag = fmt::format("{:016x}", i);
  std::memcpy(s.data(), tag.data(), std::min(size, tag.size()));
  return s;
}

void progress(const std::string& text) { std::cerr << "content-bench: " << text << std::endl; }

std::string fmt_result(const Result& r) {
  std::string text =
      fmt::format("{:>10.0f} ops/s  p50 {:>7.1f} us  p99 {:>7.1f} us", r.ops, r.p50_us, r.p99_us);
  if (!std::isnan(r.broker_cpu_us))
    text += fmt::format("  cpu/request {} {:.1f} us, {} {:.1f} us", r.server_name, r.broker_cpu_us,
                        r.client_name, r.client_cpu_us);
  return text;
}

// Every run of one measurement, in the order made.
struct Runs {
  std::vector<Result> all;
  void add(const Result& r) { all.push_back(r); }
  bool empty() const { return all.empty(); }
  // The run whose rate is the median (the lower middle one for an even count).
  Result median_run() const {
    std::vector<Result> v = all;
    std::sort(v.begin(), v.end(), [](const Result& a, const Result& b) { return a.ops < b.ops; });
    return v.empty() ? Result{} : v[(v.size() - 1) / 2];
  }
  std::string text() const {
    if (all.empty()) return "no run";
    auto [lo, hi] = std::minmax_element(
        all.begin(), all.end(), [](const Result& a, const Result& b) { return a.ops < b.ops; });
    return fmt::format("{} [{:.0f}-{:.0f}]", fmt_result(median_run()), lo->ops, hi->ops);
  }
};

// A store phase and a load phase, run by run.
struct RunPair {
  Runs store, load;
  void add(const std::optional<std::pair<Result, Result>>& r) {
    if (!r) return;
    store.add(r->first);
    load.add(r->second);
  }
  bool empty() const { return store.empty(); }
};

// The median [range] of a's rate over b's, run i against run i.
std::string ratio(const Runs& a, const Runs& b, const char* f = "{:.2f}") {
  std::vector<double> r;
  for (size_t i = 0; i < std::min(a.all.size(), b.all.size()); i++)
    r.push_back(a.all[i].ops / b.all[i].ops);
  if (r.empty()) return "n/a";
  auto [lo, hi] = std::minmax_element(r.begin(), r.end());
  return fmt::format(fmt::runtime(f), cairn::bench::median(r)) + " [" +
         fmt::format(fmt::runtime(f), *lo) + "-" + fmt::format(fmt::runtime(f), *hi) + "]";
}

// The median [range] of the runs' CPU per request (server + client), in µs; "n/a" if unknown.
std::string cpu_text(const Runs& a) {
  std::vector<double> v;
  for (const auto& r : a.all)
    if (!std::isnan(r.cpu_us())) v.push_back(r.cpu_us());
  if (v.empty()) return "n/a";
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt::format("{:.1f} us [{:.1f}-{:.1f}]", cairn::bench::median(v), *lo, *hi);
}

// The median [range] of a's CPU per request over b's (server + client each), run i against
// run i.
std::string cpu_ratio(const Runs& a, const Runs& b) {
  std::vector<double> r;
  for (size_t i = 0; i < std::min(a.all.size(), b.all.size()); i++)
    if (!std::isnan(a.all[i].cpu_us()) && !std::isnan(b.all[i].cpu_us()))
      r.push_back(a.all[i].cpu_us() / b.all[i].cpu_us());
  if (r.empty()) return "n/a";
  auto [lo, hi] = std::minmax_element(r.begin(), r.end());
  return fmt::format("{:.2f} [{:.2f}-{:.2f}]", cairn::bench::median(r), *lo, *hi);
}

// CPU seconds (user + system, all threads) that process `pid` has used so far, from
// /proc/PID/stat; NaN if /proc does not say.
double proc_cpu_seconds(pid_t pid) {
  std::ifstream f(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // proc_pid_stat(5): utime and stime are fields 14 and 15, counted from the pid; the command
  // name (field 2) may hold spaces, so count from the ')' that closes it (field 3 follows).
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nan("");
  std::istringstream in(stat.substr(close + 1));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; i++) {
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) stime = std::atof(field.c_str());
  }
  if (!in) return std::nan("");
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double seconds_of(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// ---- the broker, through libclient ---------------------------------------------------------

// CPU seconds (user + system, all threads) used so far by the broker, which runs this --client
// process as its initial program (so is its parent), and by this process. The broker's is NaN
// if /proc does not say.
struct CpuSeconds {
  double broker = std::nan("");
  double client = 0;
};

CpuSeconds cpu_now() {
  CpuSeconds c;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  c.client = seconds_of(ru.ru_utime) + seconds_of(ru.ru_stime);
  c.broker = proc_cpu_seconds(getppid());
  return c;
}

// Sets r's CPU time per request from the readings before and after `n` requests.
void set_cpu_per_request(Result& r, const CpuSeconds& before, const CpuSeconds& after, size_t n) {
  r.broker_cpu_us = (after.broker - before.broker) * 1e6 / static_cast<double>(n);
  r.client_cpu_us = (after.client - before.client) * 1e6 / static_cast<double>(n);
}

// A live progress line on stderr when it is a terminal: done/total and the rate so far,
// redrawn at most every 200 ms and cleared at the end of the phase.
class ProgressLine {
 public:
  ProgressLine(std::string what, size_t total)
      : what_(std::move(what)),
        total_(total),
        tty_(isatty(STDERR_FILENO) == 1),
        start_(Clock::now()),
        last_(start_) {}
  ~ProgressLine() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
  }
  void update(size_t done) {
    if (!tty_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(200) && done != total_) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\rcontent-bench: %s %zu/%zu (%3.0f%%) %8.0f ops/s\033[K", what_.c_str(),
                 done, total_, 100.0 * static_cast<double>(done) / static_cast<double>(total_),
                 secs > 0 ? static_cast<double>(done) / secs : 0.0);
    drawn_ = true;
  }

 private:
  std::string what_;
  size_t total_;
  bool tty_;
  bool drawn_ = false;
  Clock::time_point start_, last_;
};

// Sends `payloads` with `depth` requests in flight; each reply must be a success. Replies are
// kept in `replies`, or, with `expected` (one per payload), checked against it on arrival and
// dropped: keeping 200 MB of loaded blobs would time the client's page faults, not the broker
// (redis-benchmark keeps no replies either).
std::optional<Result> pipelined(cairn::client::Client& c, const std::string& topic,
                                const std::vector<std::string>& payloads, size_t depth,
                                std::vector<std::string>* replies,
                                const std::string* expected = nullptr) {
  ProgressLine progress_line(topic, payloads.size());
  std::unordered_map<uint32_t, std::pair<size_t, Clock::time_point>> in_flight;
  std::vector<double> lat;
  lat.reserve(payloads.size());
  if (replies) replies->resize(payloads.size());
  size_t sent = 0, done = 0;
  auto start = Clock::now();
  while (done < payloads.size()) {
    while (sent < payloads.size() && in_flight.size() < depth) {
      uint32_t tag = c.send(topic, payloads[sent]);
      if (tag == 0) return std::nullopt;
      in_flight[tag] = {sent++, Clock::now()};
    }
    cairn::client::Response r = c.recv();
    auto it = in_flight.find(r.matchtag);
    if (it == in_flight.end() || !r.ok()) {
      std::cerr << "content-bench: " << topic << ": " << r.error_text() << std::endl;
      return std::nullopt;
    }
    lat.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - it->second.second).count());
    if (replies) (*replies)[it->second.first] = std::move(r.payload);
    if (expected && r.payload != expected[it->second.first]) {
      std::cerr << "content-bench: " << topic << ": blob " << it->second.first
                << " differs from the one stored" << std::endl;
      return std::nullopt;
    }
    in_flight.erase(it);
    done++;
    if (done % 256 == 0 || done == payloads.size()) progress_line.update(done);
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return summarize(payloads.size(), secs, lat);
}

// One client thread's share of a phase: blobs [first, first + n).
struct Share {
  size_t first = 0, n = 0;
  std::optional<Result> result;
  std::vector<std::string> replies;
};

// Runs `phase(client, share)` on p.clients threads, each with its own connection, and returns
// the combined rate over the wall time of the slowest (latencies: the first thread's).
std::optional<Result> in_parallel(
    std::vector<cairn::client::Client>& clients, std::vector<Share>& shares,
    const std::function<std::optional<Result>(cairn::client::Client&, Share&)>& phase) {
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (size_t i = 1; i < clients.size(); i++)
    threads.emplace_back([&, i] { shares[i].result = phase(clients[i], shares[i]); });
  shares[0].result = phase(clients[0], shares[0]);
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  size_t total = 0;
  for (auto& s : shares) {
    if (!s.result) return std::nullopt;
    total += s.n;
  }
  Result r = *shares[0].result;
  r.ops = static_cast<double>(total) / secs;
  return r;
}

int client_main(const Params& p) {
  std::vector<cairn::client::Client> clients;
  for (size_t i = 0; i < std::max<size_t>(1, p.clients); i++) {
    auto c = cairn::client::Client::connect();
    if (!c) {
      std::cerr << "content-bench: " << c.error().text << std::endl;
      return 1;
    }
    if (p.batch_limit > 0) c->set_batch_limit(p.batch_limit);
    clients.push_back(std::move(c).value());
  }
  std::vector<std::string> blobs;
  for (size_t i = 0; i < p.count; i++) blobs.push_back(blob(i, p.size));
  std::vector<Share> shares(clients.size());
  for (size_t i = 0; i < shares.size(); i++) {
    shares[i].first = p.count * i / shares.size();
    shares[i].n = p.count * (i + 1) / shares.size() - shares[i].first;
  }
  auto slice = [](const std::vector<std::string>& v, const Share& s) {
    return std::vector<std::string>(v.begin() + static_cast<std::ptrdiff_t>(s.first),
                                    v.begin() + static_cast<std::ptrdiff_t>(s.first + s.n));
  };
  // Each share's requests are cut out before the clock starts.
  std::vector<std::vector<std::string>> work(shares.size());
  for (size_t i = 0; i < shares.size(); i++) work[i] = slice(blobs, shares[i]);
  CpuSeconds before = cpu_now();
  auto st = in_parallel(clients, shares, [&](cairn::client::Client& c, Share& s) {
    return pipelined(c, "content.store", work[&s - shares.data()], p.depth, &s.replies);
  });
  if (!st) return 1;
  set_cpu_per_request(*st, before, cpu_now(), p.count);
  std::vector<std::string> refs;
  for (auto& s : shares) refs.insert(refs.end(), s.replies.begin(), s.replies.end());
  // Let the write-back finish outside the timed load phase.
  // (content.backing=none has nothing to flush: ENOSYS.)
  if (auto f = clients[0].rpc("content.flush"); !f.ok() && f.errnum != ENOSYS) {
    std::cerr << "content-bench: content.flush: " << f.error_text() << std::endl;
    return 1;
  }
  for (size_t i = 0; i < shares.size(); i++) work[i] = slice(refs, shares[i]);
  before = cpu_now();
  auto ld = in_parallel(clients, shares, [&](cairn::client::Client& c, Share& s) {
    return pipelined(c, "content.load", work[&s - shares.data()], p.depth, nullptr,
                     blobs.data() + s.first);
  });
  if (!ld) return 1;
  set_cpu_per_request(*ld, before, cpu_now(), p.count);
  // NaN (an unreadable /proc) is written as null.
  nlohmann::json j = {
      {"store", {st->ops, st->p50_us, st->p99_us, st->broker_cpu_us, st->client_cpu_us}},
      {"load", {ld->ops, ld->p50_us, ld->p99_us, ld->broker_cpu_us, ld->client_cpu_us}}};
  std::cout << j.dump() << std::endl;
  return 0;
}

// The keys of a broker on tcp:// (CURVE): a server and a client certificate made by `cairn
// keygen` in a private directory, and a config that names the server's and allows the client's
// (as t/t2101-curve.t does). The directory goes with the object.
class CurveKeys {
 public:
  // Throws std::runtime_error if `cairn keygen` fails.
  explicit CurveKeys(const std::string& cairn) : dir_("content-bench-curve") {
    for (const char* who : {"server", "client"}) {
      std::string cmd =
          fmt::format("'{}' keygen '{}' >'{}'", cairn, dir_.file(fmt::format("{}.cert", who)),
                      dir_.file(fmt::format("{}.key", who)));
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error(fmt::format("`{}` failed", cmd));
    }
    std::ifstream key(dir_.file("client.key"));
    std::string client_key;
    std::getline(key, client_key);
    config_ = dir_.write("curve.toml", fmt::format("[security]\ncurve-cert = \"{}\"\n"
                                                   "allowed-clients = [ \"{}\" ]\n",
                                                   dir_.file("server.cert_secret"), client_key));
    client_cert_ = dir_.file("client.cert_secret");
  }
  // cairn start's --config.
  const std::string& config() const { return config_; }
  // The client's $CAIRN_CLIENT_CERT.
  const std::string& client_cert() const { return client_cert_; }

 private:
  cairn::test::TempDir dir_;
  std::string config_, client_cert_;
};

// One broker run's set-up.
struct BrokerSetup {
  std::vector<std::string> opts;   // -o KEY=VALUE
  size_t batch_limit = 0;          // libclient's batch limit (1: every request its own frame)
  const CurveKeys* tcp = nullptr;  // set: listen on tcp://127.0.0.1:* with CURVE, not local://
};

// Runs `cairn start ... SELF --client ...` and parses its JSON line. `name` tells the run's
// state directory from the others'.
std::optional<std::pair<Result, Result>> run_broker(const Params& p, const char* self,
                                                    const BrokerSetup& setup, const char* name) {
  std::string statedir =
      (std::filesystem::temp_directory_path() / fmt::format("content-bench-{}-{}", getpid(), name))
          .string();
  std::filesystem::remove_all(statedir);
  std::filesystem::create_directories(statedir);
  std::string cmd;
  if (setup.tcp) cmd = fmt::format("CAIRN_CLIENT_CERT='{}' ", setup.tcp->client_cert());
  cmd += fmt::format("'{}' start --statedir '{}'", p.cairn, statedir);
  if (setup.tcp)
    cmd += fmt::format(" --config '{}' --listen 'tcp://127.0.0.1:*'", setup.tcp->config());
  for (auto& o : setup.opts) cmd += " -o '" + o + "'";
  cmd += fmt::format(" '{}' --client --count {} --size {} --depth {} --clients {} --batch-limit {}",
                     self, p.count, p.size, p.depth, p.clients, setup.batch_limit);
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return std::nullopt;
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  int status = pclose(f);
  std::filesystem::remove_all(statedir);
  if (status != 0) {
    std::cerr << "content-bench: `" << cmd << "` failed (status " << status << ")" << std::endl;
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  auto get = [&](const char* k) {
    Result r{j[k][0].get<double>(), j[k][1].get<double>(), j[k][2].get<double>()};
    if (j[k].size() == 5 && j[k][3].is_number()) {
      r.broker_cpu_us = j[k][3].get<double>();
      r.client_cpu_us = j[k][4].get<double>();
    }
    return r;
  };
  return std::make_pair(get("store"), get("load"));
}

// ---- raw ZeroMQ echo -------------------------------------------------------------------------

Result zmq_echo(const Params& p) {
  cairn::test::RawEcho server;  // a child process, like the broker
  cairn::msg::ZmqContext ctx;
  cairn::msg::ZmqSocket sock(ctx, ZMQ_DEALER);
  void* dealer = sock.get();
  cairn::test::RawEcho::bound_waits(dealer);
  zmq_connect(dealer, server.uri().c_str());
  // The same three frames a cairn request has: 16-byte header, topic, payload.
  std::string header(16, '\0');
  std::string topic = "content.store";
  std::vector<std::string> blobs;
  for (size_t i = 0; i < p.count; i++) blobs.push_back(blob(i, p.size));
  std::vector<Clock::time_point> sent_at(p.count);
  std::vector<double> lat;
  lat.reserve(p.count);
  cairn::msg::Frames frames;
  size_t sent = 0, done = 0;
  auto start = Clock::now();
  while (done < p.count) {
    while (sent < p.count && sent - done < p.depth) {
      uint32_t tag = static_cast<uint32_t>(sent);
      std::memcpy(header.data() + 4, &tag, 4);
      zmq_send(dealer, header.data(), header.size(), ZMQ_SNDMORE);
      zmq_send(dealer, topic.data(), topic.size(), ZMQ_SNDMORE);
      // Copy the payload into the message, as a client building a request does.
      zmq_msg_t m;
      zmq_msg_init_size(&m, blobs[sent].size());
      std::memcpy(zmq_msg_data(&m), blobs[sent].data(), blobs[sent].size());
      zmq_msg_send(&m, dealer, 0);
      sent_at[sent++] = Clock::now();
    }
    if (cairn::msg::recv_frames(dealer, frames) != 1)
      throw std::runtime_error(fmt::format("raw echo: no reply within {} s: {}",
                                           cairn::test::RawEcho::kTimeoutMs / 1000,
                                           zmq_strerror(zmq_errno())));
    uint32_t tag;
    std::memcpy(&tag, frames[0].data() + 4, 4);
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent_at[tag]).count());
    done++;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return summarize(p.count, secs, lat);
}

// ---- the same batches, echoed: what the transport alone costs ---------------------------------

// The frames of p.count store requests, `per_frame` to a batch (libmsg's batch format, as
// libclient sends them: a pipelining caller's batch holds the depth, and with a batch limit of 1
// each frame holds one request).
std::vector<std::string> store_frames(const Params& p, size_t per_frame) {
  std::vector<std::string> frames;
  cairn::msg::BatchWriter w;
  for (size_t i = 0; i < p.count; i++) {
    auto m = cairn::msg::Message::request("content.store", {}, static_cast<uint32_t>(i));
    w.add(m, m.topic, blob(i, p.size));
    if (w.count() == per_frame || i + 1 == p.count) {
      frames.push_back(w.frame());
      w.clear();
    }
  }
  return frames;
}

// Sends each batch and waits for it to come back before the next: a pipelining client at depth
// p.depth whose batch is answered whole. `round_trip` moves one batch there and back, throwing
// std::runtime_error if it cannot. Each request's latency is its batch's round trip.
Result batch_echo(const Params& p, const std::function<void(const std::string&)>& round_trip) {
  std::vector<std::string> batches = store_frames(p, p.depth);
  std::vector<double> lat;
  lat.reserve(p.count);
  auto start = Clock::now();
  for (const auto& b : batches) {
    auto t = Clock::now();
    round_trip(b);
    double us = std::chrono::duration<double, std::micro>(Clock::now() - t).count();
    lat.insert(lat.end(), std::min(p.depth, p.count - lat.size()), us);
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return summarize(p.count, secs, lat);
}

// Through raw-echo's ROUTER: one ZeroMQ message per batch, as between libclient and the broker.
Result zmq_batch_echo(const Params& p) {
  cairn::test::RawEcho server;
  cairn::msg::ZmqContext ctx;
  cairn::msg::ZmqSocket sock(ctx, ZMQ_DEALER);
  void* dealer = sock.get();
  cairn::test::RawEcho::bound_waits(dealer);
  zmq_connect(dealer, server.uri().c_str());
  std::string back;
  return batch_echo(p, [&](const std::string& b) {
    back.resize(b.size() + 1);  // room to see a reply longer than the batch
    int n = zmq_send(dealer, b.data(), b.size(), 0) < 0
                ? -1
                : zmq_recv(dealer, back.data(), back.size(), 0);
    if (n < 0 || static_cast<size_t>(n) != b.size())
      throw std::runtime_error(
          fmt::format("raw echo: a batch of {} bytes did not come back whole: {}", b.size(),
                      n < 0 ? zmq_strerror(zmq_errno()) : fmt::format("{} bytes came back", n)));
  });
}

// A connection to a new stream echo (raw-echo unix:PATH), which lives as long as the client.
struct StreamEcho {
  cairn::test::RawEcho server{cairn::test::RawEcho::default_program(),
                              cairn::test::RawEcho::Transport::unix_stream};
  cairn::test::RawStreamClient client{server.connect_stream()};
};

// Through raw-echo's plain Unix stream socket, framed as local:// frames are: the same bytes with
// no I/O thread on either side.
Result stream_batch_echo(const Params& p) {
  StreamEcho echo;
  return batch_echo(p, [&](const std::string& b) {
    echo.client.send(b);
    if (echo.client.recv_frame().size() != b.size())
      throw std::runtime_error("raw stream echo: a batch did not come back whole");
  });
}

// Through the same stream echo, one request per frame, p.depth in flight: each request written
// as soon as there is room, as libclient with a batch limit of 1 does; replies are read as they
// come (several frames per read when they have piled up).
Result stream_single_echo(const Params& p) {
  std::vector<std::string> frames = store_frames(p, 1);
  StreamEcho echo;
  std::vector<Clock::time_point> sent_at(p.count);
  std::vector<double> lat;
  lat.reserve(p.count);
  size_t sent = 0, done = 0;
  auto start = Clock::now();
  while (done < p.count) {
    while (sent < p.count && sent - done < p.depth) {
      echo.client.send(frames[sent]);
      sent_at[sent++] = Clock::now();
    }
    echo.client.recv_message();  // the echo keeps the order: this is request `done`
    lat.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - sent_at[done++]).count());
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return summarize(p.count, secs, lat);
}

// ---- redis ------------------------------------------------------------------------------------

int free_port() { return cairn::test::free_loopback_port(SOCK_STREAM); }

// SETs go to random keys of a million (-r), so that they are new keys mostly, as a cairn
// store's blobs are; GETs ask for keys redis_fill() stored.
constexpr size_t kRedisSetKeys = 1000000;

bool installed(const char* prog) {
  return std::system(fmt::format("command -v {} >/dev/null 2>&1", prog).c_str()) == 0;
}

// Requests per redis-benchmark test: --redis-requests, else at least 200,000 and --count, so
// that the run lasts long enough to measure (keys are random, -r 1000000: not the overwriting
// of one key).
size_t redis_requests(const Params& p) {
  return p.redis_requests > 0 ? p.redis_requests : std::max<size_t>(p.count, 200000);
}

// A redis-server of the bench's own on a free loopback port, in a private directory: with no
// persistence, or (`aof`) with appendonly yes and appendfsync everysec. up() is false when it
// could not start (said on stderr). The destructor stops it and removes the directory.
class RedisServer {
 public:
  RedisServer(bool aof) : dir_("content-bench-redis"), port_(free_port()) {
    // Spawned, not forked: nothing runs in a child between fork and exec.
    std::string ps = std::to_string(port_);
    const char* args[] = {"redis-server",      "--port",        ps.c_str(), "--bind",
                          "127.0.0.1",         "--save",        "",         "--appendonly",
                          aof ? "yes" : "no",  "--appendfsync", "everysec", "--dir",
                          dir_.path().c_str(), nullptr};
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid_, "redis-server", &quiet, nullptr, const_cast<char* const*>(args),
                          environ);
    posix_spawn_file_actions_destroy(&quiet);
    if (rc != 0) {
      pid_ = -1;
      std::fprintf(stderr, "content-bench: cannot run redis-server: %s (skipping redis)\n",
                   std::strerror(rc));
      return;
    }
    bool exited = false;
    for (int i = 0; i < 200 && !up_ && !exited; i++) {  // up to 10 s, or until it has exited
      up_ = std::system(cli("ping >/dev/null 2>&1").c_str()) == 0;
      if (!up_) {
        exited = waitpid(pid_, nullptr, WNOHANG) == pid_;
        usleep(50000);
      }
    }
    if (exited) pid_ = -1;
    if (!up_)
      std::fprintf(stderr, "content-bench: redis-server on port %d %s (skipping redis)\n", port_,
                   exited ? "exited at start-up" : "did not answer within 10 s");
  }
  ~RedisServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool up() const { return up_; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // A redis-cli command line that sends `args` to this server.
  std::string cli(const std::string& args) const {
    return fmt::format("redis-cli -p {} {}", port_, args);
  }

 private:
  cairn::test::TempDir dir_;
  int port_;
  pid_t pid_ = -1;
  bool up_ = false;
};

// Runs redis-benchmark's `test` (set or get) against `server` at the bench's size, depth and
// clients, on random keys of `keyspace` (-r), as a child whose CPU time wait4 reports; the
// server's CPU time comes from /proc before and after. nullopt when it fails or prints no figure.
std::optional<Result> redis_benchmark(const Params& p, const RedisServer& server, const char* test,
                                      size_t keyspace) {
  std::string port = std::to_string(server.port()), clients = std::to_string(p.clients),
              depth = std::to_string(p.depth), size = std::to_string(p.size),
              n = std::to_string(redis_requests(p)), keys = std::to_string(keyspace);
  const char* args[] = {"redis-benchmark", "-p", port.c_str(), "-c",    clients.c_str(), "-P",
                        depth.c_str(),     "-d", size.c_str(), "-r",    keys.c_str(),    "-n",
                        n.c_str(),         "-t", test,         "--csv", nullptr};
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  double server_before = proc_cpu_seconds(server.pid());
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "redis-benchmark", &actions, nullptr, const_cast<char* const*>(args),
                        environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string text;
  if (rc == 0) {
    char buf[4096];
    for (ssize_t r; (r = read(out[0], buf, sizeof buf)) != 0;) {
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) break;
      text.append(buf, static_cast<size_t>(r));
    }
  }
  close(out[0]);
  if (rc != 0) return std::nullopt;
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  double server_after = proc_cpu_seconds(server.pid());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  // CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95..","p99..","max.."
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> f;
    std::string cell;
    for (char ch : line) {
      if (ch == ',') {
        f.push_back(cell);
        cell.clear();
      } else if (ch != '"') {
        cell += ch;
      }
    }
    f.push_back(cell);
    if (f.size() < 7 || f[0] == "test") continue;
    Result r{std::atof(f[1].c_str()), std::atof(f[4].c_str()) * 1000,
             std::atof(f[6].c_str()) * 1000};
    double requests = static_cast<double>(redis_requests(p));
    r.broker_cpu_us = (server_after - server_before) * 1e6 / requests;
    r.client_cpu_us = (seconds_of(ru.ru_utime) + seconds_of(ru.ru_stime)) * 1e6 / requests;
    r.server_name = "redis-server";
    r.client_name = "redis-benchmark";
    if (r.ops > 0) return r;
  }
  return std::nullopt;
}

// Stores p.count values of p.size bytes under the keys redis-benchmark's GETs ask for with -r
// p.count ("key:" and 12 digits, 0 to p.count - 1), through `redis-cli --pipe`, untimed: so every
// GET finds its key and returns a value as large as a cairn load's blob. Without it, GETs of
// random keys from the SET run's million would mostly miss (about 18% hits at 200,000 SETs) and
// answer with a cheap nil, which flatters redis. False if redis-cli failed.
bool redis_fill(const Params& p, const RedisServer& server) {
  FILE* f = popen(server.cli("--pipe >/dev/null 2>&1").c_str(), "w");
  if (!f) return false;
  std::string value(p.size, 'x');
  std::string cmd;
  for (size_t i = 0; i < p.count; i++) {
    std::string key = fmt::format("key:{:012}", i);
    cmd = fmt::format("*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n${}\r\n", key.size(), key, value.size());
    cmd += value;
    cmd += "\r\n";
    if (fwrite(cmd.data(), 1, cmd.size(), f) != cmd.size()) break;
  }
  return pclose(f) == 0;
}

// The share of GETs that found their key, from the server's INFO stats; NaN if unknown.
double redis_hit_rate(const RedisServer& server) {
  std::string text;
  if (FILE* f = popen(server.cli("info stats").c_str(), "r")) {
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, f)) text.append(buf, n);
    pclose(f);
  }
  auto field = [&](const char* name) {
    size_t at = text.find(name);
    return at == std::string::npos ? std::nan("") : std::atof(text.c_str() + at + strlen(name));
  };
  double hits = field("keyspace_hits:"), misses = field("keyspace_misses:");
  return hits / (hits + misses);
}

// One run of the redis baselines: SET and GET without persistence, and SET with AOF everysec.
struct RedisRun {
  std::optional<Result> set, get, set_aof;
  double get_hit_rate = std::nan("");
};

RedisRun redis(const Params& p) {
  RedisRun run;
  if (!installed("redis-server") || !installed("redis-benchmark")) return run;
  {
    RedisServer server(false);
    if (!server.up()) return run;
    run.set = redis_benchmark(p, server, "set", kRedisSetKeys);
    if (redis_fill(p, server)) {
      run.get = redis_benchmark(p, server, "get", p.count);
      run.get_hit_rate = redis_hit_rate(server);
    }
  }
  RedisServer aof(true);
  if (aof.up()) run.set_aof = redis_benchmark(p, aof, "set", kRedisSetKeys);
  return run;
}

// ---- memory per entry -------------------------------------------------------------------------

size_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

double memory_per_entry(size_t n, size_t blob_size) {
  std::vector<std::string> unused;
  size_t before = heap_in_use();
  {
    cairn::content::Cache cache({}, nullptr, [] { return 0.0; });
    std::string data(blob_size, 'm');
    for (size_t i = 0; i < n; i++) {
      std::string tag = fmt::format("{:016x}", i);
      std::memcpy(data.data(), tag.data(), std::min(blob_size, tag.size()));
      if (!cache.store(data)) return -1;
    }
    // The heap, and the memory the blobs' arena has mapped beside it.
    size_t after = heap_in_use() + cache.stats().arena_bytes;
    if (cache.stats().count != n) return -1;
    return (static_cast<double>(after - before) - static_cast<double>(n * blob_size)) / n;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Params p;
  CLI::App app{"content-bench: the content cache against ZeroMQ echo and redis"};
  app.add_option("--count", p.count, "blobs per phase");
  app.add_option("--size", p.size, "bytes per blob");
  app.add_option("--depth", p.depth, "requests in flight, per client");
  app.add_option("--clients", p.clients, "client connections, each on its own thread")
      ->check(CLI::Range(1, 64));
  app.add_option("--batch-limit", p.batch_limit, "internal: libclient's batch limit in --client");
  app.add_option("--memory-entries", p.memory_entries, "entries for the memory measurement");
  app.add_option("--cairn", p.cairn, "path of the cairn command (default: ../../src/cmd/cairn)");
  app.add_flag("--client", p.client_mode, "internal: run the workload against $CAIRN_URI");
  app.add_flag("--skip-redis", p.skip_redis, "do not run the redis baseline");
  app.add_option("--redis-requests", p.redis_requests,
                 "requests per redis-benchmark test (default: --count, at least 200000)");
  app.add_option("--repeat", p.repeat,
                 "runs of each phase; each figure is the median run and the range")
      ->check(CLI::PositiveNumber);
  cairn::bench::BackingBench backing;  // --backing and its options: content_bench_backing.cpp
  cairn::bench::add_backing_options(app, backing);
  CLI11_PARSE(app, argc, argv);
  cairn::bench::Workload workload{p.count, p.size, p.depth, p.repeat};
  if (backing.client) return cairn::bench::backing_client_main(backing, workload);
  if (p.client_mode) return client_main(p);

  std::string self = std::filesystem::canonical("/proc/self/exe").string();
  if (p.cairn.empty())
    p.cairn = (std::filesystem::path(self).parent_path() / "../../src/cmd/cairn").string();
  if (!backing.backing.empty()) {
    if (app.count("--count") == 0) workload.count = 1000;
    return cairn::bench::backing_bench_main(backing, workload, p.cairn, self);
  }

  std::cout << fmt::format(
      "content-bench: {} blobs of {} bytes, {} in flight per client, {} "
      "client(s); redis: -c {} -P {} -n {}, SET -r {}, GET -r {} of keys stored before\n",
      p.count, p.size, p.depth, p.clients, p.clients, p.depth, redis_requests(p), kRedisSetKeys,
      p.count);

  progress(fmt::format("memory: {} blobs of 64 bytes in the Cache class", p.memory_entries));
  double mem = memory_per_entry(p.memory_entries, 64);

  // Every run is kept: each figure is the median run [the range of the runs' rates], and each
  // ratio the median [range] of the ratios of runs made side by side (run i against run i).
  Runs echo, zmq_batches, stream_batches, stream_single;
  for (int i = 0; i < p.repeat; i++) {
    try {
      progress(fmt::format("raw ZeroMQ DEALER/ROUTER echo, run {}/{}", i + 1, p.repeat));
      echo.add(zmq_echo(p));
      progress(fmt::format("raw ZeroMQ echo of {}-request batches, run {}/{}", p.depth, i + 1,
                           p.repeat));
      zmq_batches.add(zmq_batch_echo(p));
      progress(fmt::format("raw Unix stream socket echo of {}-request batches, run {}/{}", p.depth,
                           i + 1, p.repeat));
      stream_batches.add(stream_batch_echo(p));
      progress(fmt::format("raw Unix stream socket echo, one request per frame, run {}/{}", i + 1,
                           p.repeat));
      stream_single.add(stream_single_echo(p));
    } catch (const std::exception& e) {
      std::cerr << "content-bench: " << e.what() << std::endl;
      return 1;
    }
  }

  std::optional<CurveKeys> curve;
  try {
    curve.emplace(p.cairn);
  } catch (const std::exception& e) {
    std::cerr << "content-bench: tcp:// run skipped: " << e.what() << std::endl;
  }
  sockaddr_in a{};
  int sink = cairn::test::bind_loopback(SOCK_DGRAM, &a);  // a statsd endpoint that never reads
  // The load phase reads what the store phase wrote, from memory as redis GETs do: clean
  // entries are kept (content.purge-old-entry), else those older than its default of 10 s would
  // be purged while the write-back finishes on a slow or busy machine, and the load phase would
  // time a changing mix of warm and cold loads (cold loads: --backing).
  const std::string kKeep = "content.purge-old-entry=3600";
  BrokerSetup off_setup{{"stats.endpoint=", kKeep}};
  BrokerSetup unbatched_setup{{"stats.endpoint=", kKeep}, 1};
  BrokerSetup on_setup{{fmt::format("stats.endpoint=127.0.0.1:{}", ntohs(a.sin_port)),
                        "heartbeat.period=0.1", kKeep}};
  BrokerSetup mem_setup{{"stats.endpoint=", "content.backing=none"}};
  BrokerSetup tcp_setup{{"stats.endpoint=", kKeep}, 0, curve ? &*curve : nullptr};
  // The runs alternate so that a load change on the machine hits all alike. The memory-only
  // broker (content.backing=none) shows what the SQLite write-back costs the store phase; it is
  // the one comparable with redis without persistence, and the SQLite-backed store with redis
  // with AOF everysec. redis runs in the same rounds, after the brokers.
  RunPair off, on, mem_only, unbatched, tcp, rd;
  Runs rd_aof;
  std::vector<double> hit_rates;
  for (int i = 0; i < p.repeat; i++) {
    progress(fmt::format("broker, telemetry off, run {}/{}", i + 1, p.repeat));
    off.add(run_broker(p, self.c_str(), off_setup, "off"));
    progress(fmt::format("broker, each request its own frame, run {}/{}", i + 1, p.repeat));
    unbatched.add(run_broker(p, self.c_str(), unbatched_setup, "unbatched"));
    progress(fmt::format("broker, telemetry on, run {}/{}", i + 1, p.repeat));
    on.add(run_broker(p, self.c_str(), on_setup, "on"));
    progress(fmt::format("broker, memory only, run {}/{}", i + 1, p.repeat));
    mem_only.add(run_broker(p, self.c_str(), mem_setup, "mem"));
    if (curve) {
      progress(fmt::format("broker on tcp:// with CURVE, run {}/{}", i + 1, p.repeat));
      tcp.add(run_broker(p, self.c_str(), tcp_setup, "tcp"));
    }
    if (!p.skip_redis) {
      progress(fmt::format("redis-server + redis-benchmark, run {}/{}", i + 1, p.repeat));
      RedisRun r = redis(p);
      if (r.set && r.get) rd.add(std::make_pair(*r.set, *r.get));
      if (r.set_aof) rd_aof.add(*r.set_aof);
      if (!std::isnan(r.get_hit_rate)) hit_rates.push_back(r.get_hit_rate);
    }
  }
  close(sink);

  std::cout << fmt::format("{} runs of each; figures are the median run [the range of rates]\n",
                           p.repeat);
  std::cout << fmt::format("memory per entry beyond the blob: {:.1f} bytes (target <= 128)\n", mem);
  std::cout << "zmq echo        " << echo.text() << "\n";
  std::cout << "zmq echo batch  " << zmq_batches.text() << "\n";
  std::cout << "unix echo batch " << stream_batches.text() << "\n";
  std::cout << "unix echo 1/f   " << stream_single.text() << "\n";
  // Two lines per measured pair: its store (or SET) phase, then its load (or GET) phase.
  auto print_pair = [](const RunPair& r, const char* store_label, const char* load_label) {
    if (r.empty()) return;
    std::cout << store_label << r.store.text() << "\n" << load_label << r.load.text() << "\n";
  };
  print_pair(off, "cairn store     ", "cairn load      ");
  print_pair(on, "cairn store +t  ", "cairn load +t   ");
  print_pair(mem_only, "cairn store mem ", "cairn load mem  ");
  print_pair(unbatched, "cairn store 1/f ", "cairn load 1/f  ");
  print_pair(tcp, "cairn store tcp ", "cairn load tcp  ");
  print_pair(rd, "redis SET       ", "redis GET       ");
  if (!rd_aof.empty()) std::cout << "redis SET aof   " << rd_aof.text() << "\n";
  if (!hit_rates.empty())
    std::cout << fmt::format(
        "redis GET found its key in {:.0f}% of requests (median; target 100%)\n",
        100 * cairn::bench::median(hit_rates));
  if (rd.empty() && !p.skip_redis) {
    std::cout << "redis: not installed or did not start; baseline skipped\n";
  }
  std::cout << "ratios (median [range] of run i against run i):\n";
  if (!off.empty()) {
    std::cout << fmt::format("ratio store/echo {}, load/echo {}\n", ratio(off.store, echo),
                             ratio(off.load, echo));
    if (!unbatched.empty())
      std::cout << fmt::format(
          "unbatched (one request per frame): store/unix echo 1/f {}, load/unix echo 1/f {} "
          "(target >= 0.8); store/zmq echo {}, load/zmq echo {}\n",
          ratio(unbatched.store, stream_single), ratio(unbatched.load, stream_single),
          ratio(unbatched.store, echo), ratio(unbatched.load, echo));
    if (!rd.empty())
      std::cout << fmt::format(
          "ratio store/redis SET {}, load/redis GET {} (target >= 1.0 with one client, and with "
          "--clients 4)\n",
          ratio(off.store, rd.store), ratio(off.load, rd.load));
    if (!rd_aof.empty())
      std::cout << fmt::format(
          "SQLite write-back: store/redis SET aof everysec {} (target >= 1.0 with one client)\n",
          ratio(off.store, rd_aof));
    if (!mem_only.empty()) {
      std::cout << fmt::format("memory only: store/echo {}, store/SQLite-backed store {}",
                               ratio(mem_only.store, echo), ratio(mem_only.store, off.store));
      if (!rd.empty())
        std::cout << fmt::format(
            ", store/redis SET {} (target >= 1.25 with one client), load/redis GET {}",
            ratio(mem_only.store, rd.store), ratio(mem_only.load, rd.load));
      std::cout << "\n";
    }
    if (!tcp.empty()) {
      std::cout << fmt::format(
          "tcp:// (ZeroMQ, CURVE): store/local:// store {}, load/local:// load {}",
          ratio(tcp.store, off.store), ratio(tcp.load, off.load));
      if (!rd.empty())
        std::cout << fmt::format(
            ", store/redis SET {}, load/redis GET {} (redis on tcp loopback; target >= 0.5)",
            ratio(tcp.store, rd.store), ratio(tcp.load, rd.load));
      std::cout << "\n";
    }
    // What the transport costs: the same batches echoed, each whole before the next, by a
    // ZeroMQ ROUTER and by a plain stream socket, neither doing any work of its own.
    std::cout << fmt::format("transport: unix echo batch/zmq echo batch {}",
                             ratio(stream_batches, zmq_batches));
    if (!rd.empty())
      std::cout << fmt::format(", zmq echo batch/redis SET {}, zmq echo batch/redis GET {}",
                               ratio(zmq_batches, rd.store), ratio(zmq_batches, rd.load));
    std::cout << "\n";
    if (!on.empty())
      std::cout << fmt::format("telemetry on/off: store {}, load {} (target within 2%)\n",
                               ratio(on.store, off.store, "{:.3f}"),
                               ratio(on.load, off.load, "{:.3f}"));
    // CPU per request, server + client, median [range]: cairn's broker and client process
    // against redis-server and redis-benchmark.
    std::cout << fmt::format("cpu/request, server + client: cairn store {}, store mem {}, load {}",
                             cpu_text(off.store), cpu_text(mem_only.store), cpu_text(off.load));
    if (!rd.empty())
      std::cout << fmt::format("; redis SET {}, GET {}", cpu_text(rd.store), cpu_text(rd.load));
    if (!rd_aof.empty()) std::cout << fmt::format(", SET aof {}", cpu_text(rd_aof));
    std::cout << "\n";
    if (!rd.empty()) {
      std::cout << fmt::format(
          "cpu ratio cairn/redis: load/GET {} (target <= 1.0), store mem/SET {}",
          cpu_ratio(off.load, rd.load), cpu_ratio(mem_only.store, rd.store));
      if (!rd_aof.empty())
        std::cout << fmt::format(", store/SET aof {}", cpu_ratio(off.store, rd_aof));
      std::cout << "\n";
    }
  }
  bool all_ran = !off.empty() && !on.empty() && !mem_only.empty() && !unbatched.empty() &&
                 (!curve || !tcp.empty());
  return all_ran ? 0 : 1;
}
