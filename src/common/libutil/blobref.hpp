// cairn::util: content hashing (OpenSSL EVP) and blobrefs, the text form of a digest:
// `sha1-<40 hex>` or `sha256-<64 hex>` (lower-case hex).
// Invariants: a Digest's unused tail bytes are zero, so Digests compare with ==; a Hasher owns
// one EVP_MD_CTX, reused for every hash (no allocation per call in steady state).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "libutil/result.hpp"

namespace cairn::util {

enum class HashType : uint8_t { kSha1 = 1, kSha256 = 2 };

constexpr size_t kMaxDigestSize = 32;
// Longest blobref text: "sha256-" + 64 hex.
constexpr size_t kMaxBlobrefSize = 7 + 2 * kMaxDigestSize;

// Bytes of a digest of this type (20 or 32).
size_t digest_size(HashType type);
// "sha1" / "sha256".
std::string_view hash_name(HashType type);
// The type named `name` ("sha1", "sha256"); nullopt for anything else.
std::optional<HashType> hash_type_from_name(std::string_view name);

struct Digest {
  HashType type = HashType::kSha1;
  std::array<uint8_t, kMaxDigestSize> bytes{};  // digest_size(type) bytes used, rest zero

  size_t size() const { return digest_size(type); }
  bool operator==(const Digest&) const = default;
};

// Owning wrapper of one EVP_MD_CTX.
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;

// Owning wrapper of one fetched EVP_MD (an algorithm looked up once, not at every hash).
struct EvpMdDeleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
using EvpMdPtr = std::unique_ptr<EVP_MD, EvpMdDeleter>;

// Hashes data with one algorithm; not thread-safe (one per thread).
class Hasher {
 public:
  // Throws std::runtime_error if OpenSSL cannot provide the algorithm (start-up only).
  explicit Hasher(HashType type);
  HashType type() const { return type_; }
  Digest hash(std::string_view data);

 private:
  HashType type_;
  // Fetched once: with OpenSSL 3, EVP_sha1() would be looked up again (under a lock) by every
  // EVP_DigestInit_ex, a quarter of the cost of hashing a 1 KiB blob.
  EvpMdPtr md_;
  EvpMdCtxPtr ctx_;
};

// The blobref text of `d`.
std::string blobref_format(const Digest& d);
// Writes the blobref of `d` into `buf` (at least kMaxBlobrefSize bytes); returns its length.
size_t blobref_format(const Digest& d, char* buf);

// Parses a blobref (hex of either case). Errors: EINVAL for a malformed text (no `-`, unknown
// hash name, a character that is not hex); EPROTO for well-formed hex of the wrong length for
// its hash name. The error text does not quote `text` (it may be any bytes a client sent).
Result<Digest> blobref_parse(std::string_view text);

// Convenience: the blobref of `data` hashed with `type`.
std::string blobref_hash(HashType type, std::string_view data);

}  // namespace cairn::util
