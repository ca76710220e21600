// The content module's service glue: maps the content.* requests onto the Cache, drives purge
// and the content-cache gauges from the heartbeat, and flushes every dirty entry at shutdown
// (what that flush cannot write is reported to the broker as lost data).
// The Cache (and so the backing store and its thread) is destroyed before the stats context
// whose timing handle the backing-load timer uses.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "libstats/stats.hpp"
#include "libutil/blobref.hpp"
#include "libutil/memory.hpp"
#include "modules/content/backings.hpp"
#include "modules/content/cache.hpp"
#include "modules/content/checked_backing.hpp"
#include "modules/content/module.hpp"

namespace cairn::content {

namespace {

using broker::ModuleContext;
using broker::ResponderPtr;

std::string errno_text(int errnum) { return std::strerror(errnum); }

void refuse_store(const ResponderPtr& r) {
  r->error(ESHUTDOWN,
           "the broker is shutting down: the blob was not stored (blobs stored before the "
           "shutdown began are being written to the backing store)");
}

// Why a well-formed blobref of hash `given` cannot be loaded from a cache of hash `used`, and
// what to do: the blob can only be in a broker whose content.hash is `given`.
std::string wrong_hash_text(util::HashType given, util::HashType used) {
  return fmt::format(
      "the blobref is {0}, but this broker uses {1} (content.hash = \"{1}\"): give a {1} "
      "blobref, or load it from a broker started with content.hash = \"{0}\" (-o "
      "content.hash={0})",
      util::hash_name(given), util::hash_name(used));
}

class ContentModule : public broker::Module {
 public:
  ContentModule(ModuleContext& ctx, const BackingTypes& backings);

 private:
  void store(const msg::Message& req, const ResponderPtr& r);
  void store_now(std::string_view blob, const ResponderPtr& r);
  // Stores held back by content.dirty-limit, in arrival order, as far as the cache has room.
  void release_held();
  // Gives the heap back to the kernel after a purge or dropcache freed `dropped` bytes.
  void after_drop(uint64_t dropped);
  void load(const msg::Message& req, const ResponderPtr& r);
  void flush(ResponderPtr r);
  void missing(const msg::Message& req, const ResponderPtr& r);
  void heartbeat();
  void report_backing_errors();
  void publish_gauges();
  // The shutdown flush failed with `errnum`: the dirty blobs die with the broker.
  void report_lost_blobs(int errnum);
  std::string stats_json() const;

