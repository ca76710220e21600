// content-bench: throughput and latency of the content cache through a real broker, against
// baselines measured in the same run (doc/architecture.md, Tests and benchmarks):
//   - raw ZeroMQ DEALER/ROUTER echo of the same payload at the same depth, the ROUTER in a child
//     process as the broker is (upper bound);
//   - the same store requests in batches of the depth (libmsg's format), each sent and echoed
//     whole before the next, through raw-echo's ROUTER and through a plain Unix stream socket:
//     what the transport alone costs a batch, with ZeroMQ's I/O threads and without;
//   - redis-server + redis-benchmark SET/GET at the same size and pipeline depth, if installed;
//   - memory per cache entry beyond the blob (the Cache class alone, mallinfo2);
//   - the broker with telemetry on vs off;
//   - for each broker run, the CPU time per request of the broker and of the client process.
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
  int repeat = 5;  // runs of each phase; the median run and the range are reported
};

struct Result {
  double ops = 0;  // per second
  double p50_us = 0;
  double p99_us = 0;
  // Broker runs: CPU time (user + system, all threads) per request of the broker process and of
  // the client process; NaN where unknown. A cost per request that the machine's other load
  // disturbs less than the rate.
  double broker_cpu_us = std::nan("");
  double client_cpu_us = std::nan("");
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
    text += fmt::format("  cpu/request broker {:.1f} us, client {:.1f} us", r.broker_cpu_us,
                        r.client_cpu_us);
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
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  c.client = secs(ru.ru_utime) + secs(ru.ru_stime);
  std::ifstream f(fmt::format("/proc/{}/stat", getppid()));
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // proc_pid_stat(5): utime and stime are fields 14 and 15, counted from the pid; the command
  // name (field 2) may hold spaces, so count from the ')' that closes it (field 3 follows).
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return c;
  std::istringstream in(stat.substr(close + 1));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; i++) {
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) stime = std::atof(field.c_str());
  }
  if (in) c.broker = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
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

