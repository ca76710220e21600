// cairn::content::S3Store: content.backing = s3, one object per blob, named by its blobref, in
// one bucket of an S3 service (radosgw, or any other), through libs3 with path-style addressing.
// It is a BlockingStore: libs3's calls block, so ThreadedBacking runs them on s3.threads
// workers. A put always sends the whole object: S3 replaces what the key held (a corrupt copy
// too), and checking first could skip only the transfer, by a GET that costs as much.
// Invariants: libs3 is initialised once per process (S3_initialize is not thread-safe) before
// the first worker starts, and never deinitialised. Each call is driven on its worker through a
// libs3 request context taken from a pool (so connections are reused), never used by two
// threads at once; a call that makes no progress for s3.timeout seconds, or that interrupt()
// cuts short, is aborted by destroying its context. The secret key is kept only in memory and
// appears in no message.
#pragma once

#include <libs3.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "libutil/result.hpp"
#include "modules/content-backing/backing_type.hpp"
#include "modules/content-backing/threaded_backing.hpp"
#include "modules/content-s3/s3_call.hpp"
#include "modules/content-s3/s3_module.hpp"

namespace cairn::content {

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
};

// Parses the text of an s3.credentials file: lines `access_key=...` and `secret_key=...`, blank
// lines and `#` comments ignored, spaces around the key and value dropped. An Error (EINVAL)
// names `path` and the line at fault but never quotes the file.
util::Result<S3Credentials> parse_s3_credentials(std::string_view text, const std::string& path);
// Reads and parses the file at `path`; an Error names s3.credentials and the path.
util::Result<S3Credentials> read_s3_credentials(const std::string& path);

// The errno for a libs3 status: 0 for OK; ENOENT for a missing key (NoSuchKey, 404);
// ECONNREFUSED when no connection could be made; ETIMEDOUT for a stalled transfer; EACCES for
// refused credentials or permissions; EHOSTUNREACH for a host name that does not resolve;
// EAGAIN for "slow down"; EFBIG, EINVAL, ENOMEM where they fit; else EIO.
int s3_errno(S3Status status);

struct S3Options {
  std::string endpoint;  // host:port
  std::string bucket;
  S3Credentials credentials;
  bool https = false;
  double timeout = 30;  // seconds without progress before a request fails
};

class S3Store : public BlockingStore {
 public:
  // Initialises libs3 (once per process), checks the options and that the bucket answers with
  // these credentials. The Error names s3.endpoint (and the bucket) and libs3's reason.
  static util::Result<std::unique_ptr<S3Store>> open(S3Options opts);
  ~S3Store() override;

  util::Status put(const util::Digest& key, std::string_view data) override;
  util::Result<std::string> get(const util::Digest& key) override;
  // A HEAD of the object (ENOENT: 404).
  util::Status exists(const util::Digest& key) override;
  // "S3 object <blobref> in bucket <bucket> at <endpoint>"
  std::string describe(const util::Digest& key) const override;
  void interrupt() override { interrupted_ = true; }

 private:
  using Call = S3Call;
  struct ContextDeleter {
    void operator()(S3RequestContext* c) const { S3_destroy_request_context(c); }
  };
  using Context = std::unique_ptr<S3RequestContext, ContextDeleter>;

  explicit S3Store(S3Options opts);
  // Starts a request with `start(context)` and runs it to its end, its timeout or an
  // interrupt; fills call.status and the reason.
  template <typename Start>
  void drive(Call& call, Start start);
  Context take_context();
  void give_back(Context c);
  // Why `call` failed: its errno, and libs3's status name, the errno's text and the server's
  // message if any (or the timeout, or the interrupt).
  util::Error reason(const Call& call) const;
  // The reason, as "s3 <what> (<endpoint>, bucket <bucket>): <reason>".
  util::Error failure(const Call& call, std::string_view what) const;

  const S3Options opts_;
  S3BucketContext bucket_{};  // points into opts_
  std::atomic<bool> interrupted_{false};
  std::mutex pool_mutex_;
  std::vector<Context> idle_;  // request contexts not in use (each keeps its connections)
};

}  // namespace cairn::content
