// stats-bench: libstats against baselines measured in the same run (doc/architecture.md).
//  (a) by-name aggregated gauge_set and handle updates vs a naive fripp-style client written
//      here (an unordered_map<std::string> lookup plus a std::string line formatted on every
//      update);
//  (b) immediate mode vs a raw send() of the same line on a connected socket;
//  (c) flush of 100 / 1,000 / 10,000 distinct gauges (time and bytes per packet from the self
//      counters) vs a naive encoder that re-copies the packet string on every append.
// Datagrams go to a UDP sink on 127.0.0.1 (port 0) that a thread drains.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "libstats/stats.hpp"
#include "libtest/loopback.hpp"

namespace {

using cairn::stats::Context;
using cairn::stats::Options;
using cairn::stats::Stats;

// A UDP socket on 127.0.0.1 port 0 drained by a thread until destruction.
class Sink {
 public:
  Sink() {
    fd_ = cairn::test::bind_loopback(SOCK_DGRAM, &addr_);
    int size = 8 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    // Drains in bulk every millisecond instead of blocking in recv(): a blocked reader would
    // make every send() wake a thread, and the benchmarks would mostly measure the scheduler.
    thread_ = std::thread([this] {
      char buf[65536];
      while (!stop_.load()) {
        while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        }
        ::usleep(1000);
      }
    });
  }
  ~Sink() {
    stop_.store(true);
    thread_.join();
    ::close(fd_);
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(ntohs(addr_.sin_port)); }
  int connected_socket() const {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ::connect(fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_);
    return fd;
  }

 private:
  int fd_;
  sockaddr_in addr_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

Sink& sink() {
  static Sink s;
  return s;
}

// Everything a libstats benchmark needs: a loop, a Stats aimed at the sink, one context.
struct Fixture {
  explicit Fixture(double period) : stats(loop, options()), ctx(stats.context("cairn.0", period)) {}
  static Options options() {
    Options o;
    o.endpoint = sink().endpoint();
    return o;
  }
  cairn::reactor::Loop loop;
  Stats stats;
  std::unique_ptr<Context> ctx;
};

// --- the naive baseline, in the style of flux-core's fripp ---------------------------------

class NaiveClient {
 public:
  NaiveClient(int fd, std::string prefix) : fd_(fd), prefix_(std::move(prefix)) {}
  // Looks the metric up by a freshly built key and formats its line on every update.
  void gauge_set(const std::string& name, int64_t value) {
    std::string key = prefix_ + "." + name;
    metrics_[key] = key + ":" + std::to_string(value) + "|g\n";
  }
  // Builds packets by re-copying the packet string on every append.
  void flush(size_t max_packet = 1440) {
    std::string packet;
    for (const auto& [key, line] : metrics_) {
      if (packet.size() + line.size() > max_packet) {
        send(packet);
        packet = "";
      }
      packet = packet + line;
    }
    send(packet);
  }
  size_t packets = 0, bytes = 0;

