// Interoperability with real statsd servers: Etsy statsd (node) and collectd's statsd plugin,
// each started on 127.0.0.1 on free ports with its own config in a temp dir. libstats sends a
// counter, a negative gauge, a gauge delta and timer samples; the test reads back what the
// server recorded (Etsy: the management port; collectd: its csv plugin's files).
// A missing peer skips its test with the reason, except under CI=true where it fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "libstats/stats.hpp"
#include "libtest/loopback.hpp"
#include "libtest/temp_dir.hpp"

extern char** environ;

namespace cairn::stats {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Polls cond every 20 ms until it holds or `seconds` pass; returns cond().
template <typename F>
bool wait_for(double seconds, F&& cond) {
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!cond()) {
    if (Clock::now() > deadline) return cond();
    ::poll(nullptr, 0, 20);
  }
  return true;
}

bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using test::TempDir;

// A child process with stdout and stderr in `log`; terminated (then killed) on destruction.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const fs::path& log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Process() {
    if (!running()) return;
    ::kill(pid_, SIGTERM);
    if (!wait_for(5, [this] { return !running(); })) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }

 private:
  pid_t pid_ = -1;
};

// Sends `cmd` to Etsy statsd's management port and returns the answer up to "END", or "".
std::string mgmt_command(int port, const std::string& cmd) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = cairn::test::loopback_addr(port);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    std::string line = cmd + "\n";
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size())) {
      auto deadline = Clock::now() + std::chrono::seconds(5);
      while (out.find("END\n") == std::string::npos && Clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  return out.find("END\n") == std::string::npos ? "" : out;
}

// The text after `'key': ` in util.inspect output (a number or a [ list ]), or nullopt.
std::optional<std::string> inspect_value(const std::string& dump, const std::string& key) {
  std::string needle = "'" + key + "': ";
  size_t at = dump.find(needle);
  if (at == std::string::npos) return std::nullopt;
  at += needle.size();
  size_t end = dump[at] == '[' ? dump.find(']', at) + 1 : dump.find_first_of(",\n}", at);
  std::string v = dump.substr(at, end - at);
  // Normalise whitespace so multi-line lists compare as one line.
  std::string norm;
  for (char c : v) {
    if (c == '\n' || c == ' ') {
      if (!norm.empty() && norm.back() != ' ') norm += ' ';
    } else {
      norm += c;
    }
  }
  while (!norm.empty() && norm.back() == ' ') norm.pop_back();
  return norm;
}

void skip_or_fail(const std::string& why) {
  if (under_ci()) {
    FAIL() << why << " (CI=true: peers are required; run .ci/install-deps)";
  } else {
    GTEST_SKIP() << why;
  }
}

// What every peer gets: a counter (two flushes, 2 then 3), a negative gauge then a +2 delta,
// and timer samples.
void send_metrics(int port, const std::vector<double>& samples) {
  reactor::Loop loop;
  Options o;
  o.endpoint = "127.0.0.1:" + std::to_string(port);
  Stats stats(loop, o);
  ASSERT_TRUE(stats.enabled());
  auto ctx = stats.context("cairn.peer", 1);
  ctx->count("jobs", 2);
  ctx->gauge_set("level", -5);
  for (double ms : samples) ctx->timing("took", ms);
  ctx->flush();
  ctx->count("jobs", 5);
  ctx->gauge_inc("level", 2);
  ctx->flush();
  EXPECT_EQ(stats.self_counters().packets, 2u);
  EXPECT_EQ(stats.self_counters().send_errors, 0u);
}

// Sends a counter by hand until the server reports it, proving both ports are up.
void probe(int port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = cairn::test::loopback_addr(port);
  const char line[] = "cairn.probe:1|c\n";
  ::sendto(fd, line, sizeof line - 1, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  ::close(fd);
}

TEST(PeersTest, EtsyStatsdRecordsWhatLibstatsSends) {
  std::string node = env_or("NODE", "/usr/bin/node");
  std::string script = env_or("CAIRN_ETSY_STATSD", "/opt/cairn-peers/node_modules/statsd/stats.js");
  if (::access(node.c_str(), X_OK) != 0) return skip_or_fail("node not found at " + node);
  if (::access(script.c_str(), R_OK) != 0)
    return skip_or_fail("Etsy statsd not found at " + script +
                        " (npm install --prefix /opt/cairn-peers statsd@0.10.2, or set "
                        "CAIRN_ETSY_STATSD)");
  TempDir dir;
  for (int attempt = 0; attempt < 3; ++attempt) {
    int port = cairn::test::free_loopback_port(SOCK_DGRAM);
    int mgmt = cairn::test::free_loopback_port(SOCK_STREAM);
    fs::path conf = dir.file("config.js");
    std::ofstream(conf)
        << "{ port: " << port << ", address: \"127.0.0.1\", mgmt_port: " << mgmt
        << ", mgmt_address: \"127.0.0.1\", flushInterval: 3600000, backends: [] }\n";
    fs::path log = dir.file("statsd.log");
    Process server({node, script, conf.string()}, log);
    bool ready = wait_for(30, [&] {
      if (!server.running()) return true;
      probe(port);
      return inspect_value(mgmt_command(mgmt, "counters"), "cairn.probe").has_value();
    });
    if (!server.running()) continue;  // lost a port race: try other ports
    ASSERT_TRUE(ready) << "Etsy statsd did not come up within 30 s; log:\n" << read_file(log);

    send_metrics(port, {1, 2.5, 4});
    std::optional<std::string> jobs, level, took;
    wait_for(10, [&] {
      jobs = inspect_value(mgmt_command(mgmt, "counters"), "cairn.peer.jobs");
      level = inspect_value(mgmt_command(mgmt, "gauges"), "cairn.peer.level");
      took = inspect_value(mgmt_command(mgmt, "timers"), "cairn.peer.took");
      return jobs == "5" && level == "-3" && took == "[ 1, 2.5, 4 ]";
    });
    EXPECT_EQ(jobs, "5");
    EXPECT_EQ(level, "-3");
    EXPECT_EQ(took, "[ 1, 2.5, 4 ]");
    return;
  }
  FAIL() << "Etsy statsd failed to start three times (ports taken?); log in "
         << dir.file("statsd.log");
}

// The last value of a collectd csv file (DataDir/HOST/statsd/TYPE-INSTANCE-DATE) whose rows
// include `want`, or the last row seen.
std::optional<double> csv_value_seen(const fs::path& dir, const std::string& stem, double want) {
  std::optional<double> last;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(stem + "-", 0) != 0) continue;
    std::istringstream rows(read_file(e.path()));
    std::string row;
    while (std::getline(rows, row)) {
      size_t comma = row.find(',');
      if (comma == std::string::npos || row.compare(comma + 1, 3, "nan") == 0) continue;
      char* end = nullptr;
      double v = std::strtod(row.c_str() + comma + 1, &end);
      if (end == row.c_str() + comma + 1) continue;
      last = v;
      if (std::abs(v - want) < 1e-6) return v;
    }
  }
  return last;
}

