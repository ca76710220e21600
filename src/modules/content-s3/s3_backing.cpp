// One S3 object per blob through libs3 (see s3_backing.hpp).
#include "modules/content-s3/s3_backing.hpp"

#include <fmt/format.h>
#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>
#include <thread>

namespace cairn::content {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxCredentialsFile = 64 * 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

util::Status initialize_libs3() {
  static std::once_flag once;
  static S3Status status = S3StatusOK;
  std::call_once(once, [] { status = S3_initialize("cairn", S3_INIT_ALL, nullptr); });
  if (status != S3StatusOK)
    return util::Error{EIO, fmt::format("cannot initialise libs3: {}", S3_get_status_name(status))};
  return {};
}

// s3.endpoint and s3.bucket, checked before anything is read or sent.
util::Status check_location(const std::string& endpoint, const std::string& bucket) {
  if (endpoint.empty())
    return util::Error{EINVAL,
                       "s3.endpoint is not set: content.backing = s3 needs the S3 service's "
                       "host:port"};
  if (endpoint.find("://") != std::string::npos || endpoint.find('/') != std::string::npos)
    return util::Error{EINVAL, fmt::format("s3.endpoint {}: expected host:port only (s3.protocol "
                                           "chooses http or https)",
                                           endpoint)};
  if (endpoint.size() >= S3_MAX_HOSTNAME_SIZE)
    return util::Error{
        EINVAL, fmt::format("s3.endpoint: longer than {} characters", S3_MAX_HOSTNAME_SIZE - 1)};
  if (bucket.empty())
    return util::Error{EINVAL,
                       "s3.bucket is not set: content.backing = s3 needs the bucket to keep the "
                       "blobs in"};
  if (S3Status st = S3_validate_bucket_name(bucket.c_str(), S3UriStylePath); st != S3StatusOK)
    return util::Error{EINVAL, fmt::format("s3.bucket {}: not a valid bucket name ({})", bucket,
                                           S3_get_status_name(st))};
  return {};
}

}  // namespace

util::Result<std::unique_ptr<Backing>> open_s3_backing(const BackingEnv& env) {
  S3Options o;
  o.endpoint = env.config.string("s3.endpoint");
  o.bucket = env.config.string("s3.bucket");
  if (auto st = check_location(o.endpoint, o.bucket); !st) return st.error();
  const std::string& path = env.config.string("s3.credentials");
  if (path.empty())
    return util::Error{EINVAL,
                       "s3.credentials is not set: content.backing = s3 needs a file with the "
                       "lines access_key=... and secret_key=..."};
  auto creds = read_s3_credentials(path);
  if (!creds) return creds.error();
  o.credentials = std::move(creds).value();
  o.https = env.config.string("s3.protocol") == "https";
  o.timeout = env.config.number("s3.timeout");
  auto store = S3Store::open(std::move(o));
  if (!store) return store.error();
  auto threads = static_cast<unsigned>(env.config.integer("s3.threads"));
  return open_threaded_backing(env, "s3", std::move(store).value(), threads);
}

util::Result<S3Credentials> parse_s3_credentials(std::string_view text, const std::string& path) {
  S3Credentials c;
  bool have_access = false, have_secret = false;
  int lineno = 0;
  auto bad = [&](std::string why) {
    return util::Error{EINVAL, fmt::format("s3.credentials {}: {}", path, why)};
  };
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    lineno++;
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    std::string_view key = eq == std::string_view::npos ? "" : trim(line.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? "" : trim(line.substr(eq + 1));
    // The line itself is never quoted: it may hold a key.
    if (key == "access_key" || key == "secret_key") {
      bool& have = key == "access_key" ? have_access : have_secret;
      if (have) return bad(fmt::format("line {}: a second {}", lineno, key));
      if (value.empty()) return bad(fmt::format("line {}: {} is empty", lineno, key));
      (key == "access_key" ? c.access_key : c.secret_key) = std::string(value);
      have = true;
    } else {
      return bad(fmt::format("line {}: expected access_key=... or secret_key=...", lineno));
    }
  }
  if (!have_access) return bad("no access_key=... line");
  if (!have_secret) return bad("no secret_key=... line");
  return c;
}

util::Result<S3Credentials> read_s3_credentials(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int e = errno != 0 ? errno : EIO;
    return util::Error{e,
                       fmt::format("s3.credentials {}: cannot read: {}", path, std::strerror(e))};
  }
  std::string text(kMaxCredentialsFile + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad())
    return util::Error{EIO, fmt::format("s3.credentials {}: cannot read: {}", path,
                                        std::strerror(errno != 0 ? errno : EIO))};
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxCredentialsFile)
    return util::Error{EINVAL, fmt::format("s3.credentials {}: larger than {} bytes: not a "
                                           "credentials file",
                                           path, kMaxCredentialsFile)};
  return parse_s3_credentials(text, path);
}

