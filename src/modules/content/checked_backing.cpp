// CheckedBacking (see checked_backing.hpp).
#include "modules/content/checked_backing.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>

namespace cairn::content {

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

CheckedBacking::CheckedBacking(std::unique_ptr<Backing> inner, util::HashType hash,
                               BackingMetrics metrics, CorruptFn on_corrupt)
    : inner_(std::move(inner)),
      hasher_(hash),
      metrics_(metrics),
      on_corrupt_(std::move(on_corrupt)) {}

util::Error CheckedBacking::corrupt_copy(const util::Digest& key) const {
  return util::Error{
      EBADMSG, fmt::format("the backing store's copy ({}) is corrupt: its data does not match the "
                           "blobref, so it is not served; to repair it, store the original data "
                           "again (cairn content store), then cairn content flush",
                           describe(key))};
}

void CheckedBacking::store(const util::Digest& key, std::string_view data, StoreCallback cb) {
  auto start = std::chrono::steady_clock::now();
  size_t size = data.size();
  inner_->store(key, data,
                [this, key, start, size, cb = std::move(cb)](const util::Status& status) {
                  metrics_.store_ms.record(ms_since(start));
                  counts_.writes++;
                  if (status) {
                    counts_.bytes_written += size;
                    metrics_.bytes_written.add(static_cast<int64_t>(size));
                    if (!corrupt_keys_.empty()) corrupt_keys_.erase(util::blobref_format(key));
                  }
                  cb(status);
                });
}

void CheckedBacking::exists(const util::Digest& key, ExistsCallback cb) {
  if (!corrupt_keys_.empty() && corrupt_keys_.count(util::blobref_format(key)) != 0) {
    // Answered later all the same: a callback never runs inside the call.
    inner_->exists(key, [cb = std::move(cb)](const util::Status&) {
      cb(util::Error{ENOENT, "a copy found corrupt, not stored again since"});
    });
    return;
  }
  inner_->exists(key, std::move(cb));
}

void CheckedBacking::load(const util::Digest& key, LoadCallback cb) {
  auto start = std::chrono::steady_clock::now();
  inner_->load(key,
               [this, key, start, cb = std::move(cb)](const util::Result<std::string_view>& blob) {
                 metrics_.load_ms.record(ms_since(start));
                 counts_.reads++;
                 if (blob && hasher_.hash(*blob) != key) {
                   counts_.corrupt++;
                   metrics_.corrupt.add(1);
                   if (corrupt_keys_.size() < kMaxCorruptKeys)
                     corrupt_keys_.insert(util::blobref_format(key));
                   if (on_corrupt_) on_corrupt_(key, blob->size());
                   cb(corrupt_copy(key));
                   return;
                 }
                 if (blob) {
                   if (!corrupt_keys_.empty()) corrupt_keys_.erase(util::blobref_format(key));
                   counts_.bytes_read += blob->size();
                   metrics_.bytes_read.add(static_cast<int64_t>(blob->size()));
                 } else if (blob.errnum() != ENOENT) {
                   counts_.read_errors++;
                   metrics_.read_errors.add(1);
                 }
                 cb(blob);
               });
}

}  // namespace cairn::content
