// content-bench --backing rados|s3|files (see content_bench_backing.hpp and README.md).
//
// Each run (of --repeat) measures three things, in an order reversed from one run to the next
// so that a drift of the machine's speed hits both sides of each comparison alike:
//   - the raw client library: N objects written with `depth` in flight, then read back at the
//     same depth (librados aio; libs3 blocking calls from `depth` threads; files written
//     temp + fsync + rename + directory fsync from `depth` threads, then read);
//   - a broker with content.backing = <backing>: its client stores the N blobs pipelined at the
//     depth and asks content.flush (flush: blobs/s from the first store to the flush's reply),
//     content.dropcache, loads the N blobs (cold: each is read from the backing store), and
//     loads them again (warm: from memory; as many times over as makes 200,000 loads);
//   - the same with content.backing = sqlite, for the warm loads' baseline.
// The broker writes back and reads with the same concurrency as the raw side: its client keeps
// `depth` requests in flight, and content.flush-batch-limit (and files.threads, s3.threads) is
// set to `depth`. Every run's blobs are distinct from every other run's (a salt in each blob),
// so nothing is ever found already written; what a run wrote is removed after it (untimed).
#include "content_bench_backing.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config.h"  // HAVE_RADOS, HAVE_S3
#include "libclient/client.hpp"
#include "libtest/temp_dir.hpp"
#include "libutil/blobref.hpp"
#include "libutil/fd.hpp"
#include "libutil/file.hpp"
#include "libutil/process.hpp"
#include "libutil/result.hpp"

#if HAVE_RADOS
#include <rados/librados.h>
#endif
#if HAVE_S3
#include <libs3.h>

#include "modules/content-s3/s3_backing.hpp"
#include "modules/content-s3/s3_call.hpp"
#endif