 private:
  void send(const std::string& p) {
    if (p.empty()) return;
    if (::send(fd_, p.data(), p.size(), MSG_DONTWAIT) > 0) {
      ++packets;
      bytes += p.size();
    }
  }
  int fd_;
  std::string prefix_;
  std::unordered_map<std::string, std::string> metrics_;
};

// --- (a) updates ---------------------------------------------------------------------------

const std::string kName = "content.cache.size";

void BM_Naive_GaugeSetByName(benchmark::State& state) {
  int fd = sink().connected_socket();
  NaiveClient naive(fd, "cairn.0");
  int64_t i = 0;
  for (auto _ : state) naive.gauge_set(kName, ++i);
  ::close(fd);
}
BENCHMARK(BM_Naive_GaugeSetByName);

void BM_Libstats_GaugeSetByName(benchmark::State& state) {
  Fixture f(3600);
  int64_t i = 0;
  for (auto _ : state) f.ctx->gauge_set(kName, ++i);
}
BENCHMARK(BM_Libstats_GaugeSetByName);

void BM_Libstats_GaugeHandleSet(benchmark::State& state) {
  Fixture f(3600);
  auto g = f.ctx->gauge(kName);
  int64_t i = 0;
  for (auto _ : state) g.set(++i);
}
BENCHMARK(BM_Libstats_GaugeHandleSet);

void BM_Libstats_CounterHandleAdd(benchmark::State& state) {
  Fixture f(3600);
  auto c = f.ctx->counter("content.hits");
  for (auto _ : state) c.add(1);
}
BENCHMARK(BM_Libstats_CounterHandleAdd);

// --- (b) immediate mode vs raw send ----------------------------------------------------------

void BM_Raw_Send(benchmark::State& state) {
  int fd = sink().connected_socket();
  const std::string line = "cairn.0." + kName + ":12345|g\n";
  for (auto _ : state) benchmark::DoNotOptimize(::send(fd, line.data(), line.size(), MSG_DONTWAIT));
  ::close(fd);
}
BENCHMARK(BM_Raw_Send);

void BM_Libstats_Immediate(benchmark::State& state) {
  Fixture f(0);
  for (auto _ : state) f.ctx->gauge_set(kName, 12345);
}
BENCHMARK(BM_Libstats_Immediate);

// --- (c) flush -------------------------------------------------------------------------------

std::vector<std::string> gauge_names(int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back("content.gauge" + std::to_string(i));
  return names;
}

void BM_Naive_Flush(benchmark::State& state) {
  int fd = sink().connected_socket();
  NaiveClient naive(fd, "cairn.0");
  auto names = gauge_names(static_cast<int>(state.range(0)));
  int64_t v = 1000000;
  for (auto _ : state) {
    state.PauseTiming();
    for (const auto& n : names) naive.gauge_set(n, ++v);
    state.ResumeTiming();
    naive.flush();
  }
  state.counters["bytes_per_packet"] = naive.packets ? double(naive.bytes) / naive.packets : 0;
  ::close(fd);
}
BENCHMARK(BM_Naive_Flush)->Arg(100)->Arg(1000)->Arg(10000)->UseRealTime();

void BM_Libstats_Flush(benchmark::State& state) {
  Fixture f(3600);
  auto names = gauge_names(static_cast<int>(state.range(0)));
  std::vector<cairn::stats::Gauge> gauges;
  for (const auto& n : names) gauges.push_back(f.ctx->gauge(n));
  int64_t v = 1000000;
  auto before = f.stats.self_counters();
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& g : gauges) g.set(++v);
    state.ResumeTiming();
    f.ctx->flush();
  }
  auto after = f.stats.self_counters();
  uint64_t packets = after.packets - before.packets;
  double bytes = double(after.bytes - before.bytes);
  state.counters["bytes_per_packet"] = packets ? bytes / packets : 0;
  state.counters["bytes_per_flush"] = bytes / double(state.iterations());
  state.counters["send_errors"] = double(after.send_errors);
}
BENCHMARK(BM_Libstats_Flush)->Arg(100)->Arg(1000)->Arg(10000)->UseRealTime();

// The same flush into 64 KiB datagrams: one packet per flush, so the figure is mostly the
// encoder's own cost rather than the kernel's per-datagram cost.
void BM_Libstats_FlushBigPackets(benchmark::State& state) {
  cairn::reactor::Loop loop;
  Options o = Fixture::options();
  o.max_packet = 65507;
  Stats stats(loop, o);
  auto ctx = stats.context("cairn.0", 3600);
  std::vector<cairn::stats::Gauge> gauges;
  for (const auto& n : gauge_names(static_cast<int>(state.range(0))))
    gauges.push_back(ctx->gauge(n));
  int64_t v = 1000000;
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& g : gauges) g.set(++v);
    state.ResumeTiming();
    ctx->flush();
  }
}
BENCHMARK(BM_Libstats_FlushBigPackets)->Arg(1000)->UseRealTime();

// --- summary ---------------------------------------------------------------------------------

