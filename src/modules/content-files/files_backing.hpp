// cairn::content::FilesStore: content.backing = files, one file per blob under files.dir, a
// directory that several brokers may share (NFS, a parallel filesystem). It is a BlockingStore;
// ThreadedBacking runs it on files.threads worker threads.
// Layout and invariants: the blob whose blobref is sha1-abcd... is the regular file
// <files.dir>/sha1/ab/sha1-abcd... (256 fan-out directories per hash keep each one small). A
// file under its final name is complete: it is written under a unique temporary name
// (.tmp.<blobref>.<nonce>.<n>, in the same directory), fsynced, renamed into place, and the
// directory fsynced. Blobs never change, so a file already holding the blob's exact bytes is
// not written again; one whose size or bytes differ (a corrupt copy) is replaced the same way.
// Two brokers storing the same blob at once both succeed (the second rename replaces equal
// bytes).
// A failed write leaves no temporary file behind.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "libutil/result.hpp"
#include "modules/content-backing/backing_type.hpp"
#include "modules/content-backing/threaded_backing.hpp"

namespace cairn::content {

// content.backing = files, with its keys files.dir and files.threads.
BackingType files_backing_type();

class FilesStore : public BlockingStore {
 public:
  // Checks that `dir` is a directory this process can create files in (by creating and removing
  // a probe file). The Error names files.dir and the path, and says why.
  static util::Result<std::unique_ptr<FilesStore>> open(const std::string& dir);

  util::Status put(const util::Digest& key, std::string_view data) override;
  util::Result<std::string> get(const util::Digest& key) override;
  // A stat of the blob's file (ENOENT: none, or not a regular file).
  util::Status exists(const util::Digest& key) override;
  // "file <path_of(key)>"
  std::string describe(const util::Digest& key) const override;

  // <dir>/<hash>/<first two hex digits>/<blobref>
  std::string path_of(const util::Digest& key) const;

 private:
  FilesStore(std::string dir, uint64_t nonce) : dir_(std::move(dir)), nonce_(nonce) {}
  // The fan-out directory of `key`; creates it (and <dir>/<hash>) if missing.
  util::Status make_fanout(const std::string& fanout) const;

  const std::string dir_;
  const uint64_t nonce_;  // random per process: temporary names differ between brokers
  std::atomic<uint64_t> next_tmp_{0};
};

}  // namespace cairn::content
