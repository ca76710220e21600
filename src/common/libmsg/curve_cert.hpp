// CURVE certificates as files, in the ZPL text format that CZMQ's zcert reads and writes (a
// `curve` section with `public-key = "Z85"` and, in the secret file, `secret-key = "Z85"`), so
// that clients and `cairn keygen` need only libzmq: certificates either side writes, the other
// reads. The broker still loads its own with zcert.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "libutil/result.hpp"

namespace cairn::msg {

struct CurveCert {
  std::array<uint8_t, 32> public_key{};
  std::array<uint8_t, 32> secret_key{};
  bool has_secret = false;
  std::string public_text;  // public_key in Z85 (40 characters)
};

// Loads PATH_secret if it can be read, else PATH (as zcert_load does). Errors: the file's
// errno when neither can be read; EINVAL for a file without a 40-character Z85 public key, or
// with a secret key that is not one.
util::Result<CurveCert> load_curve_cert(const std::string& path);

// A new key pair (zmq_curve_keypair). Error: libzmq was built without CURVE (ENOTSUP).
util::Result<CurveCert> new_curve_cert();

// Writes `cert`'s secret certificate to `path` (created with mode 0600, never wider, and not
// replacing an existing file: remove it first to replace it) or its public one (mode 0644 less
// the umask, replacing). The Error names the errno; its text is empty.
util::Status save_curve_secret(const CurveCert& cert, const std::string& path);
util::Status save_curve_public(const CurveCert& cert, const std::string& path);

}  // namespace cairn::msg
