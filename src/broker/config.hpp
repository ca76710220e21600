// The broker's configuration: the keys the broker and the modules it runs (and their backing
// stores) declare, filled from a TOML file and `-o KEY=VALUE` options, the later setting winning.
// Invariants: every stored value belongs to a declared key and has passed that key's type and
// range check; a key never set holds its default. Every failure is a ConfigError naming the key.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "broker/module-api/config_key.hpp"

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

// The largest broker.rank (and --rank).
inline constexpr int64_t kMaxRank = 2147483647;

// The broker's own keys (heartbeat.*, stats.*, broker.*, security.*). stats.prefix defaults to
// "cairn.{rank}", stats.endpoint to `statsd_env` ($CAIRN_STATSD, empty if unset).
ConfigKeys broker_config_keys(const std::string& statsd_env);
// The broker's keys followed by `module_keys` (module_config_keys() of the modules it runs).
ConfigKeys all_config_keys(const std::string& statsd_env, const ConfigKeys& module_keys);
// This host's name up to its first dot ({host} in stats.prefix).
std::string short_host_name();
// Every key, one paragraph each (name, type and range, default, help): `--help-config`.
std::string config_help(const ConfigKeys& keys);

class Config {
 public:
  // All of all_config_keys(statsd_env, module_keys) at their defaults. `host` is the {host}
  // of stats.prefix.
  explicit Config(const ConfigKeys& module_keys = {}, std::string statsd_env = {},
                  std::string host = short_host_name());

  // Reads a TOML file; tables nest keys (`[stats]` + `period = 0` is `stats.period`).
  void load_file(const std::string& path);
  // Parses TOML text (as load_file, `origin` names it in errors).
  void load_string(std::string_view toml, const std::string& origin);
  // Applies one `KEY=VALUE`: VALUE is read as a TOML value if it parses as one, else as a
  // string; a string key takes the text as given.
  void set_option(std::string_view key_equals_value);
  // --rank: sets broker.rank; called after the file and the options, so it wins over both.
  void set_rank(int64_t rank);

  // The typed values, as modules receive them through their ModuleContext. stats.prefix reads
  // as the prefix itself: its {rank} and {host} replaced by broker.rank and the host name.
  const ConfigValues& values() const { return values_; }
  std::string text(const std::string& key) const { return values_.text(key); }
  double number(const std::string& key) const { return values_.number(key); }
  int64_t integer(const std::string& key) const { return values_.integer(key); }
  const std::string& string(const std::string& key) const { return values_.string(key); }
  const std::vector<std::string>& list(const std::string& key) const { return values_.list(key); }

  // Every declared key, in declaration order (for documentation and tests).
  const ConfigKeys& schema() const { return schema_; }

 private:
  const ConfigKey* find(std::string_view key) const;
  // Checks `v` against the key's declaration and stores it; a new stats.prefix or broker.rank
  // also stores the prefix's new expansion. Throws ConfigError naming the key (stats.prefix
  // for a prefix that expands to more than 127 characters or to a character outside
  // [A-Za-z0-9_.-]).
  void set(const std::string& key, Value v);

  ConfigKeys schema_;
  ConfigValues values_;
  std::string host_;             // {host}
  std::string prefix_template_;  // stats.prefix as given, with its placeholders
};

}  // namespace cairn::broker
