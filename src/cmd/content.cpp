// `cairn content`: store, load, flush, dropcache and stats against the broker's content cache
// (doc/architecture.md), through libclient. Blobs pass through stdin/stdout unchanged (binary
// safe); --bulk handles one blob per line with many requests in flight on one connection.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "cmd/common.hpp"
#include "libclient/client.hpp"
#include "libutil/blobref.hpp"

namespace cairn::cmd {

namespace {

constexpr size_t kBulkWindow = 64;  // requests in flight for --bulk

std::string read_all(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool write_all(std::string_view data) {
  return std::fwrite(data.data(), 1, data.size(), stdout) == data.size();
}

// Sends one request per item with up to kBulkWindow in flight; calls on_reply(index, response)
// in item order. Returns the exit status.
int pipeline(client::Client& c, const std::string& topic, const std::vector<std::string>& items,
             const std::function<int(size_t, const client::Response&)>& on_reply) {
  std::map<uint32_t, size_t> index_of;       // match tag -> item
  std::map<size_t, client::Response> ready;  // replies waiting for earlier ones
  size_t sent = 0, next = 0;
  while (next < items.size()) {
    while (sent < items.size() && sent - next < kBulkWindow) {
      uint32_t tag = c.send(topic, items[sent]);
      if (tag == 0) return fail(topic, std::string("send: ") + std::strerror(errno));
      index_of[tag] = sent++;
    }
    client::Response r = c.recv();
    auto it = index_of.find(r.matchtag);
    if (it == index_of.end()) return fail_response("content", topic, r);  // timeout
    ready.emplace(it->second, std::move(r));
    index_of.erase(it);
    for (auto rit = ready.find(next); rit != ready.end(); rit = ready.find(next)) {
      if (int rc = on_reply(next, rit->second)) return rc;
      ready.erase(rit);
      next++;
    }
  }
  return 0;
}

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return lines;
}

int store(bool bulk) {
  auto c = connect_or_fail();
  if (!c) return 1;
  if (!bulk) {
    client::Response r = c->rpc("content.store", read_all(std::cin));
    if (!r.ok()) return fail_response("content store", "content.store", r);
    std::cout << r.payload << '\n';
    return 0;
  }
  std::vector<std::string> blobs = read_lines(std::cin);
  return pipeline(*c, "content.store", blobs, [](size_t i, const client::Response& r) {
    if (!r.ok())
      return fail("content store", "line " + std::to_string(i + 1) + ": " + r.error_text());
    std::cout << r.payload << '\n';
    return 0;
  });
}

// Prints the failure to load `blobref` as `cairn: content load: BLOBREF: <why>`; the
// protocol's errno decides the why, the server's text adds detail. A timeout names the topic.
int fail_load(const std::string& blobref, const client::Response& r) {
  if (r.errnum == ETIMEDOUT) return fail_response("content load", "content.load", r);
  if (r.errnum == ENOENT) return fail("content load", blobref + ": no such blob");
  if (r.errnum == EINVAL || r.errnum == EPROTO)
    return fail("content load", blobref + ": malformed blobref");
  return fail("content load", blobref + ": " + r.error_text());
}

int load(const std::string& blobref, bool bulk) {
  if (!bulk) {
    if (blobref.empty())
      return usage_fail("content load", "give a BLOBREF, or --bulk to read blobrefs from stdin");
    if (!util::blobref_parse(blobref)) return fail("content load", blobref + ": malformed blobref");
  }
  auto c = connect_or_fail();
  if (!c) return 1;
  if (!bulk) {
    client::Response r = c->rpc("content.load", blobref);
    if (!r.ok()) return fail_load(blobref, r);
    if (!write_all(r.payload) || std::fflush(stdout) != 0)
      return fail("content load", std::string("stdout: ") + std::strerror(errno));
    return 0;
  }
  std::vector<std::string> refs = read_lines(std::cin);
  int rc = pipeline(*c, "content.load", refs, [&refs](size_t i, const client::Response& r) {
    if (!r.ok()) return fail_load(refs[i], r);
    if (!write_all(r.payload) || !write_all("\n"))
      return fail("content load", std::string("stdout: ") + std::strerror(errno));
    return 0;
  });
  if (std::fflush(stdout) != 0 && rc == 0)
    return fail("content load", std::string("stdout: ") + std::strerror(errno));
  return rc;
}

// flush, dropcache: empty request, empty reply.
int simple(const std::string& name) {
  auto c = connect_or_fail();
  if (!c) return 1;
  std::string topic = "content." + name;
  client::Response r = c->rpc(topic);
  if (!r.ok()) return fail_response("content " + name, topic, r);
  return 0;
}

int stats() {
  auto c = connect_or_fail();
  if (!c) return 1;
  client::Response r = c->rpc("content.stats-get");
  if (!r.ok()) return fail_response("content stats", "content.stats-get", r);
  auto j = nlohmann::json::parse(r.payload, nullptr, false);
  if (j.is_discarded()) return fail("content stats", "the broker's reply is not JSON");
  std::cout << j.dump(2) << '\n';
  return 0;
}

}  // namespace

void add_content(CLI::App& app, int& status) {
  auto* content = app.add_subcommand("content", "store and load blobs in the content cache");
  content->require_subcommand(1);

  auto bulk_store = std::make_shared<bool>(false);
  auto* st =
      content->add_subcommand("store", "store standard input as one blob and print its blobref");
  st->add_flag("--bulk", *bulk_store,
               "store each line of standard input (without its newline) as a blob; print one "
               "blobref per line, in order");
  st->callback([&status, bulk_store] { status = store(*bulk_store); });

  auto blobref = std::make_shared<std::string>();
  auto bulk_load = std::make_shared<bool>(false);
  auto* ld = content->add_subcommand("load", "write the blob BLOBREF to standard output");
  ld->add_option("BLOBREF", *blobref, "blobref, e.g. sha1-<40 hex digits>");
  ld->add_flag("--bulk", *bulk_load,
               "read one blobref per line from standard input; write each blob followed by a "
               "newline");
  ld->callback([&status, blobref, bulk_load] { status = load(*blobref, *bulk_load); });

  content->add_subcommand("flush", "wait until every blob is on the backing store")
      ->callback([&status] { status = simple("flush"); });
  content->add_subcommand("dropcache", "drop every clean blob from the cache")->callback([&status] {
    status = simple("dropcache");
  });
  content->add_subcommand("stats", "print the cache's counters as JSON")->callback([&status] {
    status = stats();
  });
}

}  // namespace cairn::cmd