// Runs `cairn start ... SELF --client ...` and parses its JSON line.
// `batch_limit` 1: every request its own message.
std::optional<std::pair<Result, Result>> run_broker(const Params& p, const char* self,
                                                    const std::vector<std::string>& opts,
                                                    size_t batch_limit = 0) {
  std::string statedir = (std::filesystem::temp_directory_path() /
                          fmt::format("content-bench-{}-{}-{}", getpid(), opts.size(), batch_limit))
                             .string();
  std::filesystem::remove_all(statedir);
  std::filesystem::create_directories(statedir);
  std::string cmd = fmt::format("'{}' start --statedir '{}'", p.cairn, statedir);
  for (auto& o : opts) cmd += " -o '" + o + "'";
  cmd += fmt::format(" '{}' --client --count {} --size {} --depth {} --clients {} --batch-limit {}",
                     self, p.count, p.size, p.depth, p.clients, batch_limit);
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

// The frames of p.count store requests, p.depth to a batch (libmsg's batch format, as libclient
// sends them to a pipelining caller).
std::vector<std::string> store_batches(const Params& p) {
  std::vector<std::string> frames;
  cairn::msg::BatchWriter w;
  for (size_t i = 0; i < p.count; i++) {
    auto m = cairn::msg::Message::request("content.store", {}, static_cast<uint32_t>(i));
    w.add(m, m.topic, blob(i, p.size));
    if (w.count() == p.depth || i + 1 == p.count) {
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
  std::vector<std::string> batches = store_batches(p);
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

// Through raw-echo's plain Unix stream socket: the same bytes with no I/O thread on either side.
Result stream_batch_echo(const Params& p) {
  cairn::test::RawEcho server(cairn::test::RawEcho::default_program(),
                              cairn::test::RawEcho::Transport::unix_stream);
  cairn::util::UniqueFd fd = server.connect_stream();
  // Moves all of `len` bytes at `buf` with `io` (write or read), or throws saying what failed.
  auto all = [&fd](auto io, auto* buf, size_t len, const char* what) {
    for (size_t off = 0; off < len;) {
      errno = 0;
      ssize_t n = io(fd.get(), buf + off, len - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        throw std::runtime_error(
            fmt::format("raw stream echo: cannot {} a batch: {}", what,
                        errno != 0 ? std::strerror(errno) : "the echo closed the connection"));
      off += static_cast<size_t>(n);
    }
  };
  std::string back;
  return batch_echo(p, [&](const std::string& b) {
    all(::write, b.data(), b.size(), "send");
    back.resize(b.size());
    all(::read, back.data(), back.size(), "receive");
  });
}

// ---- redis ------------------------------------------------------------------------------------

int free_port() { return cairn::test::free_loopback_port(SOCK_STREAM); }

bool installed(const char* prog) {
  return std::system(fmt::format("command -v {} >/dev/null 2>&1", prog).c_str()) == 0;
}

// Requests per redis-benchmark test: distinct keys (-r) and at least 200,000, so that the run
// lasts long enough to measure and is not the overwriting of one key.
size_t redis_requests(const Params& p) { return std::max<size_t>(p.count, 200000); }

// {SET, GET} requests per second; nullopt when redis is not installed or does not start.
std::optional<std::pair<Result, Result>> redis(const Params& p) {
  if (!installed("redis-server") || !installed("redis-benchmark")) return std::nullopt;
  int port = free_port();
  // Spawned, not forked: nothing runs in a child between fork and exec.
  std::string ps = std::to_string(port);
  const char* args[] = {"redis-server", "--port", ps.c_str(), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no",     "--dir",    "/tmp",   nullptr};
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc =
      posix_spawnp(&pid, "redis-server", &quiet, nullptr, const_cast<char* const*>(args), environ);
  posix_spawn_file_actions_destroy(&quiet);
  if (rc != 0) {
    std::fprintf(stderr, "content-bench: cannot run redis-server: %s (skipping redis)\n",
                 std::strerror(rc));
    return std::nullopt;
  }
  std::string ping = fmt::format("redis-cli -p {} ping >/dev/null 2>&1", port);
  bool up = false, exited = false;
  for (int i = 0; i < 200 && !up && !exited; i++) {  // up to 10 s, or until it has exited
    up = std::system(ping.c_str()) == 0;
    if (!up) {
      exited = waitpid(pid, nullptr, WNOHANG) == pid;
      usleep(50000);
    }
  }
  if (!up)
    std::fprintf(stderr, "content-bench: redis-server on port %d %s (skipping redis)\n", port,
                 exited ? "exited at start-up" : "did not answer within 10 s");
  std::optional<std::pair<Result, Result>> out;
  if (up) {
    std::string cmd = fmt::format(
        "redis-benchmark -p {} -c {} -P {} -d {} -r 1000000 -n {} -t set,get --csv "
        "2>/dev/null",
        port, p.clients, p.depth, p.size, redis_requests(p));
    std::string text;
    if (FILE* f = popen(cmd.c_str(), "r")) {
      char buf[4096];
      while (size_t n = fread(buf, 1, sizeof buf, f)) text.append(buf, n);
      pclose(f);
    }
    // CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95..","p99..","max.."
    Result set, get;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      std::string line = text.substr(pos, eol == std::string::npos ? eol : eol - pos);
      pos = eol == std::string::npos ? text.size() : eol + 1;
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
      if (f.size() < 7) continue;
      Result r{std::atof(f[1].c_str()), std::atof(f[4].c_str()) * 1000,
               std::atof(f[6].c_str()) * 1000};
      if (f[0] == "SET") set = r;
      if (f[0] == "GET") get = r;
    }
    if (set.ops > 0 && get.ops > 0) out = std::make_pair(set, get);
  }
  if (!exited) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  return out;
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
    size_t after = heap_in_use();
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
      "client(s); redis: -c {} -P {} -r 1000000 -n {}\n",
      p.count, p.size, p.depth, p.clients, p.clients, p.depth, redis_requests(p));

  progress(fmt::format("memory: {} blobs of 64 bytes in the Cache class", p.memory_entries));
  double mem = memory_per_entry(p.memory_entries, 64);

  // Every run is kept: each figure is the median run [the range of the runs' rates], and each
  // ratio the median [range] of the ratios of runs made side by side (run i against run i).
  Runs echo, zmq_batches, stream_batches;
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
    } catch (const std::exception& e) {
      std::cerr << "content-bench: " << e.what() << std::endl;
      return 1;
    }
  }

  sockaddr_in a{};
  int sink = cairn::test::bind_loopback(SOCK_DGRAM, &a);  // a statsd endpoint that never reads
  std::vector<std::string> telemetry = {
      fmt::format("stats.endpoint=127.0.0.1:{}", ntohs(a.sin_port)), "heartbeat.period=0.1"};
  // The runs alternate so that a load change on the machine hits all alike. The memory-only
  // broker (content.backing=none) shows what the SQLite write-back costs the store phase; it is
  // the one comparable with redis, which runs without persistence.
  RunPair off, on, mem_only, unbatched;
  for (int i = 0; i < p.repeat; i++) {
    progress(fmt::format("broker, telemetry off, run {}/{}", i + 1, p.repeat));
    off.add(run_broker(p, self.c_str(), {"stats.endpoint="}));
    progress(fmt::format("broker, each request its own message, run {}/{}", i + 1, p.repeat));
    unbatched.add(run_broker(p, self.c_str(), {"stats.endpoint="}, 1));
    progress(fmt::format("broker, telemetry on, run {}/{}", i + 1, p.repeat));
    on.add(run_broker(p, self.c_str(), telemetry));
    progress(fmt::format("broker, memory only, run {}/{}", i + 1, p.repeat));
    mem_only.add(run_broker(p, self.c_str(), {"stats.endpoint=", "content.backing=none"}));
  }
  close(sink);

  RunPair rd;
  for (int i = 0; i < p.repeat && !p.skip_redis; i++) {
    progress(fmt::format("redis-server + redis-benchmark, run {}/{}", i + 1, p.repeat));
    rd.add(redis(p));
  }

  std::cout << fmt::format("{} runs of each; figures are the median run [the range of rates]\n",
                           p.repeat);
  std::cout << fmt::format("memory per entry beyond the blob: {:.1f} bytes (target <= 128)\n", mem);
  std::cout << "zmq echo        " << echo.text() << "\n";
  std::cout << "zmq echo batch  " << zmq_batches.text() << "\n";
  std::cout << "unix echo batch " << stream_batches.text() << "\n";
  // Two lines per measured pair: its store (or SET) phase, then its load (or GET) phase.
  auto print_pair = [](const RunPair& r, const char* store_label, const char* load_label) {
    if (r.empty()) return;
    std::cout << store_label << r.store.text() << "\n" << load_label << r.load.text() << "\n";
  };
  print_pair(off, "cairn store     ", "cairn load      ");
  print_pair(on, "cairn store +t  ", "cairn load +t   ");
  print_pair(mem_only, "cairn store mem ", "cairn load mem  ");
  print_pair(unbatched, "cairn store 1/m ", "cairn load 1/m  ");
  print_pair(rd, "redis SET       ", "redis GET       ");
  if (rd.empty() && !p.skip_redis) {
    std::cout << "redis: not installed or did not start; baseline skipped\n";
  }
  if (!off.empty()) {
    std::cout << fmt::format("ratio store/echo {}, load/echo {}\n", ratio(off.store, echo),
                             ratio(off.load, echo));
    if (!unbatched.empty())
      std::cout << fmt::format(
          "unbatched (one message per request): store/echo {}, load/echo {} (target >= 0.8)\n",
          ratio(unbatched.store, echo), ratio(unbatched.load, echo));
    if (!rd.empty())
      std::cout << fmt::format(
          "ratio store/redis SET {} (target >= 1.0 with one client), load/redis GET {} (target "
          ">= 1.0)\n",
          ratio(off.store, rd.store), ratio(off.load, rd.load));
    if (!mem_only.empty()) {
      std::cout << fmt::format("memory only: store/echo {}, store/SQLite-backed store {}",
                               ratio(mem_only.store, echo), ratio(mem_only.store, off.store));
      if (!rd.empty())
        std::cout << fmt::format(
            ", store/redis SET {} (target >= 1.25 with one client), load/redis GET {}",
            ratio(mem_only.store, rd.store), ratio(mem_only.load, rd.load));
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
  }
  return !off.empty() && !on.empty() && !mem_only.empty() && !unbatched.empty() ? 0 : 1;
}
