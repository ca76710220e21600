// The broker's configuration: one table of known keys (name, type, default, validator) filled
// from a TOML file and `-o KEY=VALUE` options, the later setting winning.
// Invariants: every stored value belongs to a known key and has passed that key's type and
// range check; a key never set holds its default. Every failure is a ConfigError naming the key.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cairn::broker {

// A bad key or value; what() is "<key>: <what is wrong>" (printed as `cairn: config: ...`).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& why)
      : std::runtime_error(key + ": " + why), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

enum class ValueType { kNumber, kInteger, kString, kStringList };
using Value = std::variant<double, int64_t, std::string, std::vector<std::string>>;

class Config {
 public:
  // All keys at their defaults. stats.prefix defaults to "cairn.<rank>"; stats.endpoint to
  // `statsd_env` (the caller passes $CAIRN_STATSD, empty if unset).
  explicit Config(int rank = 0, std::string statsd_env = {});

  // Reads a TOML file; tables nest keys (`[stats]` + `period = 0` is `stats.period`).
  void load_file(const std::string& path);
  // Parses TOML text (as load_file, `origin` names it in errors).
  void load_string(std::string_view toml, const std::string& origin);
  // Applies one `KEY=VALUE`: VALUE is read as a TOML value if it parses as one, else as a
  // string; a string key takes the text as given.
  void set_option(std::string_view key_equals_value);

  // The value as text: numbers in shortest form, strings as they are, lists as a JSON array.
  std::string text(const std::string& key) const;
  double number(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  const std::string& string(const std::string& key) const;
  const std::vector<std::string>& list(const std::string& key) const;

  // Every known key, in table order (for documentation and tests).
  static std::vector<std::string> keys();
  static bool known(std::string_view key);

 private:
  // Type-checks `v` against the key's row, converting where TOML allows (integer -> number),
  // runs the validator, and stores it. Throws ConfigError.
  void set(const std::string& key, Value v);
  const Value& get(const std::string& key) const;

  std::map<std::string, Value, std::less<>> values_;
};

}  // namespace cairn::broker
