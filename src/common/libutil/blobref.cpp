// Content hashing and blobref text form (see blobref.hpp).
#include "libutil/blobref.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cairn::util {

size_t digest_size(HashType type) { return type == HashType::kSha256 ? 32 : 20; }

std::string_view hash_name(HashType type) { return type == HashType::kSha256 ? "sha256" : "sha1"; }

std::optional<HashType> hash_type_from_name(std::string_view name) {
  if (name == "sha1") return HashType::kSha1;
  if (name == "sha256") return HashType::kSha256;
  return std::nullopt;
}

Hasher::Hasher(HashType type)
    : type_(type),
      md_(EVP_MD_fetch(nullptr, type == HashType::kSha256 ? "SHA256" : "SHA1", nullptr)),
      ctx_(EVP_MD_CTX_new()) {
  if (!md_ || !ctx_)
    throw std::runtime_error("OpenSSL: cannot set up " + std::string(hash_name(type)));
}

Digest Hasher::hash(std::string_view data) {
  Digest d;
  d.type = type_;
  unsigned int len = 0;
  // Initialising an existing context with the same algorithm reuses its buffers.
  if (EVP_DigestInit_ex2(ctx_.get(), md_.get(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx_.get(), d.bytes.data(), &len) != 1 || len != d.size()) {
    // Only a broken OpenSSL gets here; a wrong digest would corrupt the store.
    throw std::runtime_error("OpenSSL: digest failed");
  }
  return d;
}

namespace {
constexpr char kHex[] = "0123456789abcdef";

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

size_t blobref_format(const Digest& d, char* buf) {
  std::string_view name = hash_name(d.type);
  std::memcpy(buf, name.data(), name.size());
  char* p = buf + name.size();
  *p++ = '-';
  const size_t n = d.size();  // out of line: not asked again for every byte
  for (size_t i = 0; i < n; i++) {
    *p++ = kHex[d.bytes[i] >> 4];
    *p++ = kHex[d.bytes[i] & 0xf];
  }
  return static_cast<size_t>(p - buf);
}

std::string blobref_format(const Digest& d) {
  char buf[kMaxBlobrefSize];
  return std::string(buf, blobref_format(d, buf));
}

Result<Digest> blobref_parse(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos)
    return Error{EINVAL, "malformed blobref: expected HASH-HEX (sha1-... or sha256-...)"};
  auto type = hash_type_from_name(text.substr(0, dash));
  if (!type) return Error{EINVAL, "malformed blobref: the hash is neither sha1 nor sha256"};
  std::string_view hex = text.substr(dash + 1);
  for (char c : hex)
    if (hexval(c) < 0) return Error{EINVAL, "malformed blobref: a digest character is not hex"};
  if (hex.size() != 2 * digest_size(*type)) {
    return Error{EPROTO, "malformed blobref: " + std::string(hash_name(*type)) + " takes " +
                             std::to_string(2 * digest_size(*type)) + " hex digits, not " +
                             std::to_string(hex.size())};
  }
  Digest d;
  d.type = *type;
  for (size_t i = 0, n = d.size(); i < n; i++)
    d.bytes[i] = static_cast<uint8_t>(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
  return d;
}

std::string blobref_hash(HashType type, std::string_view data) {
  Hasher h(type);
  return blobref_format(h.hash(data));
}

}  // namespace cairn::util
