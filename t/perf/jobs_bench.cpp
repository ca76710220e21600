// jobs-bench: how much jobtap plugins cost. Runs `true` as jobs through JobManager::submit with
// 0, 1 and 5 job-stats plugins loaded (each with its own stats context sending to a local UDP
// socket), interleaving the configurations over several rounds so drift hits all alike, and
// prints jobs per second (the best round of each configuration, the least disturbed by other
// load) with ratios against 0 plugins. A second table times the plugin
// dispatch alone (the 9 events of one job) without process creation, which is the part plugins
// can make slower. Not run by `make check`.
//   usage: jobs-bench [JOBS_PER_ROUND [ROUNDS [PLUGIN.so]]]
#include <arpa/inet.h>
#include <config.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "libreactor/reactor.hpp"
#include "libstats/stats.hpp"
#include "libtest/loopback.hpp"
#include "modules/job-manager/job_manager.hpp"

using namespace cairn;
using job_manager::JobManager;
using job_manager::PluginHost;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kConfigs[] = {0, 1, 5};
constexpr int kInFlight = 8;  // jobs running at once

// A bound UDP socket nobody reads: the stats packets have somewhere real to go.
struct Sink {
  int fd = -1;
  int port = 0;
  Sink() {
    sockaddr_in sa{};
    fd = cairn::test::bind_loopback(SOCK_DGRAM, &sa);
    port = ntohs(sa.sin_port);
  }
  ~Sink() { close(fd); }
};

// N copies of the plugin under different names (a plugin name loads once).
std::vector<std::string> plugin_copies(const std::string& plugin, const std::string& dir, int n) {
  std::vector<std::string> paths;
  for (int i = 0; i < n; i++) {
    std::string p = dir + "/job-stats-" + std::to_string(i) + ".so";
    std::filesystem::remove(p);
    std::filesystem::create_symlink(plugin, p);
    paths.push_back(p);
  }
  return paths;
}

std::unique_ptr<PluginHost> make_host(stats::Stats& stats, const std::vector<std::string>& paths,
                                      int n) {
  auto host = std::make_unique<PluginHost>(
      [&stats] { return job_manager::make_plugin_stats(stats.context("cairn.bench", 1.0)); },
      [](int level, const std::string& text) {
        if (level <= 4) std::fprintf(stderr, "jobs-bench: %s\n", text.c_str());
      },
      std::vector<std::string>{});
  for (int i = 0; i < n; i++) {
    if (auto loaded = host->load(paths[static_cast<size_t>(i)]); !loaded) {
      std::fprintf(stderr, "jobs-bench: cannot load %s: %s\n",
                   paths[static_cast<size_t>(i)].c_str(), loaded.error().text.c_str());
      std::exit(1);
    }
  }
  return host;
}

// Seconds to run `jobs` jobs of `true`, kInFlight at a time.
double run_jobs(reactor::Loop& loop, PluginHost& host, int jobs) {
  JobManager jm(loop, host,
                [](std::string, job_manager::StoreDone done) { done(std::string("ref")); });
  int submitted = 0;
  auto t0 = Clock::now();
  while (true) {
    while (submitted < jobs && static_cast<int>(jm.active_count()) < kInFlight) {
      if (auto id = jm.submit({"true"}); !id) {
        std::fprintf(stderr, "jobs-bench: %s\n", id.error().text.c_str());
        std::exit(1);
      }
      submitted++;
    }
    if (jm.active_count() == 0 && submitted == jobs) break;
    loop.run_once(true);
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Nanoseconds per job spent dispatching its events to the plugins (no process).
double dispatch_ns(PluginHost& host, int iterations) {
  static const char* topics[] = {
      "job.validate",       "job.new",         "job.state.new", "job.state.depend",
      "job.state.priority", "job.state.sched", "job.state.run", "job.state.cleanup",
      "job.state.inactive"};
  static const int64_t states[] = {1, 1, 1, 2, 4, 8, 16, 32, 64};
  auto t0 = Clock::now();
  for (int i = 0; i < iterations; i++) {
    for (int k = 0; k < 9; k++) {
      cairn_plugin_args args;
      args.set_int("id", i);
      args.set_int("state", states[k]);
      if (k > 2) args.set_int("prev_state", states[k - 1]);
      args.set_int("userid", 1000);
      args.set_double("t_submit", 1.0);
      args.set_double("t_run", 2.0);
      args.set_double("t_cleanup", 3.0);
      args.set_string("command", "true");
      host.call(topics[k], &args);
    }
  }
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = argc > 1 ? std::atoi(argv[1]) : 1000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::string plugin = argc > 3 ? argv[3] : JOB_STATS_PLUGIN;
  if (jobs <= 0 || rounds <= 0) {
    std::fprintf(stderr, "usage: jobs-bench [JOBS_PER_ROUND [ROUNDS [PLUGIN.so]]]\n");
    return 1;
  }
  char dir[] = "/tmp/jobs-bench-XXXXXX";
  if (!mkdtemp(dir)) {
    std::perror("jobs-bench: mkdtemp");
    return 1;
  }
  auto paths = plugin_copies(plugin, dir, 5);

  reactor::Loop loop;
  Sink sink;
  stats::Stats stats(loop, {"127.0.0.1:" + std::to_string(sink.port), 1440, nullptr});

  double seconds[3] = {1e300, 1e300, 1e300};  // best round
  for (int r = 0; r < rounds; r++) {
    for (int k = 0; k < 3; k++) {
      int c = (k + r) % 3;  // rotate the order so no configuration always runs first
      auto host = make_host(stats, paths, kConfigs[c]);
      seconds[c] = std::min(seconds[c], run_jobs(loop, *host, jobs));
    }
  }
  std::printf(
      "jobs-bench: `true` through JobManager::submit, %d jobs x %d rounds per "
      "configuration, %d in flight, plugin %s\n",
      jobs, rounds, kInFlight, plugin.c_str());
  std::printf("%-10s %12s %10s %14s\n", "plugins", "jobs/s", "ratio", "cost/plugin");
  double base = jobs / seconds[0];
  for (int c = 0; c < 3; c++) {
    double rate = jobs / seconds[c];
    double ratio = rate / base;
    double per_plugin = kConfigs[c] ? (1 - ratio) / kConfigs[c] * 100 : 0;
    std::printf("%-10d %12.0f %10.3f %13.2f%%\n", kConfigs[c], rate, ratio, per_plugin);
  }

  const int iterations = 200000;
  double ns[3];
  for (int c = 0; c < 3; c++) {
    auto host = make_host(stats, paths, kConfigs[c]);
    dispatch_ns(*host, iterations / 10);  // warm up
    ns[c] = dispatch_ns(*host, iterations);
  }
  // The loop thread's time per job (spawn, watchers, dispatch): what dispatch adds to.
  double job_ns = seconds[0] / jobs * 1e9;
  std::printf("\nplugin dispatch alone (9 events per job, %d jobs):\n", iterations);
  std::printf("%-10s %12s %22s\n", "plugins", "ns/job", "share of a job's time");
  for (int c = 0; c < 3; c++)
    std::printf("%-10d %12.0f %21.3f%%\n", kConfigs[c], ns[c], ns[c] / job_ns * 100);

  for (const auto& p : paths) std::filesystem::remove(p);
  rmdir(dir);
  return 0;
}
