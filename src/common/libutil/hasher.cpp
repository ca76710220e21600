// Content hashing through OpenSSL's EVP (see blobref.hpp): Hasher and blobref_hash.
#include <stdexcept>
#include <string>

#include "libutil/blobref.hpp"

namespace cairn::util {

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

std::string blobref_hash(HashType type, std::string_view data) {
  Hasher h(type);
  return blobref_format(h.hash(data));
}

}  // namespace cairn::util