TEST(PeersTest, CollectdStatsdPluginRecordsWhatLibstatsSends) {
  std::string collectd = env_or("COLLECTD", "/usr/sbin/collectd");
  if (::access(collectd.c_str(), X_OK) != 0)
    return skip_or_fail("collectd not found at " + collectd +
                        " (install the Debian package collectd-core, or set COLLECTD)");
  if (!fs::exists("/usr/lib/collectd/statsd.so") || !fs::exists("/usr/lib/collectd/csv.so"))
    return skip_or_fail("collectd's statsd or csv plugin is missing in /usr/lib/collectd");
  TempDir dir;
  for (int attempt = 0; attempt < 3; ++attempt) {
    int port = cairn::test::free_loopback_port(SOCK_DGRAM);
    fs::path csv = dir.file("csv" + std::to_string(attempt));
    fs::path conf = dir.file("collectd.conf");
    std::ofstream(conf) << "Hostname \"cairntest\"\nFQDNLookup false\n"
                        << "BaseDir \"" << dir.path() << "\"\n"
                        << "PIDFile \"" << dir.file("collectd.pid") << "\"\n"
                        << "PluginDir \"/usr/lib/collectd\"\n"
                        << "TypesDB \"/usr/share/collectd/types.db\"\n"
                        << "Interval 0.2\n"
                        << "LoadPlugin statsd\nLoadPlugin csv\n"
                        << "<Plugin statsd>\n  Host \"127.0.0.1\"\n  Port \"" << port << "\"\n"
                        << "  TimerLower true\n  TimerUpper true\n  TimerSum true\n"
                        << "  TimerCount true\n</Plugin>\n"
                        << "<Plugin csv>\n  DataDir \"" << csv.string()
                        << "\"\n  StoreRates false\n</Plugin>\n";
    fs::path log = dir.file("collectd.log");
    Process server({collectd, "-f", "-C", conf.string()}, log);
    fs::path data = csv / "cairntest" / "statsd";
    bool ready = wait_for(30, [&] {
      if (!server.running()) return true;
      probe(port);
      return csv_value_seen(data, "derive-cairn.probe", 1).has_value();
    });
    if (!server.running() || read_file(log).find("bind") != std::string::npos) continue;
    ASSERT_TRUE(ready) << "collectd did not come up within 30 s; log:\n" << read_file(log);

    // collectd keeps timer values in whole milliseconds (it truncates 2.5 to 2), so the samples
    // here are integers; Etsy's test covers a fractional one.
    send_metrics(port, {1, 2, 4});
    struct Expect {
      std::string stem;
      double value;
    };
    const std::vector<Expect> expected = {
        {"derive-cairn.peer.jobs", 5},  // the counter's running sum
        {"gauge-cairn.peer.level", -3},
        {"gauge-cairn.peer.took-count", 3},
        {"latency-cairn.peer.took-sum", 0.007},  // seconds
        {"latency-cairn.peer.took-lower", 0.001},
        {"latency-cairn.peer.took-upper", 0.004},
    };
    for (const auto& e : expected) {
      std::optional<double> got;
      wait_for(10, [&] {
        got = csv_value_seen(data, e.stem, e.value);
        return got && std::abs(*got - e.value) < 1e-6;
      });
      ASSERT_TRUE(got.has_value()) << "no csv file " << e.stem << "-* in " << data;
      EXPECT_NEAR(*got, e.value, 1e-6) << e.stem;
    }
    return;
  }
  FAIL() << "collectd failed to start three times (ports taken?)";
}

}  // namespace
}  // namespace cairn::stats
