// Configuration as a module sees it: a ConfigKey declares one key (name, type, range or
// choices, default, one line of help) beside the code that reads it, and ConfigValues hands
// that code typed values that have passed their key's checks.
// Invariants: a ConfigValues holds a value for every key it was built from, each of its key's
// type and inside its range; reading an undeclared key, or as the wrong type, is a programming
// error (std::logic_error), never a user's.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cairn::broker {

enum class ValueType { kNumber, kInteger, kString, kStringList };
using Value = std::variant<double, int64_t, std::string, std::vector<std::string>>;

struct ConfigKey {
  // Returns "" if `v` is acceptable, else what is wrong with it.
  using Check = std::function<std::string(const Value&)>;

  std::string name;  // dotted: "content.hash" is `hash` in the TOML table `[content]`
  ValueType type = ValueType::kString;
  Value default_value;
  std::string help;           // one line: what the key means
  std::string shown_default;  // the default as documented, when it depends on the run
  // Numbers: [min, max] (min excluded if min_exclusive); integers: [imin, imax].
  double min = 0, max = 0;
  bool min_exclusive = false;
  int64_t imin = 0, imax = 0;
  std::vector<std::string> choices;  // strings: the allowed values; empty: any
  Check check;                       // a further check, after type, range and choices

  static ConfigKey number(std::string name, double def, double min, double max, std::string help);
  static ConfigKey integer(std::string name, int64_t def, int64_t min, int64_t max,
                           std::string help);
  static ConfigKey string(std::string name, std::string def, std::string help);
  static ConfigKey choice(std::string name, std::string def, std::vector<std::string> choices,
                          std::string help);
  static ConfigKey string_list(std::string name, std::string help);

  ConfigKey&& above_min() &&;  // min is excluded: "> min"
  ConfigKey&& with_check(Check c) &&;
  ConfigKey&& documented_default(std::string text) &&;

  // "" if `v` has this key's type and passes its range, choices and check; else why not.
  std::string validate(const Value& v) const;
  // "number, > 0 to 86400", "string: sha1 or sha256", ... for --help-config.
  std::string describe() const;
  // The default as a reader sees it: shown_default, else the value in TOML form.
  std::string default_text() const;
};
using ConfigKeys = std::vector<ConfigKey>;

// A value as TOML writes it (2.0, 1440, "sha1", ["a", "b"]).
std::string toml_text(const Value& v);
const char* type_name(ValueType t);  // "a number", "an integer", ...

// Typed, validated configuration values. Built by the broker's Config from every declared key,
// or by a test from a module's own declarations (with_defaults), so no default is written twice.
class ConfigValues {
 public:
  // Every key at its default.
  static ConfigValues with_defaults(const ConfigKeys& keys);

  double number(std::string_view key) const;
  int64_t integer(std::string_view key) const;
  const std::string& string(std::string_view key) const;
  const std::vector<std::string>& list(std::string_view key) const;
  // Numbers in shortest form, strings as they are, lists as a JSON array.
  std::string text(std::string_view key) const;
  bool has(std::string_view key) const { return values_.count(key) != 0; }

  // Stores `v` for a declared key after checking it against `key`; "" on success, else why
  // not (the value is left unchanged).
  std::string set(const ConfigKey& key, Value v);

 private:
  const Value& get(std::string_view key) const;
  std::map<std::string, Value, std::less<>> values_;
};

}  // namespace cairn::broker