  ModuleContext& ctx_;
  std::unique_ptr<stats::Context> stats_;
  stats::Gauge count_, valid_, dirty_, size_, flush_batch_count_;
  stats::Counter load_hits_, load_misses_, store_dedups_, backing_errors_;
  BackingMetrics backing_metrics_;
  CheckedBacking* checked_ = nullptr;     // the backing, owned by cache_; null if none
  std::unique_ptr<Cache> cache_;          // after stats_: destroyed first
  uint64_t reported_backing_errors_ = 0;  // CacheStats::backing_errors at the last heartbeat
  bool backing_failing_ = false;          // a warning was logged and no recovery since
  std::string backing_name_;              // content.backing
  bool shutting_down_ = false;            // the shutdown flush has begun: stores are refused
  // Stores waiting for the dirty bytes to fall under content.dirty-limit (their clients wait).
  struct HeldStore {
    std::string blob;
    ResponderPtr responder;
  };
  std::deque<HeldStore> held_;
  uint64_t held_bytes_ = 0;
};

// Freeing less than this is not worth a walk of the heap.
constexpr uint64_t kReleaseAfterBytes = 16 * 1024 * 1024;

ContentModule::ContentModule(ModuleContext& ctx, const BackingTypes& backings)
    : ctx_(ctx), stats_(ctx.stats_context()) {
  const broker::ConfigValues& config = ctx.config();
  Options opts;
  opts.hash = *util::hash_type_from_name(config.string("content.hash"));  // a declared choice
  opts.blob_size_limit = static_cast<uint64_t>(config.integer("content.blob-size-limit"));
  ctx.accept_payloads_up_to(opts.blob_size_limit);  // a store carries a whole blob
  opts.flush_batch_limit = static_cast<uint32_t>(config.integer("content.flush-batch-limit"));
  opts.purge_target_size = static_cast<uint64_t>(config.integer("content.purge-target-size"));
  opts.purge_old_entry = config.number("content.purge-old-entry");
  opts.dirty_limit = static_cast<uint64_t>(config.integer("content.dirty-limit"));

  if (stats_) {
    count_ = stats_->gauge("content-cache.count");
    valid_ = stats_->gauge("content-cache.valid");
    dirty_ = stats_->gauge("content-cache.dirty");
    size_ = stats_->gauge("content-cache.size");
    flush_batch_count_ = stats_->gauge("content-cache.flush-batch-count");
    load_hits_ = stats_->counter("content-cache.load-hits");
    load_misses_ = stats_->counter("content-cache.load-misses");
    store_dedups_ = stats_->counter("content-cache.store-dedups");
    backing_errors_ = stats_->counter("content-cache.backing-errors");
    backing_metrics_.load_ms = stats_->timer("content-cache.backing-load");
    backing_metrics_.store_ms = stats_->timer("content-cache.backing-store");
    backing_metrics_.bytes_written = stats_->counter("content-cache.backing-bytes-written");
    backing_metrics_.bytes_read = stats_->counter("content-cache.backing-bytes-read");
    backing_metrics_.read_errors = stats_->counter("content-cache.backing-read-errors");
    backing_metrics_.corrupt = stats_->counter("content-cache.backing-corrupt");
  }

  const std::string& kind = config.string("content.backing");
  const BackingType* type = find_backing_type(backings, kind);
  if (!type) throw std::logic_error("content.backing " + kind + " passed its check unknown");
  BackingEnv env{ctx.loop(), ctx.statedir(), config,
                 [&ctx](broker::Level level, std::string_view text) { ctx.log(level, text); }};
  auto opened = type->open(env);
  if (!opened) throw std::runtime_error("content.backing=" + kind + ": " + opened.error().text);
  std::unique_ptr<Backing> backing = std::move(opened).value();
  if (backing) {
    auto checked = std::make_unique<CheckedBacking>(
        std::move(backing), opts.hash, backing_metrics_,
        [this](const util::Digest& key, size_t size) {
          ctx_.log(
              broker::Level::kErr,
              fmt::format("content: {} ({} bytes) read from the {} backing store ({}) does "
                          "not match its hash: the stored copy is corrupt and is not served; "
                          "to repair it, store the original data again (cairn content "
                          "store), then cairn content flush",
                          util::blobref_format(key), size, backing_name_, checked_->describe(key)));
        });
    checked_ = checked.get();
    backing = std::move(checked);
  }
  backing_name_ = kind;
  reactor::Loop& loop = ctx.loop();
  cache_ = std::make_unique<Cache>(opts, std::move(backing), [&loop] { return loop.now(); });

  ctx.register_service("content.store",
                       [this](const msg::Message& req, const ResponderPtr& r) { store(req, r); });
  ctx.register_service("content.load",
                       [this](const msg::Message& req, const ResponderPtr& r) { load(req, r); });
  ctx.register_service("content.flush", [this](const msg::Message&, ResponderPtr r) { flush(r); });
  ctx.register_service("content.missing",
                       [this](const msg::Message& req, const ResponderPtr& r) { missing(req, r); });
  ctx.register_service("content.dropcache", [this](const msg::Message&, ResponderPtr r) {
    after_drop(cache_->dropcache());
    r->ok();
  });
  ctx.register_service("content.stats-get",
                       [this](const msg::Message&, ResponderPtr r) { r->ok(stats_json()); });
  ctx.on_heartbeat([this] { heartbeat(); });
  ctx.on_shutdown([this](std::function<void()> done) {
    shutting_down_ = true;  // from now on stores are refused; what is dirty gets written
    for (auto& h : std::exchange(held_, {})) refuse_store(h.responder);
    held_bytes_ = 0;
    if (!cache_->has_backing()) {
      done();
      return;
    }
    cache_->flush([this, done](const util::Status& flushed) {
      if (!flushed) report_lost_blobs(flushed.error().errnum);
      done();
    });
  });
}

void ContentModule::store(const msg::Message& req, const ResponderPtr& r) {
  if (shutting_down_) {
    refuse_store(r);
    return;
  }
  // Past content.dirty-limit a store waits, behind any already waiting, until backing writes
  // make room; its client sees a slow reply, never an error.
  if (!held_.empty() || cache_->dirty_full()) {
    if (held_.empty()) cache_->when_room([this] { release_held(); });
    held_.push_back({req.payload, r});
    held_bytes_ += req.payload.size();
    return;
  }
  store_now(req.payload, r);
}

void ContentModule::store_now(std::string_view blob, const ResponderPtr& r) {
  auto stored = cache_->store(blob);
  if (!stored) {
    r->fail(stored.error());
    return;
  }
  char blobref[util::kMaxBlobrefSize];
  r->ok(std::string_view(blobref, util::blobref_format(*stored, blobref)));
}

void ContentModule::release_held() {
  while (!held_.empty() && !cache_->dirty_full()) {
    HeldStore h = std::move(held_.front());
    held_.pop_front();
    held_bytes_ -= h.blob.size();
    store_now(h.blob, h.responder);
  }
  if (!held_.empty()) cache_->when_room([this] { release_held(); });
}

void ContentModule::after_drop(uint64_t dropped) {
  if (dropped < kReleaseAfterBytes) return;
  cache_->release_free_memory();  // the blobs' arena
  util::release_free_memory();    // the heap
}

void ContentModule::load(const msg::Message& req, const ResponderPtr& r) {
  const util::HashType hash = cache_->options().hash;
  auto d = util::blobref_parse(req.payload);
  if (!d) {
    // One text for every malformed blobref: it names the form this cache's hash takes.
    r->error(d.error().errnum, fmt::format("malformed blobref: expected {}-<{} hex digits>",
                                           util::hash_name(hash), 2 * util::digest_size(hash)));
    return;
  }
  if (d->type != hash) {
    // Well formed, but of the other hash: most likely stored by a broker configured otherwise.
    r->error(EPROTO, wrong_hash_text(d->type, hash));
    return;
  }
  // A hit is answered here, without the callback (and the copy of `r` it would hold).
  if (auto hit = cache_->lookup(*d)) {
    r->ok(*hit);
    return;
  }
  cache_->load(*d, [r](const util::Result<std::string_view>& blob) {
    if (blob)
      r->ok(*blob);
    else
      r->fail(blob.error());
  });
}

void ContentModule::flush(ResponderPtr r) {
  if (!cache_->has_backing()) {
    r->error(ENOSYS, "content.backing is none: there is no backing store to flush to");
    return;
  }
  cache_->flush([r](const util::Status& flushed) {
    if (flushed)
      r->ok();
    else
      r->fail(flushed.error());
  });
}

// Payload: blobrefs, one per line (a final newline is optional). Reply: those of them that
// neither the cache nor the backing store holds, in request order, each followed by a newline.
void ContentModule::missing(const msg::Message& req, const ResponderPtr& r) {
  std::vector<util::Digest> keys;
  std::vector<std::string> refs;  // as sent (hex of either case), for the reply
  std::string_view rest = req.payload;
  util::HashType hash = cache_->options().hash;
  for (size_t line = 1; !rest.empty(); line++) {
    size_t nl = rest.find('\n');
    std::string_view ref = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    auto d = util::blobref_parse(ref);
    if (!d || d->type != hash) {
      // The line is quoted only if it is short printable text: it may be any bytes.
      bool printable = ref.size() <= 80 && std::all_of(ref.begin(), ref.end(),
                                                       [](char c) { return c > ' ' && c < 0x7f; });
      std::string shown = ref.empty() ? "an empty line" : printable ? std::string(ref) : "";
      r->error(d ? EPROTO : d.error().errnum,
               fmt::format("line {}: {}{}malformed blobref: expected {}-<{} hex digits>, one "
                           "per line",
                           line, shown, shown.empty() ? "" : ": ", util::hash_name(hash),
                           2 * util::digest_size(hash)));
      return;
    }
    keys.push_back(*d);
    refs.emplace_back(ref);
  }
  cache_->missing(keys,
                  [r, refs = std::move(refs)](const util::Result<std::vector<size_t>>& absent) {
                    if (!absent) {
                      r->fail(absent.error());
                      return;
                    }
                    std::string out;
                    for (size_t i : *absent) {
                      out += refs[i];
                      out += '\n';
                    }
                    r->ok(out);
                  });
}

void ContentModule::heartbeat() {
  after_drop(cache_->purge());
  report_backing_errors();
  publish_gauges();
}

// At most one warning per heartbeat while backing-store writes fail, and a notice when they
// succeed again, so a full disk shows in the log (and on stderr) without flooding it.
void ContentModule::report_backing_errors() {
  const CacheStats& s = cache_->stats();
  uint64_t errors = s.backing_errors;
  if (errors > reported_backing_errors_) {
    ctx_.log(
        broker::Level::kWarning,
        fmt::format("content: {} backing store write(s) failed: {}; {} blob(s) stay dirty in "
                    "memory and are retried on each heartbeat and flush",
                    errors - reported_backing_errors_, errno_text(s.last_failure_errno), s.dirty));
    backing_failing_ = true;
  } else if (backing_failing_ && s.failed == 0 && s.last_errno == 0) {
    ctx_.log(broker::Level::kNotice, "content: backing store writes succeed again");
    backing_failing_ = false;
  }
  reported_backing_errors_ = errors;
}

void ContentModule::report_lost_blobs(int errnum) {
  uint64_t dirty = cache_->stats().dirty;
  std::string why = errno_text(errnum);
  ctx_.log(broker::Level::kErr,
           fmt::format("content: {} blobs could not be written to the {} backing store at "
                       "shutdown: {}",
                       dirty, backing_name_, why));
  ctx_.report_lost_data(fmt::format(
      "content: {} blob(s) that clients had stored were not written to the {} backing store "
      "({}) and are lost: fix the backing store (free space, permissions, a read-only "
      "directory), then store those blobs again; next time run `cairn content flush` before "
      "stopping the broker, and retry it until it succeeds",
      dirty, backing_name_, why));
}

void ContentModule::publish_gauges() {
  if (!stats_) return;
  CacheStats s = cache_->stats();
  count_.set(static_cast<int64_t>(s.count));
  valid_.set(static_cast<int64_t>(s.valid));
  dirty_.set(static_cast<int64_t>(s.dirty));
  size_.set(static_cast<int64_t>(s.size));
  flush_batch_count_.set(static_cast<int64_t>(s.flush_batch_count));
  load_hits_.total(static_cast<int64_t>(s.load_hits));
  load_misses_.total(static_cast<int64_t>(s.load_misses));
  store_dedups_.total(static_cast<int64_t>(s.store_dedups));
  backing_errors_.total(static_cast<int64_t>(s.backing_errors));
}

std::string ContentModule::stats_json() const {
  CacheStats s = cache_->stats();
  // Loads answered from memory, of all loads so far; null before the first load.
  uint64_t loads = s.load_hits + s.load_misses;
  nlohmann::json hit_rate = nullptr;
  if (loads > 0) hit_rate = static_cast<double>(s.load_hits) / static_cast<double>(loads);
  nlohmann::json j = {
      {"count", s.count},
      {"valid", s.valid},
      {"dirty", s.dirty},
      {"dirty-size", s.dirty_size},
      {"stores-waiting", held_.size()},
      {"stores-waiting-size", held_bytes_},
      {"size", s.size},
      {"flush-batch-count", s.flush_batch_count},
      {"flush-queue", s.flush_queue},
      {"failed-writes", s.failed},
      {"load-hits", s.load_hits},
      {"load-misses", s.load_misses},
      {"load-hit-rate", hit_rate},
      {"store-dedups", s.store_dedups},
      {"backing-errors", s.backing_errors},
      {"backing-errno", s.last_errno},
      {"backing-failure-errno", s.last_failure_errno},
      {"backing", backing_name_},
      {"backing-reads", checked_ ? checked_->counts().reads : 0},
      {"backing-writes", checked_ ? checked_->counts().writes : 0},
      {"backing-bytes-written", checked_ ? checked_->counts().bytes_written : 0},
      {"backing-bytes-read", checked_ ? checked_->counts().bytes_read : 0},
      {"backing-read-errors", checked_ ? checked_->counts().read_errors : 0},
      {"backing-corrupt", checked_ ? checked_->counts().corrupt : 0},
      {"hash", std::string(util::hash_name(cache_->options().hash))},
  };
  return j.dump();
}

}  // namespace

broker::ConfigKeys config_keys(const BackingTypes& backings) {
  using broker::ConfigKey;
  std::vector<std::string> names;
  std::string backing_help = "backing store:";
  for (const auto& t : backings) {
    names.push_back(t.name);
    backing_help += " " + t.name + " (" + t.help + ")";
  }
  broker::ConfigKeys keys = {
      ConfigKey::choice("content.hash", "sha1", {"sha1", "sha256"}, "blob hash"),
      ConfigKey::integer("content.blob-size-limit", 1073741824, 1, 4294967295,
                         "largest blob, bytes"),
      ConfigKey::integer("content.flush-batch-limit", 256, 1, 1048576,
                         "backing-store writes in flight"),
      ConfigKey::integer("content.purge-target-size", 16777216, 0, int64_t{1} << 50,
                         "bytes the cache purges down to on each heartbeat"),
      ConfigKey::integer("content.dirty-limit", 268435456, 0, int64_t{1} << 50,
                         "bytes of blobs not yet on the backing store past which stores wait "
                         "(their clients see slow replies, never errors) until writes catch up; "
                         "0: no bound; no effect with content.backing = none"),
      ConfigKey::number("content.purge-old-entry", 10.0, 0, 31536000,
                        "seconds a clean entry must be unused before it may be purged"),
      ConfigKey::choice("content.backing", names.front(), names, backing_help),
  };
  for (const auto& t : backings)
    if (t.config_keys)
      for (auto& k : t.config_keys()) keys.push_back(std::move(k));
  return keys;
}

std::unique_ptr<broker::Module> create_module(broker::ModuleContext& ctx,
                                              const BackingTypes& backings) {
  return std::make_unique<ContentModule>(ctx, backings);
}

}  // namespace cairn::content