namespace cairn::bench {

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

namespace {

using Clock = std::chrono::steady_clock;
using util::Error;
using util::Status;

constexpr size_t kTagSize = 32;  // each blob starts with "<salt:16 hex><index:16 hex>"

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void progress(const std::string& text) { std::cerr << "content-bench: " << text << std::endl; }

Error sys_error(int errnum, const std::string& what) {
  return Error{errnum, fmt::format("{}: {}", what, std::strerror(errnum))};
}

// The N blobs of one run and their names (blobrefs: the broker's object and file names).
struct Blobs {
  std::vector<std::string> data;
  std::vector<std::string> names;
};

// The blob i of the run `salt`: its tag, then filler up to `size` bytes.
std::string make_blob(const std::string& salt, size_t i, size_t size) {
  std::string s(size, 'x');
  std::string tag = fmt::format("{:0>16.16}{:016x}", salt, i);
  std::memcpy(s.data(), tag.data(), std::min(size, tag.size()));
  return s;
}

util::HashType broker_hash(const std::vector<std::string>& broker_options) {
  util::HashType h = util::HashType::kSha1;
  for (const auto& o : broker_options)
    if (o.rfind("content.hash=", 0) == 0)
      h = util::hash_type_from_name(o.substr(13)).value_or(util::HashType::kSha1);
  return h;
}

Blobs make_blobs(const std::string& salt, const Workload& w, util::HashType hash,
                 bool with_data = true) {
  Blobs b;
  b.names.reserve(w.count);
  if (with_data) b.data.reserve(w.count);
  for (size_t i = 0; i < w.count; i++) {
    std::string blob = make_blob(salt, i, w.size);
    b.names.push_back(util::blobref_hash(hash, blob));
    if (with_data) b.data.push_back(std::move(blob));
  }
  return b;
}

// Runs fn(i) for i in [0, n) on `threads` threads; the first failure, if any.
Status parallel_for(size_t n, size_t threads, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex m;
  Error first;
  std::vector<std::thread> pool;
  for (size_t t = 0; t < std::min(threads, n); t++) {
    pool.emplace_back([&] {
      for (size_t i; !failed && (i = next++) < n;) {
        Status st = fn(i);
        if (!st) {
          std::lock_guard lock(m);
          if (!failed.exchange(true)) first = st.error();
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  if (failed) return first;
  return {};
}

// One comparison across runs: each side's blobs/s, and each run's ratio cairn/baseline.
struct Series {
  std::vector<double> base, cairn, ratio;
  void add(double b, double c) {
    base.push_back(b);
    cairn.push_back(c);
    ratio.push_back(c / b);
  }
  static std::string range(const std::vector<double>& v, const char* f) {
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return fmt::format(fmt::runtime(f), *lo) + "-" + fmt::format(fmt::runtime(f), *hi);
  }
  static std::string rate(const std::vector<double>& v) {
    return fmt::format("{:>8.0f} /s {:<15}", median(v), "[" + range(v, "{:.0f}") + "]");
  }
  std::string line(const std::string& what, const std::string& base_name,
                   const std::string& cairn_name, double target) const {
    return fmt::format("{:<10} {:<12} {}  {:<12} {}  ratio {:.3f}x [{}] (target >= {})", what,
                       base_name, rate(base), cairn_name, rate(cairn), median(ratio),
                       range(ratio, "{:.2f}"), target);
  }
};

// ---- the raw client libraries ----------------------------------------------------------------

// One backing store reached directly. A run's objects are told apart by `run` (files: a
// directory of its own; RADOS and S3: the blobs' salt makes their names distinct).
class RawStore {
 public:
  virtual ~RawStore() = default;
  virtual std::string name() const = 0;  // e.g. "raw librados"
  // The broker's -o options to use this store for the run `run`.
  virtual std::vector<std::string> broker_keys(const std::string& run, size_t depth) = 0;
  virtual Status write(const std::string& run, const Blobs& b, size_t depth) = 0;
  // Reads every blob of `b` (whose sizes are known, as a client holding names and sizes would
  // know them) into out.
  virtual Status read(const std::string& run, const Blobs& b, size_t depth,
                      std::vector<std::string>& out) = 0;
  // Removes what the run `run` wrote (raw or broker), its names in `names`. Best effort.
  virtual void clean(const std::string& run, const std::vector<std::string>& names,
                     size_t depth) = 0;
};

// ---- files

using util::fsync_dir;
using util::make_dir;
using util::write_all;

class RawFiles : public RawStore {
 public:
  // `root` is files.dir's parent: each run gets <root>/<run>.
  explicit RawFiles(std::string root) : root_(std::move(root)) {}
  std::string name() const override { return "raw files"; }

  std::vector<std::string> broker_keys(const std::string& run, size_t depth) override {
    std::filesystem::create_directories(dir(run));
    return {"content.backing=files", "files.dir=" + dir(run),
            fmt::format("files.threads={}", std::min<size_t>(depth, 64))};
  }

  Status write(const std::string& run, const Blobs& b, size_t depth) override {
    std::string d = dir(run);
    if (int e = make_dir(d)) return sys_error(e, "cannot create " + d);
    std::atomic<uint64_t> nonce{0};
    return parallel_for(b.names.size(), depth, [&](size_t i) -> Status {
      // The files backing store's layout: <dir>/<hash>/<2 hex>/<blobref>.
      const std::string& ref = b.names[i];
      size_t dash = ref.find('-');
      std::string hash_dir = d + "/" + ref.substr(0, dash);
      std::string fanout = hash_dir + "/" + ref.substr(dash + 1, 2);
      std::string path = fanout + "/" + ref;
      std::string tmp = fmt::format("{}/.tmp.{}.{}", fanout, ref, nonce++);
      util::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      if (!fd && errno == ENOENT) {
        if (int e = make_dir(hash_dir)) return sys_error(e, "cannot create " + hash_dir);
        if (int e = make_dir(fanout)) return sys_error(e, "cannot create " + fanout);
        fd.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      }
      if (!fd) return sys_error(errno, "cannot create " + tmp);
      if (int e = write_all(fd.get(), b.data[i])) return sys_error(e, "cannot write " + tmp);
      if (::fsync(fd.get()) < 0) return sys_error(errno, "cannot fsync " + tmp);
      if (::close(fd.release()) < 0) return sys_error(errno, "cannot close " + tmp);
      if (::rename(tmp.c_str(), path.c_str()) < 0) return sys_error(errno, "cannot rename " + tmp);
      if (int e = fsync_dir(fanout)) return sys_error(e, "cannot fsync " + fanout);
      return {};
    });
  }

  Status read(const std::string& run, const Blobs& b, size_t depth,
              std::vector<std::string>& out) override {
    std::string d = dir(run);
    out.assign(b.names.size(), {});
    return parallel_for(b.names.size(), depth, [&](size_t i) -> Status {
      const std::string& ref = b.names[i];
      size_t dash = ref.find('-');
      std::string path =
          fmt::format("{}/{}/{}/{}", d, ref.substr(0, dash), ref.substr(dash + 1, 2), ref);
      util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) return sys_error(errno, "cannot open " + path);
      std::string& data = out[i];
      data.resize(b.data[i].size());
      size_t have = 0;
      while (have < data.size()) {
        ssize_t n = ::read(fd.get(), data.data() + have, data.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys_error(errno, "cannot read " + path);
        if (n == 0) return Error{EIO, "short read of " + path};
        have += static_cast<size_t>(n);
      }
      return {};
    });
  }

  void clean(const std::string& run, const std::vector<std::string>&, size_t) override {
    std::error_code ec;
    std::filesystem::remove_all(dir(run), ec);
  }

 private:
  std::string dir(const std::string& run) const { return root_ + "/" + run; }
  std::string root_;
};

// ---- librados

#if HAVE_RADOS
class RawRados : public RawStore {
 public:
  static util::Result<std::unique_ptr<RawRados>> connect(const std::string& conf,
                                                         const std::string& pool) {
    std::unique_ptr<RawRados> r(new RawRados(conf, pool));
    int e = rados_create2(&r->cluster_, "ceph", "client.admin", 0);
    if (e < 0) return sys_error(-e, "rados_create2");
    e = rados_conf_read_file(r->cluster_, conf.c_str());
    if (e < 0) return sys_error(-e, "cannot read " + conf);
    e = rados_connect(r->cluster_);
    if (e < 0) return sys_error(-e, "cannot connect to the cluster of " + conf);
    e = rados_ioctx_create(r->cluster_, pool.c_str(), &r->io_);
    if (e < 0) return sys_error(-e, "cannot open the pool " + pool);
    return r;
  }
  ~RawRados() override {
    if (io_) rados_ioctx_destroy(io_);
    if (cluster_) rados_shutdown(cluster_);
  }
  std::string name() const override { return "raw librados"; }

  std::vector<std::string> broker_keys(const std::string&, size_t) override {
    return {"content.backing=rados", "rados.pool=" + pool_, "rados.conf=" + conf_};
  }

  Status write(const std::string&, const Blobs& b, size_t depth) override {
    return pipeline(b.names, depth, [&](size_t i, rados_completion_t c) {
      return rados_aio_write_full(io_, b.names[i].c_str(), c, b.data[i].data(), b.data[i].size());
    });
  }

  Status read(const std::string&, const Blobs& b, size_t depth,
              std::vector<std::string>& out) override {
    out.assign(b.names.size(), {});
    for (size_t i = 0; i < out.size(); i++) out[i].resize(b.data[i].size());
    return pipeline(b.names, depth, [&](size_t i, rados_completion_t c) {
      return rados_aio_read(io_, b.names[i].c_str(), c, out[i].data(), out[i].size(), 0);
    });
  }

  void clean(const std::string&, const std::vector<std::string>& names, size_t depth) override {
    (void)pipeline(names, depth, [&](size_t i, rados_completion_t c) {
      return rados_aio_remove(io_, names[i].c_str(), c);
    });
  }

 private:
  RawRados(std::string conf, std::string pool) : conf_(std::move(conf)), pool_(std::move(pool)) {}

  // Starts start(i, completion) for each name with at most `depth` in flight; a completion's
  // callback frees a slot. Fails with the first negative result.
  Status pipeline(const std::vector<std::string>& names, size_t depth,
                  const std::function<int(size_t, rados_completion_t)>& start) {
    struct Shared {
      std::mutex m;
      std::condition_variable cv;
      size_t in_flight = 0;
      int error = 0;
      size_t error_index = 0;
    } sh;
    struct Op {
      Shared* sh;
      size_t i;
      rados_completion_t c = nullptr;
    };
    std::vector<Op> ops(names.size());
    auto on_complete = [](rados_completion_t c, void* arg) {
      auto* op = static_cast<Op*>(arg);
      int r = rados_aio_get_return_value(c);
      std::lock_guard lock(op->sh->m);
      if (r < 0 && op->sh->error == 0) {
        op->sh->error = r;
        op->sh->error_index = op->i;
      }
      op->sh->in_flight--;
      op->sh->cv.notify_one();
    };
    size_t started = 0;
    for (size_t i = 0; i < names.size(); i++) {
      {
        std::unique_lock lock(sh.m);
        sh.cv.wait(lock, [&] { return sh.in_flight < depth; });
        if (sh.error) break;
        sh.in_flight++;
      }
      ops[i] = {&sh, i, nullptr};
      int r = rados_aio_create_completion2(&ops[i], on_complete, &ops[i].c);
      if (r == 0) r = start(i, ops[i].c);
      if (r < 0) {
        std::lock_guard lock(sh.m);
        sh.in_flight--;
        if (sh.error == 0) {
          sh.error = r;
          sh.error_index = i;
        }
        break;
      }
      started = i + 1;
    }
    {
      std::unique_lock lock(sh.m);
      sh.cv.wait(lock, [&] { return sh.in_flight == 0; });
    }
    for (auto& op : ops)
      if (op.c) rados_aio_release(op.c);
    (void)started;
    if (sh.error)
      return sys_error(-sh.error, fmt::format("librados, object {}", names[sh.error_index]));
    return {};
  }

  std::string conf_, pool_;
  rados_t cluster_ = nullptr;
  rados_ioctx_t io_ = nullptr;
};
#endif

// ---- libs3

#if HAVE_S3
// The raw side's calls block (no request context): the whole of libs3, as an application uses
// it. Their callbacks are the backing store's own (S3Call).
Status s3_result(const content::S3Call& call, const std::string& what) {
  if (!call.failed()) return {};
  return Error{EIO, fmt::format("s3 {}: {}{}{}", what, S3_get_status_name(call.status),
                                call.message.empty() ? "" : ": ", call.message)};
}

class RawS3 : public RawStore {
 public:
  static util::Result<std::unique_ptr<RawS3>> open(const std::string& endpoint,
                                                   const std::string& bucket,
                                                   const std::string& credentials) {
    auto keys = content::read_s3_credentials(credentials);
    if (!keys) return keys.error();
    static S3Status init = S3_initialize("cairn-content-bench", S3_INIT_ALL, nullptr);
    if (init != S3StatusOK)
      return Error{EIO, fmt::format("S3_initialize: {}", S3_get_status_name(init))};
    return std::unique_ptr<RawS3>(new RawS3(endpoint, bucket, credentials, *keys));
  }
  std::string name() const override { return "raw libs3"; }

  std::vector<std::string> broker_keys(const std::string&, size_t depth) override {
    return {"content.backing=s3", "s3.endpoint=" + endpoint_, "s3.bucket=" + bucket_name_,
            "s3.credentials=" + credentials_,
            fmt::format("s3.threads={}", std::min<size_t>(depth, 64))};
  }

  Status write(const std::string&, const Blobs& b, size_t depth) override {
    return parallel_for(b.names.size(), depth, [&](size_t i) -> Status {
      content::S3Call call;
      call.out = b.data[i];
      S3_put_object(&bucket_, b.names[i].c_str(), b.data[i].size(), nullptr, nullptr,
                    &content::S3Call::kPut, &call);
      return s3_result(call, "put " + b.names[i]);
    });
  }

  Status read(const std::string&, const Blobs& b, size_t depth,
              std::vector<std::string>& out) override {
    out.assign(b.names.size(), {});
    return parallel_for(b.names.size(), depth, [&](size_t i) -> Status {
      content::S3Call call;
      out[i].reserve(b.data[i].size());
      call.in = &out[i];
      S3_get_object(&bucket_, b.names[i].c_str(), nullptr, 0, 0, nullptr, &content::S3Call::kGet,
                    &call);
      return s3_result(call, "get " + b.names[i]);
    });
  }

  void clean(const std::string&, const std::vector<std::string>& names, size_t depth) override {
    (void)parallel_for(names.size(), depth, [&](size_t i) -> Status {
      content::S3Call call;
      S3_delete_object(&bucket_, names[i].c_str(), nullptr, &content::S3Call::kResponse, &call);
      return s3_result(call, "delete " + names[i]);
    });
  }

 private:
  RawS3(std::string endpoint, std::string bucket, std::string credentials,
        content::S3Credentials keys)
      : endpoint_(std::move(endpoint)),
        bucket_name_(std::move(bucket)),
        credentials_(std::move(credentials)),
        keys_(std::move(keys)) {
    bucket_.hostName = endpoint_.c_str();
    bucket_.bucketName = bucket_name_.c_str();
    bucket_.protocol = S3ProtocolHTTP;
    bucket_.uriStyle = S3UriStylePath;
    bucket_.accessKeyId = keys_.access_key.c_str();
    bucket_.secretAccessKey = keys_.secret_key.c_str();
  }

  std::string endpoint_, bucket_name_, credentials_;
  content::S3Credentials keys_;
  S3BucketContext bucket_{};
};
#endif

// ---- the brokers -----------------------------------------------------------------------------

struct BrokerRun {
  double store = 0;          // seconds from the first store to the last store's reply
  double flush = 0;          // ... to the flush's reply
  double cold = 0;           // the loads after content.dropcache
  double warm = 0;           // the same loads again
  uint64_t warm_misses = 0;  // warm loads that were not answered from memory (should be 0)
};

// Reads the child's stdout and stderr to their end.
void read_both(util::CapturedChild& c, std::string& out, std::string& err) {
  uint64_t dropped = 0;
  while (c.out || c.err) {
    pollfd fds[2] = {{c.out.get(), POLLIN, 0}, {c.err.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (c.out && fds[0].revents && util::read_capped(c.out.get(), out, 1 << 20, dropped, -1))
      c.out.reset();
    if (c.err && fds[1].revents && util::read_capped(c.err.get(), err, 1 << 20, dropped, -1))
      c.err.reset();
  }
}

std::optional<BrokerRun> run_broker(const std::string& cairn, const std::string& self,
                                    const std::vector<std::string>& opts, const std::string& salt,
                                    const Workload& w) {
  std::string statedir =
      (std::filesystem::temp_directory_path() / fmt::format("content-bench-{}-{}", getpid(), salt))
          .string();
  std::filesystem::remove_all(statedir);
  std::filesystem::create_directories(statedir);
  std::vector<std::string> argv = {cairn, "start", "--statedir", statedir};
  for (const auto& o : opts) {
    argv.push_back("-o");
    argv.push_back(o);
  }
  for (std::string a : {self, std::string("--backing-client"), std::string("--salt"), salt,
                        std::string("--count"), std::to_string(w.count), std::string("--size"),
                        std::to_string(w.size), std::string("--depth"), std::to_string(w.depth)})
    argv.push_back(a);
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  auto child = util::spawn_captured(argv);
  if (!child) {
    std::cerr << "content-bench: " << child.error().text << std::endl;
    return std::nullopt;
  }
  std::string out, err;
  read_both(*child, out, err);
  int status = 0;
  while (::waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::filesystem::remove_all(statedir);
  if (status != 0) {
    std::cerr << "content-bench: `" << cmd << "` " << util::describe_wait_status(status) << ":\n"
              << err << std::flush;
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::cerr << "content-bench: `" << cmd << "` printed no result:\n" << out << err << std::flush;
    return std::nullopt;
  }
  return BrokerRun{j.value("store", 0.0), j.value("flush", 0.0), j.value("cold", 0.0),
                   j.value("warm", 0.0), j.value("warm-misses", uint64_t{0})};
}

// Warm loads per measurement, at least (the N blobs are loaded again until there are as many).
constexpr size_t kMinWarmLoads = 200000;

// Sends `payloads` on `topic` with `depth` in flight; each reply must succeed. Replies go to
// (*replies)[i] in the order of the payloads.
Status pipelined(client::Client& c, const char* topic, const std::vector<std::string>& payloads,
                 size_t depth, std::vector<std::string>* replies) {
  std::unordered_map<uint32_t, size_t> in_flight;
  if (replies) replies->assign(payloads.size(), {});
  size_t sent = 0, done = 0;
  while (done < payloads.size()) {
    while (sent < payloads.size() && in_flight.size() < depth) {
      uint32_t tag = c.send(topic, payloads[sent]);
      if (tag == 0) return sys_error(errno, fmt::format("cannot send {}", topic));
      in_flight[tag] = sent++;
    }
    client::Response r = c.recv();
    auto it = in_flight.find(r.matchtag);
    if (!r.ok()) return Error{r.errnum, fmt::format("{}: {}", topic, r.error_text())};
    if (it == in_flight.end()) return Error{EPROTO, fmt::format("{}: unexpected reply", topic)};
    if (replies) (*replies)[it->second] = std::move(r.payload);
    in_flight.erase(it);
    done++;
  }
  return {};
}

uint64_t load_misses(client::Client& c) {
  auto r = c.rpc("content.stats-get");
  if (!r.ok()) return 0;
  auto j = nlohmann::json::parse(r.payload, nullptr, false);
  return j.is_object() ? j.value("load-misses", uint64_t{0}) : 0;
}

std::string env_or(const std::string& value, const char* var) {
  if (!value.empty()) return value;
  const char* v = std::getenv(var);
  return v ? v : "";
}

}  // namespace

void add_backing_options(CLI::App& app, BackingBench& b) {
  app.add_option("--backing", b.backing,
                 "benchmark this shared backing store instead: flush and cold loads through a "
                 "broker against its raw client library, warm loads against a SQLite broker")
      ->check(CLI::IsMember({"rados", "s3", "files"}));
  app.add_option("--rados-conf", b.rados_conf, "--backing rados: ceph.conf (default $CEPH_CONF)");
  app.add_option("--rados-pool", b.rados_pool, "--backing rados: pool (default $CEPH_POOL)");
  app.add_option("--s3-endpoint", b.s3_endpoint,
                 "--backing s3: HOST:PORT, plain HTTP (default $S3_ENDPOINT)");
  app.add_option("--s3-bucket", b.s3_bucket, "--backing s3: bucket (default $S3_BUCKET)");
  app.add_option("--s3-credentials", b.s3_credentials,
                 "--backing s3: file of access_key=, secret_key= (default $S3_CREDENTIALS)");
  app.add_option("--files-dir", b.files_dir,
                 "--backing files: directory to write in (default: a new one in $TMPDIR, "
                 "removed at the end)");
  app.add_option("--broker-option", b.broker_options,
                 "--backing: one more KEY=VALUE for both brokers (after the bench's own)");
  app.add_flag("--backing-client", b.client, "internal: the --backing workload in a broker");
  app.add_option("--salt", b.salt, "internal: the run's salt");
}

int backing_client_main(const BackingBench& b, const Workload& w) {
  auto c = client::Client::connect();
  if (!c) {
    std::cerr << "content-bench: " << c.error().text << std::endl;
    return 1;
  }
  c->set_timeout(std::chrono::minutes(30));  // a flush of many large blobs may take long
  std::vector<std::string> blobs;
  blobs.reserve(w.count);
  for (size_t i = 0; i < w.count; i++) blobs.push_back(make_blob(b.salt, i, w.size));
  auto fail = [](const Error& e) {
    std::cerr << "content-bench: " << e.text << std::endl;
    return 1;
  };

  BrokerRun run;
  std::vector<std::string> refs;
  auto t0 = Clock::now();
  if (auto st = pipelined(*c, "content.store", blobs, w.depth, &refs); !st) return fail(st.error());
  run.store = seconds_since(t0);
  if (auto f = c->rpc("content.flush"); !f.ok())
    return fail({f.errnum, "content.flush: " + f.error_text()});
  run.flush = seconds_since(t0);

  if (auto d = c->rpc("content.dropcache"); !d.ok())
    return fail({d.errnum, "content.dropcache: " + d.error_text()});
  std::vector<std::string> loaded;
  t0 = Clock::now();
  if (auto st = pipelined(*c, "content.load", refs, w.depth, &loaded); !st) return fail(st.error());
  run.cold = seconds_since(t0);
  if (loaded != blobs) return fail({EIO, "cold loads: the blobs differ from those stored"});

  // Warm loads take about 10 µs each: the N blobs are loaded as many times as it takes to make
  // kMinWarmLoads loads, so that one measurement is not a tenth of a second of a busy machine.
  uint64_t misses = load_misses(*c);
  size_t passes =
      std::max<size_t>(1, (kMinWarmLoads + refs.size() - 1) / std::max<size_t>(1, refs.size()));
  double warm = 0;
  for (size_t p = 0; p < passes; p++) {
    t0 = Clock::now();
    if (auto st = pipelined(*c, "content.load", refs, w.depth, &loaded); !st)
      return fail(st.error());
    warm += seconds_since(t0);
    if (loaded != blobs) return fail({EIO, "warm loads: the blobs differ from those stored"});
  }
  run.warm = warm / static_cast<double>(passes);  // seconds per N loads, as for the others
  run.warm_misses = load_misses(*c) - misses;

  nlohmann::json j = {{"store", run.store},
                      {"flush", run.flush},
                      {"cold", run.cold},
                      {"warm", run.warm},
                      {"warm-misses", run.warm_misses}};
  std::cout << j.dump() << std::endl;
  return 0;
}

int backing_bench_main(const BackingBench& b, const Workload& w, const std::string& cairn,
                       const std::string& self) {
  if (w.size < kTagSize) {
    std::cerr << "content-bench: --backing needs --size " << kTagSize
              << " or more (each blob starts with a tag that makes it unique)" << std::endl;
    return 2;
  }
  std::unique_ptr<RawStore> raw;
  std::optional<test::TempDir> tmp;  // where the files go without --files-dir
  std::string where;
  if (b.backing == "files") {
    std::string dir = b.files_dir;
    if (dir.empty()) {
      try {
        tmp.emplace("content-bench-files");
      } catch (const std::runtime_error& e) {
        std::cerr << "content-bench: " << e.what() << std::endl;
        return 1;
      }
      dir = tmp->path();
    }
    dir = std::filesystem::absolute(dir).string();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      std::cerr << "content-bench: --files-dir " << dir << ": not a directory" << std::endl;
      return 1;
    }
    raw = std::make_unique<RawFiles>(dir);
    where = "directory " + dir;
  } else if (b.backing == "rados") {
#if HAVE_RADOS
    std::string conf = env_or(b.rados_conf, "CEPH_CONF"), pool = env_or(b.rados_pool, "CEPH_POOL");
    if (conf.empty() || pool.empty()) {
      std::cerr << "content-bench: --backing rados needs --rados-conf and --rados-pool (or "
                   "$CEPH_CONF and $CEPH_POOL)"
                << std::endl;
      return 2;
    }
    auto r = RawRados::connect(conf, pool);
    if (!r) {
      std::cerr << "content-bench: " << r.error().text << std::endl;
      return 1;
    }
    raw = std::move(r).value();
    where = "pool " + pool + " of " + conf;
#else
    std::cerr << "content-bench: built without librados (configure --without-rados)" << std::endl;
    return 1;
#endif
  } else if (b.backing == "s3") {
#if HAVE_S3
    std::string endpoint = env_or(b.s3_endpoint, "S3_ENDPOINT"),
                bucket = env_or(b.s3_bucket, "S3_BUCKET"),
                creds = env_or(b.s3_credentials, "S3_CREDENTIALS");
    if (endpoint.empty() || bucket.empty() || creds.empty()) {
      std::cerr << "content-bench: --backing s3 needs --s3-endpoint, --s3-bucket and "
                   "--s3-credentials (or $S3_ENDPOINT, $S3_BUCKET and $S3_CREDENTIALS)"
                << std::endl;
      return 2;
    }
    auto r = RawS3::open(endpoint, bucket, creds);
    if (!r) {
      std::cerr << "content-bench: " << r.error().text << std::endl;
      return 1;
    }
    raw = std::move(r).value();
    where = "bucket " + bucket + " at " + endpoint;
#else
    std::cerr << "content-bench: built without libs3 (configure --without-s3)" << std::endl;
    return 1;
#endif
  }

  // What both brokers get besides their backing: telemetry off (as content-bench's default
  // "broker" run), the write-back's concurrency at the depth, and no purge (so that "warm"
  // means in memory however long a run takes).
  std::vector<std::string> common = {
      "stats.endpoint=", fmt::format("content.flush-batch-limit={}", w.depth),
      "content.purge-target-size=1125899906842624"};
  util::HashType hash = broker_hash(b.broker_options);
  auto broker_opts = [&](std::vector<std::string> keys) {
    keys.insert(keys.end(), common.begin(), common.end());
    keys.insert(keys.end(), b.broker_options.begin(), b.broker_options.end());
    return keys;
  };
  std::string label = "cairn " + b.backing;

  uint64_t base = 0;
  if (getrandom(&base, sizeof base, 0) != static_cast<ssize_t>(sizeof base))
    base = static_cast<uint64_t>(getpid()) << 32 ^ static_cast<uint64_t>(time(nullptr));
  base &= 0xffffffffffff0000ull;

  std::cout << fmt::format(
      "content-bench --backing {} ({}): {} blobs of {} bytes, {} in flight, {} runs; figures "
      "are medians [ranges], each ratio the median [range] of the runs' ratios\n",
      b.backing, where, w.count, w.size, w.depth, w.repeat);
  {
    std::string shown;
    for (const auto& o : broker_opts(raw->broker_keys("RUN", w.depth))) shown += " -o " + o;
    raw->clean("RUN", {}, w.depth);
    std::cout << "brokers: cairn start" << shown << " (and content.backing=sqlite)\n";
  }
  std::cout << std::flush;

  Series flush, cold, warm, sqlite_flush_cold;
  std::vector<double> store_rate;
  uint64_t warm_misses = 0;
  for (int r = 0; r < w.repeat; r++) {
    std::string run_raw = fmt::format("{:016x}", base + 3 * r);
    std::string run_backing = fmt::format("{:016x}", base + 3 * r + 1);
    std::string run_sqlite = fmt::format("{:016x}", base + 3 * r + 2);
    double raw_write = 0, raw_read = 0;
    std::optional<BrokerRun> mine, lite;

    auto do_raw = [&]() -> bool {
      progress(fmt::format("{}, run {}/{}", raw->name(), r + 1, w.repeat));
      Blobs blobs = make_blobs(run_raw, w, hash);
      auto t0 = Clock::now();
      Status st = raw->write(run_raw, blobs, w.depth);
      raw_write = seconds_since(t0);
      std::vector<std::string> back;
      if (st) {
        t0 = Clock::now();
        st = raw->read(run_raw, blobs, w.depth, back);
        raw_read = seconds_since(t0);
      }
      if (st && back != blobs.data)
        st = Error{EIO, "the blobs read back differ from those written"};
      raw->clean(run_raw, blobs.names, w.depth);
      if (!st)
        std::cerr << "content-bench: " << raw->name() << ": " << st.error().text << std::endl;
      return st.ok();
    };
    auto do_backing = [&]() -> bool {
      progress(fmt::format("{}, run {}/{}", label, r + 1, w.repeat));
      mine = run_broker(cairn, self, broker_opts(raw->broker_keys(run_backing, w.depth)),
                        run_backing, w);
      raw->clean(run_backing, make_blobs(run_backing, w, hash, false).names, w.depth);
      return mine.has_value();
    };
    auto do_sqlite = [&]() -> bool {
      progress(fmt::format("cairn sqlite, run {}/{}", r + 1, w.repeat));
      lite = run_broker(cairn, self, broker_opts({"content.backing=sqlite"}), run_sqlite, w);
      return lite.has_value();
    };
    bool ok = r % 2 == 0 ? do_raw() && do_backing() && do_sqlite()
                         : do_sqlite() && do_backing() && do_raw();
    if (!ok) return 1;
    double n = static_cast<double>(w.count);
    flush.add(n / raw_write, n / mine->flush);
    cold.add(n / raw_read, n / mine->cold);
    warm.add(n / lite->warm, n / mine->warm);
    sqlite_flush_cold.add(n / lite->flush, n / lite->cold);
    store_rate.push_back(n / mine->store);
    warm_misses += mine->warm_misses + lite->warm_misses;
  }

  std::cout << flush.line("flush", raw->name(), label, 0.8) << "\n";
  std::cout << cold.line("cold load", raw->name(), label, 0.8) << "\n";
  std::cout << warm.line("warm load", "cairn sqlite", label, 0.95) << "\n";
  std::cout << fmt::format("{}: stores answered at {} before the flush\n", label,
                           Series::rate(store_rate));
  std::cout << fmt::format("cairn sqlite: flush {} cold load {}\n",
                           Series::rate(sqlite_flush_cold.base),
                           Series::rate(sqlite_flush_cold.cairn));
  if (warm_misses > 0)
    std::cout << fmt::format("note: {} warm loads were not answered from memory\n", warm_misses);
  return 0;
}

}  // namespace cairn::bench
