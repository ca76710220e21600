// curve_cert against CZMQ's zcert: each reads what the other writes, with the same keys.
#include "libmsg/curve_cert.hpp"

#include <czmq.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "libtest/temp_dir.hpp"

namespace {

using cairn::msg::CurveCert;
using cairn::test::TempDir;

struct ZcertDeleter {
  void operator()(zcert_t* c) const { zcert_destroy(&c); }
};
using Zcert = std::unique_ptr<zcert_t, ZcertDeleter>;

TEST(CurveCert, ReadsWhatZcertWrites) {
  TempDir dir;
  const std::string path = dir.path() + "/client";
  Zcert z(zcert_new());
  ASSERT_EQ(zcert_save(z.get(), path.c_str()), 0);  // path and path_secret
  // PATH finds PATH_secret, as zcert_load does; PATH_secret itself works too.
  for (const std::string& p : {path, path + "_secret"}) {
    auto c = cairn::msg::load_curve_cert(p);
    ASSERT_TRUE(c) << c.error().text;
    EXPECT_TRUE(c->has_secret);
    EXPECT_EQ(std::memcmp(c->public_key.data(), zcert_public_key(z.get()), 32), 0);
    EXPECT_EQ(std::memcmp(c->secret_key.data(), zcert_secret_key(z.get()), 32), 0);
    EXPECT_EQ(c->public_text, zcert_public_txt(z.get()));
  }
  // The public file alone has no secret.
  ASSERT_EQ(std::remove((path + "_secret").c_str()), 0);
  auto pub = cairn::msg::load_curve_cert(path);
  ASSERT_TRUE(pub) << pub.error().text;
  EXPECT_FALSE(pub->has_secret);
  EXPECT_EQ(pub->public_text, zcert_public_txt(z.get()));
}

TEST(CurveCert, ZcertReadsWhatItWrites) {
  TempDir dir;
  const std::string path = dir.path() + "/server";
  auto c = cairn::msg::new_curve_cert();
  ASSERT_TRUE(c) << c.error().text;
  ASSERT_TRUE(cairn::msg::save_curve_secret(*c, path + "_secret"));
  ASSERT_TRUE(cairn::msg::save_curve_public(*c, path));
  Zcert secret(zcert_load((path + "_secret").c_str()));
  ASSERT_TRUE(secret);
  EXPECT_EQ(std::memcmp(zcert_public_key(secret.get()), c->public_key.data(), 32), 0);
  EXPECT_EQ(std::memcmp(zcert_secret_key(secret.get()), c->secret_key.data(), 32), 0);
  ASSERT_EQ(std::remove((path + "_secret").c_str()), 0);
  Zcert pub(zcert_load(path.c_str()));
  ASSERT_TRUE(pub);
  EXPECT_STREQ(zcert_public_txt(pub.get()), c->public_text.c_str());
  // The two keys of a new pair differ, and a second pair differs from the first.
  EXPECT_NE(c->public_key, c->secret_key);
  auto other = cairn::msg::new_curve_cert();
  ASSERT_TRUE(other);
  EXPECT_NE(other->public_key, c->public_key);
}

TEST(CurveCert, TheSecretFileIsPrivateAndNeverReplaced) {
  TempDir dir;
  const std::string path = dir.path() + "/key_secret";
  auto c = cairn::msg::new_curve_cert();
  ASSERT_TRUE(c);
  ASSERT_TRUE(cairn::msg::save_curve_secret(*c, path));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = cairn::msg::save_curve_secret(*c, path);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().errnum, EEXIST);
}

TEST(CurveCert, SaysWhyAFileIsNotACertificate) {
  TempDir dir;
  auto missing = cairn::msg::load_curve_cert(dir.path() + "/absent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errnum, ENOENT);
  EXPECT_EQ(missing.error().text, std::strerror(ENOENT));
  const std::string junk = dir.path() + "/junk";
  std::ofstream(junk) << "curve\n    public-key = \"short\"\n";
  auto bad = cairn::msg::load_curve_cert(junk);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().errnum, EINVAL);
  EXPECT_NE(bad.error().text.find("public-key"), std::string::npos) << bad.error().text;
  // A key outside the curve section is not the certificate's.
  const std::string elsewhere = dir.path() + "/elsewhere";
  auto c = cairn::msg::new_curve_cert();
  ASSERT_TRUE(c);
  std::ofstream(elsewhere) << "metadata\n    public-key = \"" << c->public_text << "\"\n";
  EXPECT_FALSE(cairn::msg::load_curve_cert(elsewhere));
  const std::string bad_secret = dir.path() + "/bad_secret_key";
  std::ofstream(bad_secret) << "curve\n    public-key = \"" << c->public_text
                            << "\"\n    secret-key = \"nope\"\n";
  auto s = cairn::msg::load_curve_cert(bad_secret);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().text.find("secret-key"), std::string::npos) << s.error().text;
}

}  // namespace
