// Unit tests for the parts of the s3 backing store that need no S3 server: the credentials file
// (accepted forms, and errors that name the file but never quote it), libs3 status -> errno,
// start-up errors naming the key at fault, and the bucket check against a refused port
// (ECONNREFUSED) and against a port that accepts but never answers (ETIMEDOUT after s3.timeout).
// Against a real radosgw: t/t3102-content-s3.t.
#include "modules/content-s3/s3_backing.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "libtest/temp_dir.hpp"
#include "libutil/fd.hpp"

using namespace cairn;
using namespace cairn::content;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSecret = "Zsecret0123456789abcdefghijklmnopqrstuvw";

using test::TempDir;

// A TCP socket on 127.0.0.1 that listens but never accepts: the kernel completes connections,
// nothing ever answers. port() of a closed one is refused.
struct SilentPort {
  explicit SilentPort(bool listening) {
    fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    if (listening)
      EXPECT_EQ(::listen(fd.get(), 16), 0);
    else
      fd.reset();  // bound, then closed: nothing listens there
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port); }
  util::UniqueFd fd;
  int port = 0;
};

S3Options options(const std::string& endpoint) {
  S3Options o;
  o.endpoint = endpoint;
  o.bucket = "cairn-test";
  o.credentials = {"AKIDEXAMPLE", kSecret};
  o.timeout = 0.3;
  return o;
}

}  // namespace

TEST(S3Credentials, ParsesBothKeysWithCommentsBlankLinesSpacesAndCrlf) {
  auto c = parse_s3_credentials(
      "# written by radosgw-admin\n\naccess_key=AKID\r\n  secret_key = s3cr=t  \n", "f");
  ASSERT_TRUE(c) << c.error().text;
  EXPECT_EQ(c->access_key, "AKID");
  EXPECT_EQ(c->secret_key, "s3cr=t");
  auto no_final_newline = parse_s3_credentials("secret_key=b\naccess_key=a", "f");
  ASSERT_TRUE(no_final_newline);
  EXPECT_EQ(no_final_newline->access_key, "a");
}

TEST(S3Credentials, ErrorsNameTheFileAndLineButNeverQuoteIt) {
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"access_key=a\n", "/etc/s3: no secret_key=... line"},
      {std::string("secret_key=") + kSecret + "\n", "/etc/s3: no access_key=... line"},
      {std::string("access_key=a\nsecret_key=") + kSecret + "\nsecret_key=" + kSecret,
       "/etc/s3: line 3: a second secret_key"},
      {std::string("access_key=a\nsecret_key=\n"), "/etc/s3: line 2: secret_key is empty"},
      {std::string("access_key=a\n") + kSecret + "\n",
       "/etc/s3: line 2: expected access_key=... or secret_key=..."},
      {std::string("access_key=a\nsecret=") + kSecret + "\n",
       "/etc/s3: line 2: expected access_key=... or secret_key=..."},
      {"", "/etc/s3: no access_key=... line"},
  };
  for (const auto& c : cases) {
    auto r = parse_s3_credentials(c.text, "/etc/s3");
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().errnum, EINVAL);
    EXPECT_EQ(r.error().text, "s3.credentials " + c.expect);
    EXPECT_EQ(r.error().text.find(kSecret), std::string::npos);
  }
}

TEST(S3Credentials, UnreadableOrHugeFileIsAnErrorNamingIt) {
  TempDir dir;
  auto missing = read_s3_credentials(dir.path() + "/absent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errnum, ENOENT);
  EXPECT_EQ(missing.error().text,
            "s3.credentials " + dir.path() + "/absent: cannot read: No such file or directory");
  auto huge = read_s3_credentials(dir.write("huge", std::string(100000, '#')));
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().text.find("not a credentials file"), std::string::npos);
  auto good = read_s3_credentials(
      dir.write("good", std::string("access_key=a\nsecret_key=") + kSecret + "\n"));
  ASSERT_TRUE(good) << good.error().text;
  EXPECT_EQ(good->secret_key, kSecret);
}

