// The blobref text form (see blobref.hpp); hashing, the part that needs OpenSSL, is in
// hasher.cpp, so that a program that only reads and writes blobrefs (cairn) links no libcrypto.
#include "libutil/blobref.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
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

namespace {
constexpr char kHex[] = "0123456789abcdef";

// The value of each byte as a hex digit, or -1.
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; c++) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; c++) t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; c++) t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}();

int hexval(char c) { return kHexValue[static_cast<unsigned char>(c)]; }
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
  auto not_hex = [] { return Error{EINVAL, "malformed blobref: a digest character is not hex"}; };
  const size_t digits = 2 * digest_size(*type);
  if (hex.size() == digits) {  // the usual case: checked while decoded, in one pass
    Digest d;
    d.type = *type;
    for (size_t i = 0; i < digits / 2; i++) {
      int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
      if ((hi | lo) < 0) return not_hex();
      d.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return d;
  }
  // A wrong length: a character that is not hex is still the error named first.
  for (char c : hex)
    if (hexval(c) < 0) return not_hex();
  return Error{EPROTO, "malformed blobref: " + std::string(hash_name(*type)) + " takes " +
                           std::to_string(digits) + " hex digits, not " +
                           std::to_string(hex.size())};
}

}  // namespace cairn::util