int s3_errno(S3Status status) {
  switch (status) {
    case S3StatusOK:
      return 0;
    case S3StatusErrorNoSuchKey:
    case S3StatusHttpErrorNotFound:
      return ENOENT;
    case S3StatusFailedToConnect:
      return ECONNREFUSED;
    case S3StatusConnectionFailed:  // libcurl's low-speed timeout (and a failed write)
    case S3StatusErrorRequestTimeout:
      return ETIMEDOUT;
    case S3StatusNameLookupError:
      return EHOSTUNREACH;
    case S3StatusOutOfMemory:
      return ENOMEM;
    case S3StatusInterrupted:
      return EINTR;
    case S3StatusErrorAccessDenied:
    case S3StatusErrorAccountProblem:
    case S3StatusErrorInvalidAccessKeyId:
    case S3StatusErrorSignatureDoesNotMatch:
    case S3StatusErrorInvalidSecurity:
    case S3StatusErrorMissingSecurityHeader:
    case S3StatusErrorExpiredToken:
    case S3StatusErrorInvalidToken:
    case S3StatusErrorRequestTimeTooSkewed:
    case S3StatusErrorNotSignedUp:
    case S3StatusHttpErrorForbidden:
      return EACCES;
    case S3StatusErrorSlowDown:
      return EAGAIN;
    case S3StatusErrorEntityTooLarge:
    case S3StatusErrorMaxMessageLengthExceeded:
      return EFBIG;
    case S3StatusInvalidBucketNameTooLong:
    case S3StatusInvalidBucketNameFirstCharacter:
    case S3StatusInvalidBucketNameCharacter:
    case S3StatusInvalidBucketNameCharacterSequence:
    case S3StatusInvalidBucketNameTooShort:
    case S3StatusInvalidBucketNameDotQuadNotation:
    case S3StatusErrorInvalidBucketName:
    case S3StatusKeyTooLong:
    case S3StatusUriTooLong:
      return EINVAL;
    default:
      return EIO;  // the server's internal errors, NoSuchBucket, unexpected answers, ...
  }
}

S3Store::S3Store(S3Options opts) : opts_(std::move(opts)) {
  bucket_.hostName = opts_.endpoint.c_str();
  bucket_.bucketName = opts_.bucket.c_str();
  bucket_.protocol = opts_.https ? S3ProtocolHTTPS : S3ProtocolHTTP;
  bucket_.uriStyle = S3UriStylePath;
  bucket_.accessKeyId = opts_.credentials.access_key.c_str();
  bucket_.secretAccessKey = opts_.credentials.secret_key.c_str();
}

S3Store::~S3Store() = default;

util::Result<std::unique_ptr<S3Store>> S3Store::open(S3Options opts) {
  if (auto st = check_location(opts.endpoint, opts.bucket); !st) return st.error();
  if (auto st = initialize_libs3(); !st) return st.error();
  std::unique_ptr<S3Store> store(new S3Store(std::move(opts)));
  const S3BucketContext& b = store->bucket_;
  Call call;
  char location[256] = "";
  store->drive(call, [&](S3RequestContext* ctx) {
    S3_test_bucket(b.protocol, b.uriStyle, b.accessKeyId, b.secretAccessKey, b.hostName,
                   b.bucketName, sizeof location, location, ctx, &Call::kResponse, &call);
  });
  if (call.failed()) {
    util::Error e = store->reason(call);
    const char* hint = "";
    if (e.errnum == EACCES)
      hint = " (check the keys in s3.credentials)";
    else if (call.status == S3StatusErrorNoSuchBucket)
      hint = " (create the bucket first)";
    return util::Error{
        e.errnum,
        fmt::format("s3.endpoint {} ({}): cannot use bucket {}: {}{}", store->opts_.endpoint,
                    store->opts_.https ? "https" : "http", store->opts_.bucket, e.text, hint)};
  }
  return store;
}

util::Status S3Store::put(const util::Digest& key, std::string_view data) {
  char ref[util::kMaxBlobrefSize + 1];
  ref[util::blobref_format(key, ref)] = '\0';
  Call call;
  call.out = data;
  drive(call, [&](S3RequestContext* ctx) {
    S3_put_object(&bucket_, ref, data.size(), nullptr, ctx, &Call::kPut, &call);
  });
  if (call.failed()) return failure(call, fmt::format("put {}", ref));
  return {};
}