TEST(S3Errno, StatusesMapToTheErrnoACallerCanActOn) {
  EXPECT_EQ(s3_errno(S3StatusOK), 0);
  EXPECT_EQ(s3_errno(S3StatusErrorNoSuchKey), ENOENT);
  EXPECT_EQ(s3_errno(S3StatusHttpErrorNotFound), ENOENT);
  EXPECT_EQ(s3_errno(S3StatusFailedToConnect), ECONNREFUSED);
  EXPECT_EQ(s3_errno(S3StatusConnectionFailed), ETIMEDOUT);
  EXPECT_EQ(s3_errno(S3StatusErrorRequestTimeout), ETIMEDOUT);
  EXPECT_EQ(s3_errno(S3StatusNameLookupError), EHOSTUNREACH);
  EXPECT_EQ(s3_errno(S3StatusErrorAccessDenied), EACCES);
  EXPECT_EQ(s3_errno(S3StatusErrorInvalidAccessKeyId), EACCES);
  EXPECT_EQ(s3_errno(S3StatusErrorSignatureDoesNotMatch), EACCES);
  EXPECT_EQ(s3_errno(S3StatusHttpErrorForbidden), EACCES);
  EXPECT_EQ(s3_errno(S3StatusErrorSlowDown), EAGAIN);
  EXPECT_EQ(s3_errno(S3StatusErrorEntityTooLarge), EFBIG);
  EXPECT_EQ(s3_errno(S3StatusOutOfMemory), ENOMEM);
  EXPECT_EQ(s3_errno(S3StatusErrorInvalidBucketName), EINVAL);
  EXPECT_EQ(s3_errno(S3StatusErrorNoSuchBucket), EIO);
  EXPECT_EQ(s3_errno(S3StatusErrorInternalError), EIO);
  EXPECT_EQ(s3_errno(S3StatusHttpErrorUnknown), EIO);
  EXPECT_EQ(s3_errno(S3StatusInternalError), EIO);
}

TEST(S3Store, OpenRefusesMissingOrMalformedLocationNamingTheKey) {
  struct Case {
    std::string endpoint, bucket, expect;
  } cases[] = {
      {"", "b", "s3.endpoint is not set"},
      {"http://127.0.0.1:8000", "cairn-test",
       "s3.endpoint http://127.0.0.1:8000: expected host:port only"},
      {"127.0.0.1:8000", "", "s3.bucket is not set"},
      {"127.0.0.1:8000", "a", "s3.bucket a: not a valid bucket name"},
  };
  for (const auto& c : cases) {
    S3Options o = options(c.endpoint);
    o.bucket = c.bucket;
    auto s = S3Store::open(o);
    ASSERT_FALSE(s) << c.expect;
    EXPECT_EQ(s.error().errnum, EINVAL);
    EXPECT_NE(s.error().text.find(c.expect), std::string::npos) << s.error().text;
  }
}

TEST(S3Store, OpenFailsWithEconnrefusedNamingTheEndpointWhenNothingListens) {
  SilentPort closed(false);
  auto s = S3Store::open(options(closed.endpoint()));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().errnum, ECONNREFUSED);
  EXPECT_NE(s.error().text.find("s3.endpoint " + closed.endpoint() +
                                " (http): cannot use bucket cairn-test: FailedToConnect"),
            std::string::npos)
      << s.error().text;
  EXPECT_EQ(s.error().text.find(kSecret), std::string::npos);
}

TEST(S3Store, OpenFailsWithEtimedoutAfterTheTimeoutWhenTheServerNeverAnswers) {
  SilentPort silent(true);
  auto start = std::chrono::steady_clock::now();
  auto s = S3Store::open(options(silent.endpoint()));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().errnum, ETIMEDOUT) << s.error().text;
  EXPECT_NE(s.error().text.find("no progress for 0.3 s (s3.timeout)"), std::string::npos)
      << s.error().text;
  EXPECT_GE(took, 0.3);
  EXPECT_LT(took, 5.0);  // a hang guard, not a timing
}

TEST(S3BackingType, DeclaresItsKeysAndRefusesToOpenWithoutCredentials) {
  TempDir dir;
  BackingType type{"s3", kS3BackingHelp, &s3_config_keys, &open_s3_backing};
  EXPECT_EQ(type.name, "s3");
  broker::ConfigKeys keys = type.config_keys();
  auto config = broker::ConfigValues::with_defaults(keys);
  EXPECT_EQ(config.string("s3.protocol"), "http");
  EXPECT_EQ(config.integer("s3.threads"), 4);
  EXPECT_EQ(config.number("s3.timeout"), 30.0);
  reactor::Loop loop;
  BackingEnv env{loop, dir.path(), config, [](broker::Level, std::string_view) {}};
  auto set = [&](const std::string& name, broker::Value v) {
    for (auto& k : keys)
      if (k.name == name) {
        ASSERT_EQ(config.set(k, std::move(v)), "");
      }
  };
  auto r = type.open(env);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().text.find("s3.endpoint is not set"), std::string::npos);
  set("s3.endpoint", std::string("127.0.0.1:1"));
  set("s3.bucket", std::string("cairn-test"));
  r = type.open(env);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().text.find("s3.credentials is not set"), std::string::npos);
  set("s3.credentials", dir.write("creds", std::string("secret_key=") + kSecret + "\n"));
  r = type.open(env);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().text, "s3.credentials " + dir.path() + "/creds: no access_key=... line");
  set("s3.credentials", dir.path() + "/absent");
  r = type.open(env);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum, ENOENT);
  EXPECT_NE(r.error().text.find("s3.credentials " + dir.path() + "/absent"), std::string::npos);
}