// Console output as usual, plus the figures kept for the ratio summary: per benchmark the least
// CPU time of the benchmark thread over the repetitions. CPU time, not wall time, because this
// runs on shared machines where wall time mostly measures other processes.
class Recorder : public benchmark::ConsoleReporter {
 public:
  explicit Recorder(OutputOptions opts) : ConsoleReporter(opts) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      double ns = r.GetAdjustedCPUTime();  // in the run's time unit (ns by default)
      if (r.time_unit == benchmark::kMicrosecond) ns *= 1e3;
      if (r.time_unit == benchmark::kMillisecond) ns *= 1e6;
      auto [it, fresh] = ns_.emplace(r.benchmark_name(), ns);
      if (!fresh && ns < it->second) it->second = ns;
      auto c = r.counters.find("bytes_per_packet");
      if (c != r.counters.end()) fill_[r.benchmark_name()] = c->second.value;
      c = r.counters.find("bytes_per_flush");
      if (c != r.counters.end()) flush_bytes_[r.benchmark_name()] = c->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  bool ran(const std::string& name) const { return ns_.count(name) != 0; }
  double ns(const std::string& name) const {
    auto it = ns_.find(name);
    return it == ns_.end() ? 0 : it->second;
  }
  double fill(const std::string& name) const {
    auto it = fill_.find(name);
    return it == fill_.end() ? 0 : it->second;
  }
  double flush_bytes(const std::string& name) const {
    auto it = flush_bytes_.find(name);
    return it == flush_bytes_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> ns_, fill_, flush_bytes_;
};

const char* verdict(bool ok) { return ok ? "ok" : "MISSED"; }

// Each line needs the benchmarks it compares; a --benchmark_filter may have left some out, and
// then the line says so instead of printing zeros.
void summary(const Recorder& r) {
  auto ran = [&r](std::initializer_list<std::string> names) {
    for (const auto& n : names)
      if (!r.ran(n)) return false;
    return true;
  };
  const char* skipped = "not run (left out by --benchmark_filter)";
  double naive = r.ns("BM_Naive_GaugeSetByName");
  double byname = r.ns("BM_Libstats_GaugeSetByName");
  double handle = r.ns("BM_Libstats_GaugeHandleSet");
  double counter = r.ns("BM_Libstats_CounterHandleAdd");
  double raw = r.ns("BM_Raw_Send");
  double imm = r.ns("BM_Libstats_Immediate");
  std::printf(
      "\nstats-bench summary (baselines measured in this run; CPU time of the benchmark "
      "thread, least over repetitions)\n");
  if (ran({"BM_Naive_GaugeSetByName"}))
    std::printf(
        "(a) baseline: naive fripp-style client (unordered_map<std::string> lookup + "
        "std::string line per update): %.1f ns/op\n",
        naive);
  else
    std::printf("(a) baseline: %s\n", skipped);
  // "N.Nx faster than baseline, " when the baseline ran.
  auto vs_naive = [&](double ns) {
    char buf[64] = "";
    if (ran({"BM_Naive_GaugeSetByName"}))
      std::snprintf(buf, sizeof buf, "%.1fx faster than baseline, ", naive / ns);
    return std::string(buf);
  };
  if (ran({"BM_Libstats_GaugeSetByName"}))
    std::printf("    by-name gauge_set (aggregated): %.1f ns/op, %s[target <= 10 ns: %s]\n", byname,
                vs_naive(byname).c_str(), verdict(byname <= 10));
  else
    std::printf("    by-name gauge_set: %s\n", skipped);
  if (ran({"BM_Libstats_GaugeHandleSet"}))
    std::printf("    handle Gauge::set: %.2f ns/op, %s[target <= 2 ns: %s]\n", handle,
                vs_naive(handle).c_str(), verdict(handle <= 2));
  else
    std::printf("    handle Gauge::set: %s\n", skipped);
  if (ran({"BM_Libstats_CounterHandleAdd"}))
    std::printf("    handle Counter::add: %.2f ns/op [target <= 2 ns: %s]\n", counter,
                verdict(counter <= 2));
  else
    std::printf("    handle Counter::add: %s\n", skipped);
  if (ran({"BM_Libstats_Immediate", "BM_Raw_Send"}))
    std::printf(
        "(b) immediate gauge_set %.0f ns vs raw send() of the same line %.0f ns: "
        "%.3fx [target <= 1.1x: %s]\n",
        imm, raw, imm / raw, verdict(imm / raw <= 1.1));
  else
    std::printf("(b) immediate gauge_set vs raw send(): %s\n", skipped);
  const std::string k1000 = "BM_Libstats_Flush/1000/real_time";
  double f1000 = r.ns(k1000) / 1e3;
  for (int n : {100, 1000, 10000}) {
    std::string arg = "/" + std::to_string(n) + "/real_time";
    if (!ran({"BM_Libstats_Flush" + arg, "BM_Naive_Flush" + arg})) {
      std::printf("(c) flush of %5d gauges: %s\n", n, skipped);
      continue;
    }
    double lib = r.ns("BM_Libstats_Flush" + arg) / 1e3;
    double nai = r.ns("BM_Naive_Flush" + arg) / 1e3;
    double fill = r.fill("BM_Libstats_Flush" + arg);
    std::printf(
        "(c) flush of %5d gauges: %8.1f us (baseline naive re-copying encoder %8.1f us, "
        "%.2fx), %.0f B/packet (baseline %.0f)",
        n, lib, nai, nai / lib, fill, r.fill("BM_Naive_Flush" + arg));
    if (n == 1000) std::printf(" [target <= 40 us: %s]", verdict(lib <= 40));
    if (n == 10000 && r.ran(k1000))
      std::printf(" [target <= 11x the 1,000 figure: %.1fx %s]", lib / f1000,
                  verdict(lib <= 11 * f1000));
    // The best average any packer could reach: the flush's bytes in as few 1440-byte packets
    // as they can fit in (the last packet of a flush is partial by nature).
    double bytes = r.flush_bytes("BM_Libstats_Flush" + arg);
    double best = bytes > 0 ? bytes / std::ceil(bytes / 1440) : 0;
    std::printf(" [fill >= 1400 B: %s; at best %.0f B for %.0f B per flush]\n",
                verdict(fill >= 1400), best, bytes);
  }
  if (ran({"BM_Libstats_FlushBigPackets/1000/real_time", "BM_Raw_Send", k1000})) {
    double big = r.ns("BM_Libstats_FlushBigPackets/1000/real_time") / 1e3;
    double packets1000 = 0;
    if (double fill = r.fill(k1000); fill > 0) packets1000 = r.flush_bytes(k1000) / fill;
    std::printf(
        "    flush of 1,000 gauges into one 64 KiB datagram: %.1f us (encoder + one send); "
        "a datagram costs %.1f us here (raw send above), %.0f of them for 1,000 gauges at "
        "1440 B\n",
        big, raw / 1e3, packets1000);
  }
}

// Whether the console output may carry colour codes: --benchmark_color=true|false|auto (the last
// one given wins; default auto), then NO_COLOR (https://no-color.org: set and not empty means
// none), then auto: only when standard output is a terminal.
bool use_colour(int argc, char** argv) {
  std::string choice = "auto";
  const std::string flag = "--benchmark_color=";
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]).rfind(flag, 0) == 0) choice = argv[i] + flag.size();
  if (choice == "true" || choice == "yes" || choice == "1") return true;
  if (choice == "false" || choice == "no" || choice == "0") return false;
  if (const char* no = std::getenv("NO_COLOR"); no && *no) return false;
  return isatty(STDOUT_FILENO) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Defaults for a noisy shared machine (command-line flags after them win): repetitions in
  // random order, so slow phases hit baseline and libstats alike; the summary takes the least.
  std::vector<char*> args{argv[0]};
  std::string reps = "--benchmark_repetitions=5",
              mix = "--benchmark_enable_random_interleaving=true", min = "--benchmark_min_time=0.1";
  args.push_back(reps.data());
  args.push_back(mix.data());
  args.push_back(min.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  argc = n;
  argv = args.data();
  const bool colour = use_colour(argc, argv);  // before Initialize() takes its flags away
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Recorder recorder(colour ? benchmark::ConsoleReporter::OO_ColorTabular
                           : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&recorder);
  summary(recorder);
  benchmark::Shutdown();
  return 0;
}
