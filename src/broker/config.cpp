// The broker's configuration keys (kKeys, one row per key) and the TOML / `-o` readers.
// A part that adds a key adds one row to kKeys and documents it in cairn.toml(5) and
// etc/cairn.toml; nothing else needs to change.
#include "broker/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <zmq.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace cairn::broker {

namespace {

struct Env {
  int rank;
  const std::string& statsd;
};

// Returns "" if the value is acceptable, else what is wrong with it.
using Validator = std::string (*)(const Value&);
using DefaultFn = Value (*)(const Env&);

struct KeyRow {
  std::string_view name;
  ValueType type;
  DefaultFn default_value;
  Validator check;
};

std::string no_check(const Value&) { return {}; }

// Bounds are whole seconds: clang 14 has no floating-point template arguments.
template <int64_t Lo, int64_t Hi>
std::string number_in(const Value& v) {
  double d = std::get<double>(v);
  if (!std::isfinite(d) || d < Lo || d > Hi)
    return fmt::format("{} is out of range: expected a number of seconds from {} to {}", d, Lo, Hi);
  return {};
}
std::string positive_seconds(const Value& v) {
  double d = std::get<double>(v);
  if (!std::isfinite(d) || d <= 0 || d > 86400)
    return fmt::format("{} is out of range: expected seconds > 0 and <= 86400", d);
  return {};
}
template <int64_t Lo, int64_t Hi>
std::string integer_in(const Value& v) {
  int64_t i = std::get<int64_t>(v);
  if (i < Lo || i > Hi) return fmt::format("{} is out of range: expected {} to {}", i, Lo, Hi);
  return {};
}
std::string one_of(const Value& v, std::initializer_list<std::string_view> choices) {
  const auto& s = std::get<std::string>(v);
  for (auto c : choices)
    if (s == c) return {};
  return fmt::format("'{}' is not allowed: expected {}", s, fmt::join(choices, " or "));
}
std::string hash_name(const Value& v) { return one_of(v, {"sha1", "sha256"}); }
std::string backing_name(const Value& v) { return one_of(v, {"sqlite", "none"}); }
std::string stats_prefix(const Value& v) {
  const auto& s = std::get<std::string>(v);
  if (s.size() > 127) return fmt::format("prefix is {} characters, at most 127 allowed", s.size());
  if (s.find_first_of(":|@\n ") != std::string::npos)
    return fmt::format("'{}' contains one of ':', '|', '@', space or newline", s);
  return {};
}
std::string z85_keys(const Value& v) {
  for (const auto& k : std::get<std::vector<std::string>>(v)) {
    uint8_t raw[32];
    if (k.size() != 40 || zmq_z85_decode(raw, k.c_str()) == nullptr)
      return fmt::format(
          "'{}' is not a public key: expected 40 Z85 characters as printed by "
          "`cairn keygen`",
          k);
  }
  return {};
}

// clang-format off
const KeyRow kKeys[] = {
  {"heartbeat.period", ValueType::kNumber, [](const Env&) -> Value { return 2.0; },
   positive_seconds},
  {"stats.endpoint", ValueType::kString, [](const Env& e) -> Value { return e.statsd; },
   no_check},  // a malformed endpoint is libstats' to report ("parse error"), not fatal
  {"stats.period", ValueType::kNumber, [](const Env&) -> Value { return 1.0; },
   number_in<0, 86400>},
  {"stats.prefix", ValueType::kString,
   [](const Env& e) -> Value { return fmt::format("cairn.{}", e.rank); }, stats_prefix},
  {"stats.max-packet", ValueType::kInteger, [](const Env&) -> Value { return int64_t{1440}; },
   integer_in<64, 65507>},
  {"content.hash", ValueType::kString, [](const Env&) -> Value { return std::string("sha1"); },
   hash_name},
  {"content.blob-size-limit", ValueType::kInteger,
   [](const Env&) -> Value { return int64_t{1073741824}; }, integer_in<1, 4294967295>},
  {"content.flush-batch-limit", ValueType::kInteger,
   [](const Env&) -> Value { return int64_t{256}; }, integer_in<1, 1048576>},
  {"content.purge-target-size", ValueType::kInteger,
   [](const Env&) -> Value { return int64_t{16777216}; }, integer_in<0, (int64_t{1} << 50)>},
  {"content.purge-old-entry", ValueType::kNumber, [](const Env&) -> Value { return 10.0; },
   number_in<0, 31536000>},
  {"content.backing", ValueType::kString,
   [](const Env&) -> Value { return std::string("sqlite"); }, backing_name},
  {"job-manager.plugins", ValueType::kStringList,
   [](const Env&) -> Value { return std::vector<std::string>{}; }, no_check},
  {"security.curve-cert", ValueType::kString, [](const Env&) -> Value { return std::string(); },
   no_check},  // loaded (and checked) when a tcp:// endpoint is bound
  {"security.allowed-clients", ValueType::kStringList,
   [](const Env&) -> Value { return std::vector<std::string>{}; }, z85_keys},
};
// clang-format on

const KeyRow* find_row(std::string_view key) {
  for (const auto& row : kKeys)
    if (row.name == key) return &row;
  return nullptr;
}

const char* type_name(ValueType t) {
  switch (t) {
    case ValueType::kNumber:
      return "a number";
    case ValueType::kInteger:
      return "an integer";
    case ValueType::kString:
      return "a string";
    case ValueType::kStringList:
      return "an array of strings";
  }
  return "?";
}

const char* toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

// Converts a TOML node to the key's type, or throws ConfigError saying what was found.
Value from_toml(const std::string& key, ValueType want, const toml::node& n) {
  auto wrong = [&]() {
    return ConfigError(key, fmt::format("expected {}, got {}", type_name(want), toml_type_name(n)));
  };
  switch (want) {
    case ValueType::kNumber:
      if (auto d = n.as_floating_point()) return d->get();
      if (auto i = n.as_integer()) return static_cast<double>(i->get());
      throw wrong();
    case ValueType::kInteger:
      if (auto i = n.as_integer()) return i->get();
      throw wrong();
    case ValueType::kString:
      if (auto s = n.as_string()) return s->get();
      throw wrong();
    case ValueType::kStringList: {
      auto* a = n.as_array();
      if (!a) throw wrong();
      std::vector<std::string> out;
      for (const auto& e : *a) {
        auto* s = e.as_string();
        if (!s)
          throw ConfigError(
              key, fmt::format("expected an array of strings, found {} in it", toml_type_name(e)));
        out.push_back(s->get());
      }
      return out;
    }
  }
  throw wrong();
}

// Visits every leaf of `table`, calling fn(dotted_key, node).
template <typename Fn>
void walk(const toml::table& table, const std::string& prefix, Fn&& fn) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (auto* sub = node.as_table())
      walk(*sub, key, fn);
    else
      fn(key, node);
  }
}

