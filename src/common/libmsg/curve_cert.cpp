// See curve_cert.hpp. The ZPL subset read here is what zcert writes: `#` comments, a section
// name alone on a line, and indented `name = "value"` lines under it.
#include "libmsg/curve_cert.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "libutil/fd.hpp"

namespace cairn::msg {

namespace {

// The value of `name` in the file's `curve` section, unquoted; nullopt if it has none.
std::optional<std::string> curve_value(const std::string& text, std::string_view name) {
  std::istringstream in(text);
  std::string line;
  bool in_curve = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string_view l = line;
    if (l.empty() || l.front() == '#') continue;
    if (l.front() != ' ' && l.front() != '\t') {  // a top-level section
      in_curve = l.substr(0, l.find_first_of(" \t=")) == "curve";
      continue;
    }
    if (!in_curve) continue;
    l.remove_prefix(l.find_first_not_of(" \t"));
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = l.substr(0, eq);
    key = key.substr(0, key.find_last_not_of(" \t") + 1);
    if (key != name) continue;
    std::string_view value = l.substr(eq + 1);
    value.remove_prefix(std::min(value.size(), value.find_first_not_of(" \t")));
    value = value.substr(0, value.find_last_not_of(" \t") + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return std::nullopt;
}

bool decode_key(const std::optional<std::string>& z85, std::array<uint8_t, 32>& out) {
  return z85 && z85->size() == 40 && zmq_z85_decode(out.data(), z85->c_str()) != nullptr;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string z85(const std::array<uint8_t, 32>& key) {
  char text[41];
  zmq_z85_encode(text, key.data(), key.size());
  return text;
}

util::Status write_all(const std::string& path, int flags, mode_t mode, const std::string& text) {
  util::UniqueFd fd(::open(path.c_str(), flags | O_WRONLY | O_CLOEXEC, mode));
  if (!fd) return util::Error{errno, {}};
  std::string_view left = text;
  while (!left.empty()) {
    ssize_t n = ::write(fd.get(), left.data(), left.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return util::Error{errno, {}};
    left.remove_prefix(static_cast<size_t>(n));
  }
  if (::close(fd.release()) != 0) return util::Error{errno, {}};
  return {};
}

}  // namespace

util::Result<CurveCert> load_curve_cert(const std::string& path) {
  std::optional<std::string> text = read_file(path + "_secret");
  if (!text) text = read_file(path);
  if (!text) return util::Error{errno ? errno : EIO, std::strerror(errno ? errno : EIO)};
  CurveCert cert;
  std::optional<std::string> public_text = curve_value(*text, "public-key");
  if (!decode_key(public_text, cert.public_key))
    return util::Error{EINVAL, "no 40-character Z85 public-key in its curve section"};
  cert.public_text = *public_text;
  std::optional<std::string> secret_text = curve_value(*text, "secret-key");
  if (secret_text) {
    if (!decode_key(secret_text, cert.secret_key))
      return util::Error{EINVAL, "its secret-key is not a 40-character Z85 key"};
    cert.has_secret = true;
  }
  return cert;
}

util::Result<CurveCert> new_curve_cert() {
  char public_text[41], secret_text[41];
  if (zmq_curve_keypair(public_text, secret_text) != 0)
    return util::Error{zmq_errno(), "cannot make a CURVE key pair: libzmq has no CURVE"};
  CurveCert cert;
  zmq_z85_decode(cert.public_key.data(), public_text);
  zmq_z85_decode(cert.secret_key.data(), secret_text);
  cert.has_secret = true;
  cert.public_text = public_text;
  return cert;
}

namespace {

// The file zcert would write: a comment, then the curve section.
std::string cert_text(const CurveCert& cert, bool with_secret) {
  std::string text = with_secret
                         ? "#   ZeroMQ CURVE **Secret** Certificate, written by cairn keygen\n"
                           "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its "
                           "permissions.\n"
                         : "#   ZeroMQ CURVE Public Certificate, written by cairn keygen\n"
                           "#   Give it to the peers that must know this key.\n";
  text += "\ncurve\n    public-key = \"" + cert.public_text + "\"\n";
  if (with_secret) text += "    secret-key = \"" + z85(cert.secret_key) + "\"\n";
  return text;
}

}  // namespace

util::Status save_curve_secret(const CurveCert& cert, const std::string& path) {
  return write_all(path, O_CREAT | O_EXCL, 0600, cert_text(cert, true));
}

util::Status save_curve_public(const CurveCert& cert, const std::string& path) {
  return write_all(path, O_CREAT | O_TRUNC, 0644, cert_text(cert, false));
}

}  // namespace cairn::msg
