// content-bench --backing rados|s3|files: a shared backing store through a broker, against the
// store's own client library at the same depth, and the broker's warm cache against SQLite's
// (README.md, Benchmarks). content_bench.cpp's main() adds these options and hands over when
// --backing (or the internal --backing-client) is given; without them nothing here runs.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>
#include <vector>

namespace cairn::bench {

struct BackingBench {
  std::string backing;  // rados, s3 or files; empty: content-bench's default benchmark
  std::string rados_conf, rados_pool;                  // default $CEPH_CONF, $CEPH_POOL
  std::string s3_endpoint, s3_bucket, s3_credentials;  // default $S3_ENDPOINT, ...
  std::string files_dir;  // default: a fresh directory under $TMPDIR, removed at the end
  std::vector<std::string> broker_options;  // --broker-option KEY=VALUE, after ours
  bool client = false;  // internal: run the workload inside a broker (see backing_client_main)
  std::string salt;     // internal: makes the blobs of one run distinct from every other's
};

// The workload's shape, shared with content-bench's own options.
struct Workload {
  size_t count = 0;
  size_t size = 0;
  size_t depth = 0;
  int repeat = 0;
};

// Adds --backing, the backings' options, --broker-option and the internal ones to `app`.
void add_backing_options(CLI::App& app, BackingBench& b);

// The median of v (the mean of the middle two for an even count); NaN for none.
double median(std::vector<double> v);

// The benchmark: `cairn` is the cairn command, `self` this program (the brokers' client).
// Returns the exit status.
int backing_bench_main(const BackingBench& b, const Workload& w, const std::string& cairn,
                       const std::string& self);

// Inside a broker ($CAIRN_URI): stores the run's blobs pipelined at the depth, flushes, drops
// the cache, loads them (cold) and loads them again (warm); prints one JSON line of timings.
int backing_client_main(const BackingBench& b, const Workload& w);

}  // namespace cairn::bench