util::Result<std::string> S3Store::get(const util::Digest& key) {
  char ref[util::kMaxBlobrefSize + 1];
  ref[util::blobref_format(key, ref)] = '\0';
  std::string data;
  Call call;
  call.in = &data;
  drive(call, [&](S3RequestContext* ctx) {
    S3_get_object(&bucket_, ref, nullptr, 0, 0, ctx, &Call::kGet, &call);
  });
  if (call.failed()) return failure(call, fmt::format("get {}", ref));
  return data;
}

util::Status S3Store::exists(const util::Digest& key) {
  char ref[util::kMaxBlobrefSize + 1];
  ref[util::blobref_format(key, ref)] = '\0';
  Call call;
  drive(call, [&](S3RequestContext* ctx) {
    S3_head_object(&bucket_, ref, ctx, &Call::kResponse, &call);
  });
  if (call.failed()) return failure(call, fmt::format("head {}", ref));
  return {};
}

std::string S3Store::describe(const util::Digest& key) const {
  return fmt::format("S3 object {} in bucket {} at {}", util::blobref_format(key), opts_.bucket,
                     opts_.endpoint);
}

S3Store::Context S3Store::take_context() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_.empty()) {
      Context c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  S3RequestContext* raw = nullptr;
  if (S3_create_request_context(&raw) != S3StatusOK) return nullptr;
  return Context(raw);
}

void S3Store::give_back(Context c) {
  std::lock_guard lock(pool_mutex_);
  idle_.push_back(std::move(c));
}

// libs3 offers select()'s fd_sets only. A descriptor past FD_SETSIZE is left out of them by
// libcurl; the wait below is capped at 100 ms, so such a request still advances, by polling.
template <typename Start>
void S3Store::drive(Call& call, Start start) {
  Context ctx = take_context();
  if (!ctx) {
    call.status = S3StatusOutOfMemory;
    return;
  }
  const auto timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opts_.timeout));
  call.progress = Clock::now();
  start(ctx.get());
  for (;;) {
    int remaining = 0;
    S3Status st = S3_runonce_request_context(ctx.get(), &remaining);
    if (st != S3StatusOK) {
      ctx.reset();  // aborts the request (its completion says Interrupted)
      call.status = st;
      return;
    }
    if (remaining == 0) break;  // finished: its completion has run
    if (interrupted_) {
      call.interrupted = true;
      ctx.reset();
      return;
    }
    auto left = call.progress + timeout - Clock::now();
    if (left <= Clock::duration::zero()) {
      call.timed_out = true;
      ctx.reset();
      return;
    }
    int64_t wait_ms =
        std::min<int64_t>(100, std::chrono::ceil<std::chrono::milliseconds>(left).count());
    int64_t curl_ms = S3_get_request_context_timeout(ctx.get());
    if (curl_ms >= 0) wait_ms = std::min(wait_ms, curl_ms);
    fd_set readable, writable, failed;
    FD_ZERO(&readable);
    FD_ZERO(&writable);
    FD_ZERO(&failed);
    int max_fd = -1;
    if (S3_get_request_context_fdsets(ctx.get(), &readable, &writable, &failed, &max_fd) !=
        S3StatusOK)
      max_fd = -1;
    if (max_fd >= 0) {
      struct timeval tv = {static_cast<time_t>(wait_ms / 1000),
                           static_cast<suseconds_t>((wait_ms % 1000) * 1000)};
      ::select(max_fd + 1, &readable, &writable, &failed, &tv);
    } else if (wait_ms > 0) {  // no socket yet (resolving): libcurl asks to be called again soon
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(wait_ms, 10)));
    }
  }
  give_back(std::move(ctx));
}

util::Error S3Store::reason(const Call& call) const {
  if (call.timed_out)
    return {ETIMEDOUT, fmt::format("no progress for {} s (s3.timeout): {}", opts_.timeout,
                                   std::strerror(ETIMEDOUT))};
  if (call.interrupted) return {EINTR, "interrupted: the backing store is closing"};
  if (call.out_of_memory) return {ENOMEM, "out of memory for the object"};
  int errnum = s3_errno(call.status);
  std::string why = fmt::format("{} ({})", S3_get_status_name(call.status), std::strerror(errnum));
  if (!call.message.empty()) why += ": " + call.message;
  return {errnum, std::move(why)};
}

util::Error S3Store::failure(const Call& call, std::string_view what) const {
  util::Error e = reason(call);
  e.text = fmt::format("s3 {} ({}, bucket {}): {}", what, opts_.endpoint, opts_.bucket, e.text);
  return e;
}

}  // namespace cairn::content
