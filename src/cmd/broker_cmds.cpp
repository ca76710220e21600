// `cairn ping`, `cairn dmesg`, `cairn keygen` and the debugging command `cairn rpc`: the broker's
// own services seen from the command line, and CURVE certificates for tcp:// brokers. Every
// broker command connects through libclient and prints failures as `cairn: <what>: <why>`.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cmd/commands.hpp"
#include "cmd/common.hpp"
#include "libclient/client.hpp"
#include "libmsg/curve_cert.hpp"

namespace cairn::cmd {
namespace {

using client::Client;
using client::Response;

// `broker.ping` with a payload of `size` bytes, `count` times; checks each echo.
int ping(int count, size_t size) {
  auto c = connect_or_fail();
  if (!c) return 1;
  std::string payload(size, '\0');
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
  for (int seq = 0; seq < count; ++seq) {
    auto t0 = std::chrono::steady_clock::now();
    Response r = c->rpc("broker.ping", payload);
    auto t1 = std::chrono::steady_clock::now();
    if (!r.ok()) return fail_response("broker.ping", r);
    if (r.payload != payload)
      return fail("broker.ping",
                  fmt::format("the reply differs from the request ({} bytes sent, {} received)",
                              payload.size(), r.payload.size()));
    double us = std::chrono::duration<double, std::micro>(t1 - t0).count();
    fmt::print("broker.ping: time={:.1f} µs\n", us);
    std::fflush(stdout);
  }
  return 0;
}

// `2026-11-25T16:30:00.123456Z` for a unix time in seconds.
std::string iso8601(double t) {
  double whole = std::floor(t);
  auto usec = static_cast<long>(std::lround((t - whole) * 1e6));
  if (usec >= 1000000) {
    whole += 1;
    usec -= 1000000;
  }
  std::time_t secs = static_cast<std::time_t>(whole);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", tm, usec);
}

int dmesg() {
  auto c = connect_or_fail();
  if (!c) return 1;
  Response r = c->rpc("broker.dmesg");
  if (!r.ok()) return fail_response("broker.dmesg", r);
  try {
    auto doc = nlohmann::json::parse(r.payload);
    for (const auto& e : doc.at("entries")) {
      fmt::print("{} {}: {}\n", iso8601(e.at("time").get<double>()),
                 e.at("level").get<std::string>(), e.at("text").get<std::string>());
    }
  } catch (const nlohmann::json::exception& e) {
    return fail("broker.dmesg", fmt::format("malformed reply from the broker: {}", e.what()));
  }
  return 0;
}

bool exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

int keygen(const std::string& path, bool force) {
  const std::string secret_path = path + "_secret";
  if (!force) {
    for (const std::string& p : {path, secret_path})
      if (exists(p)) return fail(p, "file exists: use --force to overwrite it");
  }
  auto cert = msg::new_curve_cert();
  if (!cert) return fail("keygen", cert.error().text);
  // The secret file is created with mode 0600 (no window where others may read it).
  if (force) std::remove(secret_path.c_str());
  auto saved = msg::save_curve_secret(*cert, secret_path);
  const std::string* bad = saved ? nullptr : &secret_path;
  if (saved) {
    saved = msg::save_curve_public(*cert, path);
    if (!saved) bad = &path;
  }
  if (bad) {
    return fail(
        *bad, fmt::format("cannot write the certificate: {}", std::strerror(saved.error().errnum)));
  }
  const std::string& key = cert->public_text;
  fmt::print("{}\n", key);
  return 0;
}

int rpc(const std::string& topic, const std::string& payload) {
  auto c = connect_or_fail();
  if (!c) return 1;
  Response r = c->rpc(topic, payload);
  if (!r.ok()) return fail_response(topic, r);
  std::fwrite(r.payload.data(), 1, r.payload.size(), stdout);
  return 0;
}

}  // namespace

void add_broker(CLI::App& app, int& status) {
  auto* ping_cmd = app.add_subcommand("ping", "Send broker.ping and print each round trip");
  auto count = std::make_shared<int>(1);
  auto size = std::make_shared<size_t>(0);
  ping_cmd->add_option("-c,--count", *count, "number of pings (default 1)")
      ->check(at_least(1, std::numeric_limits<int>::max()));
  ping_cmd->add_option("-s,--payload-size", *size, "bytes of payload per ping (default 0)")
      ->check(in_range(0, 1LL << 30));
  ping_cmd->callback([&status, count, size] { status = ping(*count, *size); });

  auto* dmesg_cmd = app.add_subcommand("dmesg", "Print the broker's log ring, oldest first");
  dmesg_cmd->callback([&status] { status = dmesg(); });

  auto* keygen_cmd =
      app.add_subcommand("keygen", "Write a CURVE certificate pair PATH and PATH_secret");
  auto path = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  keygen_cmd->add_option("PATH", *path, "public certificate file (secret: PATH_secret)")
      ->required();
  keygen_cmd->add_flag("-f,--force", *force, "overwrite existing files");
  keygen_cmd->callback([&status, path, force] { status = keygen(*path, *force); });

  auto* rpc_cmd = app.add_subcommand(
      "rpc", "Debugging: send one request TOPIC with PAYLOAD and print the reply payload");
  auto topic = std::make_shared<std::string>();
  auto payload = std::make_shared<std::string>();
  rpc_cmd->add_option("TOPIC", *topic, "service topic, e.g. broker.ping")->required();
  rpc_cmd->add_option("PAYLOAD", *payload, "request payload (default empty)");
  rpc_cmd->callback([&status, topic, payload] { status = rpc(*topic, *payload); });
}

}  // namespace cairn::cmd
