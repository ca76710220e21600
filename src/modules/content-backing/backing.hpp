// cairn::content::Backing: the interface between the content cache and its backing store
// (SQLite in content-sqlite, the others in content-<name>/, a fake in the unit tests).
// Contract: store()/load()/exists() never block and never call their callback before returning;
// every callback runs later, on the reactor thread, at most once. Destroying a Backing drops the
// callbacks of requests still outstanding without calling them.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "libutil/blobref.hpp"
#include "libutil/result.hpp"

namespace cairn::content {

class Backing {
 public:
  // A failure is an Error whose text says what failed, on which object, and why, in an
  // operator's words ("cannot create /srv/blobs/sha1/ab/.tmp...: Read-only file system",
  // "rados: cannot write object sha1-ab... in RADOS pool cairn: Connection timed out"): the
  // content cache hands it to the client as it is, so the store's own words reach the user.
  //
  // Stored, or why not (ENOSPC for a full disk, EIO for an I/O error, ...).
  using StoreCallback = std::function<void(const util::Status& status)>;
  // The blob; an Error with ENOENT if the store has no copy (an answer, whose text is not
  // shown), another errno on failure. The blob is the backing store's own buffer, valid only
  // during the call: a caller that keeps it copies it (the cache does, once, into its own).
  using LoadCallback = std::function<void(const util::Result<std::string_view>& blob)>;
  // Success: the store has an object under the key; an Error with ENOENT: it has none;
  // another errno on failure.
  using ExistsCallback = std::function<void(const util::Status& status)>;

  virtual ~Backing() = default;
  // Writes `data` under `key`. `data` stays valid and unchanged until `cb` runs (the cache
  // keeps the entry dirty, so it is never freed meanwhile). Storing an existing key succeeds,
  // and leaves exactly `data` under it: a copy whose size or bytes differ (a corrupt copy) is
  // replaced; a copy known to be equal may be left alone (that is the only write skipped).
  virtual void store(const util::Digest& key, std::string_view data, StoreCallback cb) = 0;
  virtual void load(const util::Digest& key, LoadCallback cb) = 0;
  // Whether an object is stored under `key`, by the store's cheapest query (a stat, a HEAD, an
  // index lookup): nothing is read back, so a corrupt copy answers 0 like a good one.
  virtual void exists(const util::Digest& key, ExistsCallback cb) = 0;
  // Where the copy of `key` is (or would be), for messages that send an operator to it: "file
  // /srv/blobs/sha1/ab/sha1-ab...", "object sha1-ab... in RADOS pool cairn". Any thread.
  virtual std::string describe(const util::Digest& key) const {
    return "object " + util::blobref_format(key);
  }
};

}  // namespace cairn::content
