// Unit tests for libutil's hashing and blobref parsing: known digests (FIPS 180 vectors),
// round trips, and the EINVAL/EPROTO split for malformed text.
#include "libutil/blobref.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

using namespace cairn::util;

TEST(Blobref, Sha1OfKnownInputsMatchesFips180) {
  EXPECT_EQ(blobref_hash(HashType::kSha1, ""), "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(blobref_hash(HashType::kSha1, "abc"), "sha1-a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Blobref, Sha256OfKnownInputsMatchesFips180) {
  EXPECT_EQ(blobref_hash(HashType::kSha256, "abc"),
            "sha256-ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Blobref, HasherIsReusableAcrossCalls) {
  Hasher h(HashType::kSha1);
  Digest a = h.hash("abc");
  Digest b = h.hash("");
  Digest c = h.hash("abc");
  EXPECT_EQ(a, c);
  EXPECT_NE(a, b);
  EXPECT_EQ(blobref_format(b), "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(Blobref, ParseRoundTripsBothTypes) {
  for (HashType t : {HashType::kSha1, HashType::kSha256}) {
    Hasher h(t);
    Digest d = h.hash("some data");
    std::string text = blobref_format(d);
    auto parsed = blobref_parse(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().text;
    EXPECT_EQ(*parsed, d);
    EXPECT_EQ(parsed->size(), digest_size(t));
  }
}

TEST(Blobref, ParseAcceptsUpperCaseHex) {
  auto d = blobref_parse("sha1-DA39A3EE5E6B4B0D3255BFEF95601890AFD80709");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(blobref_format(*d), "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

// The errno of parsing `text` (0 if it parses).
int parse_errno(std::string_view text) {
  auto d = blobref_parse(text);
  return d.ok() ? 0 : d.error().errnum;
}

TEST(Blobref, WrongLengthIsEproto) {
  EXPECT_EQ(parse_errno("sha1-da39"), EPROTO);
  EXPECT_EQ(parse_errno("sha1-"), EPROTO);
  EXPECT_EQ(parse_errno("sha1-da39a3ee5e6b4b0d3255bfef95601890afd8070900"), EPROTO);
  // A sha1-sized digest under the sha256 name.
  EXPECT_EQ(parse_errno("sha256-da39a3ee5e6b4b0d3255bfef95601890afd80709"), EPROTO);
}

TEST(Blobref, WrongFormIsEinval) {
  EXPECT_EQ(parse_errno(""), EINVAL);
  EXPECT_EQ(parse_errno("da39a3ee5e6b4b0d3255bfef95601890afd80709"), EINVAL);
  EXPECT_EQ(parse_errno("md5-da39a3ee5e6b4b0d3255bfef95601890afd80709"), EINVAL);
  EXPECT_EQ(parse_errno("sha1-da39a3ee5e6b4b0d3255bfef95601890afd8070g"), EINVAL);
  EXPECT_EQ(parse_errno("sha1-da39a3ee5e6b4b0d3255bfef95601890afd8070\n"), EINVAL);
  EXPECT_EQ(parse_errno("SHA1-da39a3ee5e6b4b0d3255bfef95601890afd80709"), EINVAL);
  // A bad digit in a high nibble, and bytes outside ASCII (negative as char), at the right
  // length and at a wrong one: the character is named before the length.
  EXPECT_EQ(parse_errno("sha1-Xa39a3ee5e6b4b0d3255bfef95601890afd80709"), EINVAL);
  EXPECT_EQ(parse_errno("sha1-da39a3ee5e6b4b0d3255bfef95601890afd8070\xff"), EINVAL);
  EXPECT_EQ(parse_errno("sha1-\x80a39a3ee5e6b4b0d3255bfef95601890afd80709"), EINVAL);
  EXPECT_EQ(parse_errno("sha1-\xff\xff"), EINVAL);
  EXPECT_EQ(parse_errno("sha256-da39a3ee5e6b4b0d3255bfef95601890afd8070g"), EINVAL);
}

TEST(Blobref, ParseErrorsSayWhatIsWrongWithoutQuotingTheInput) {
  auto short_hex = blobref_parse("sha256-abcd");
  ASSERT_FALSE(short_hex.ok());
  EXPECT_EQ(short_hex.error().text, "malformed blobref: sha256 takes 64 hex digits, not 4");
  auto bad_char = blobref_parse("sha1-zz");
  ASSERT_FALSE(bad_char.ok());
  EXPECT_EQ(bad_char.error().text, "malformed blobref: a digest character is not hex");
}

TEST(Blobref, HashNamesRoundTrip) {
  EXPECT_EQ(hash_type_from_name("sha1"), HashType::kSha1);
  EXPECT_EQ(hash_type_from_name("sha256"), HashType::kSha256);
  EXPECT_FALSE(hash_type_from_name("md5").has_value());
  EXPECT_EQ(hash_name(HashType::kSha256), "sha256");
}