ConfigError toml_error(const toml::parse_error& e, const std::string& origin) {
  const auto& where = e.source().begin;
  return ConfigError(fmt::format("{}:{}:{}", origin, where.line, where.column),
                     fmt::format("not valid TOML: {}", e.description()));
}

}  // namespace

Config::Config(int rank, std::string statsd_env) {
  Env env{rank, statsd_env};
  for (const auto& row : kKeys) values_.emplace(std::string(row.name), row.default_value(env));
}

void Config::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path, fmt::format("cannot read the file: {}", std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  load_string(text.str(), path);
}

void Config::load_string(std::string_view text, const std::string& origin) {
  toml::table table;
  try {
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw toml_error(e, origin);
  }
  walk(table, "", [&](const std::string& key, const toml::node& node) {
    const KeyRow* row = find_row(key);
    if (!row) throw ConfigError(key, "unknown key (see cairn.toml(5) for the keys)");
    set(key, from_toml(key, row->type, node));
  });
}

void Config::set_option(std::string_view kv) {
  auto eq = kv.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw ConfigError(std::string("-o ") + std::string(kv), "expected -o KEY=VALUE");
  std::string key(kv.substr(0, eq));
  std::string text(kv.substr(eq + 1));
  const KeyRow* row = find_row(key);
  if (!row) throw ConfigError(key, "unknown key (see cairn.toml(5) for the keys)");

  // Parse VALUE as the right-hand side of a one-key TOML document; anything that is not
  // exactly one TOML value (a bare word, a path, host:port) is taken as a string.
  std::optional<toml::table> parsed;
  if (text.find('\n') == std::string::npos) {
    try {
      parsed = toml::parse("v = " + text);
    } catch (const toml::parse_error&) {
    }
  }
  const toml::node* node = parsed && parsed->size() == 1 ? parsed->get("v") : nullptr;

  if (row->type == ValueType::kString) {
    // A string key takes the text as given unless it was written as a quoted TOML string.
    if (node && node->is_string())
      set(key, node->as_string()->get());
    else
      set(key, text);
  } else if (row->type == ValueType::kStringList && (!node || node->is_string())) {
    set(key, std::vector<std::string>{node ? node->as_string()->get() : text});
  } else if (!node) {
    throw ConfigError(key, fmt::format("'{}' is not {}", text, type_name(row->type)));
  } else {
    set(key, from_toml(key, row->type, *node));
  }
}

void Config::set(const std::string& key, Value v) {
  const KeyRow* row = find_row(key);
  if (!row) throw ConfigError(key, "unknown key (see cairn.toml(5) for the keys)");
  std::string why = row->check(v);
  if (!why.empty()) throw ConfigError(key, why);
  values_[key] = std::move(v);
}

const Value& Config::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw ConfigError(key, "unknown key (see cairn.toml(5) for the keys)");
  return it->second;
}

std::string Config::text(const std::string& key) const {
  const Value& v = get(key);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return nlohmann::json(std::get<std::vector<std::string>>(v)).dump();
}

double Config::number(const std::string& key) const { return std::get<double>(get(key)); }
int64_t Config::integer(const std::string& key) const { return std::get<int64_t>(get(key)); }
const std::string& Config::string(const std::string& key) const {
  return std::get<std::string>(get(key));
}
const std::vector<std::string>& Config::list(const std::string& key) const {
  return std::get<std::vector<std::string>>(get(key));
}

std::vector<std::string> Config::keys() {
  std::vector<std::string> out;
  for (const auto& row : kKeys) out.emplace_back(row.name);
  return out;
}

bool Config::known(std::string_view key) { return find_row(key) != nullptr; }

}  // namespace cairn::broker
