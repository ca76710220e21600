// Unit tests for libutil's hashing and blobref parsing: known digests (FIPS 180 vectors),
// round trips, and the EINVAL/EPROTO split for malformed text.
#include "libutil/blobref.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

using namespace cairn::util;

TEST(Blobref, Sha1OfKnownInputsMatchesFips180) {
  EXPECT_EQ(blobref_hash(HashType::kSha1, ""), "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(blobref_hash(HashType::kSha1, "abc"),
            "sha1-a9993e364706816aba3e25717850c26c9cd0d89d");
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
    Digest parsed;
    ASSERT_EQ(blobref_parse(text, &parsed), 0) << text;
    EXPECT_EQ(parsed, d);
    EXPECT_EQ(parsed.size(), digest_size(t));
  }
}

TEST(Blobref, ParseAcceptsUpperCaseHex) {
  Digest d;
  ASSERT_EQ(blobref_parse("sha1-DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", &d), 0);
  EXPECT_EQ(blobref_format(d), "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(Blobref, WrongLengthIsEproto) {
  Digest d;
  EXPECT_EQ(blobref_parse("sha1-da39", &d), EPROTO);
  EXPECT_EQ(blobref_parse("sha1-", &d), EPROTO);
  EXPECT_EQ(blobref_parse("sha1-da39a3ee5e6b4b0d3255bfef95601890afd8070900", &d), EPROTO);
  // A sha1-sized digest under the sha256 name.
  EXPECT_EQ(blobref_parse("sha256-da39a3ee5e6b4b0d3255bfef95601890afd80709", &d), EPROTO);
}

TEST(Blobref, WrongFormIsEinval) {
  Digest d;
  EXPECT_EQ(blobref_parse("", &d), EINVAL);
  EXPECT_EQ(blobref_parse("da39a3ee5e6b4b0d3255bfef95601890afd80709", &d), EINVAL);
  EXPECT_EQ(blobref_parse("md5-da39a3ee5e6b4b0d3255bfef95601890afd80709", &d), EINVAL);
  EXPECT_EQ(blobref_parse("sha1-da39a3ee5e6b4b0d3255bfef95601890afd8070g", &d), EINVAL);
  EXPECT_EQ(blobref_parse("sha1-da39a3ee5e6b4b0d3255bfef95601890afd8070\n", &d), EINVAL);
  EXPECT_EQ(blobref_parse("SHA1-da39a3ee5e6b4b0d3255bfef95601890afd80709", &d), EINVAL);
}

TEST(Blobref, FailedParseLeavesOutputUntouched) {
  Digest d;
  d.bytes[0] = 0x42;
  EXPECT_NE(blobref_parse("sha1-zz", &d), 0);
  EXPECT_EQ(d.bytes[0], 0x42);
}

TEST(Blobref, HashNamesRoundTrip) {
  EXPECT_EQ(hash_type_from_name("sha1"), HashType::kSha1);
  EXPECT_EQ(hash_type_from_name("sha256"), HashType::kSha256);
  EXPECT_FALSE(hash_type_from_name("md5").has_value());
  EXPECT_EQ(hash_name(HashType::kSha256), "sha256");
}
