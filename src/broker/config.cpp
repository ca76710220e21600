// The broker's own configuration keys, the collection of every module's, and the TOML / `-o`
// readers. A module adds a key in its own declarations (its config_keys()) and documents it in
// cairn.toml(5) and etc/cairn.toml; a test checks that the three agree.
#include "broker/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <grp.h>
#include <pwd.h>
#include <toml++/toml.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "broker/socket_access.hpp"
#include "libstats/name.hpp"
#include "libutil/result.hpp"

namespace cairn::broker {

namespace {

constexpr const char* kPrefixKey = "stats.prefix";
constexpr const char* kRankKey = "broker.rank";

constexpr const char* kUnknownKey =
    "unknown key (`cairn start --help-config` and cairn.toml(5) list the keys)";

constexpr size_t kMaxStatsPrefix = 127;  // libstats' limit (cairn-stats(3))

// What is wrong with an expanded stats.prefix, or "".
std::string prefix_problem(std::string_view s) {
  if (s.size() > kMaxStatsPrefix)
    return fmt::format("prefix is {} characters, at most {} allowed", s.size(), kMaxStatsPrefix);
  if (size_t bad = stats::bad_name_char(s); bad != std::string::npos)
    return fmt::format("'{}' contains {}, outside {}", stats::printable(s),
                       stats::describe_name_char(s[bad]), stats::kNameCharSet);
  return {};
}

// stats.prefix with its placeholders replaced by `rank` and `host`, or the error (naming no
// key) if it has an unknown or unclosed one.
util::Result<std::string> expand_prefix(std::string_view tmpl, std::string_view rank,
                                        std::string_view host) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    size_t open = tmpl.find('{', i);
    out.append(tmpl.substr(i, open - i));
    if (open == std::string_view::npos) break;
    size_t close = tmpl.find('}', open);
    if (close == std::string_view::npos)
      return util::Error{EINVAL, fmt::format("'{}' has a '{{' that is not closed: use {{rank}} "
                                             "or {{host}}",
                                             stats::printable(tmpl))};
    std::string_view word = tmpl.substr(open, close + 1 - open);
    if (word == "{rank}")
      out.append(rank);
    else if (word == "{host}")
      out.append(host);
    else
      return util::Error{EINVAL, fmt::format("unknown placeholder {} in '{}': use {{rank}} (the "
                                             "broker's rank) or {{host}} (the short host name)",
                                             stats::printable(word), stats::printable(tmpl))};
    i = close + 1;
  }
  return out;
}

// A stats.prefix as configured: its placeholders must be known and the text around them a
// valid prefix (Config::set checks the expansion too).
std::string stats_prefix(const Value& v) {
  const auto& s = std::get<std::string>(v);
  auto literal = expand_prefix(s, "", "");
  if (!literal) return literal.error().text;
  return prefix_problem(*literal);
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

// Each name must be a user or a group of this host (resolved once, when the broker starts).
std::string local_owner_names(const Value& v) {
  for (const auto& name : std::get<std::vector<std::string>>(v)) {
    char buf[16384];
    struct passwd pw, *user = nullptr;
    struct group gr, *group = nullptr;
    bool found = (getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &user) == 0 && user) ||
                 (getgrnam_r(name.c_str(), &gr, buf, sizeof buf, &group) == 0 && group);
    if (!found)
      return fmt::format(
          "'{}' is neither a user nor a group on this host (check `getent passwd "
          "{}` and `getent group {}`)",
          name, name, name);
  }
  return {};
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

std::string short_host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  std::string_view host(name);
  return std::string(host.substr(0, host.find('.')));
}

ConfigKeys broker_config_keys(const std::string& statsd_env) {
  ConfigKeys keys;
  // The floor keeps an idle broker idle: 1e-9 would spin the loop.
  keys.push_back(ConfigKey::number("heartbeat.period", 2.0, 0.01, 86400,
                                   "seconds between heartbeats (content-cache purge, gauges)"));
  // A malformed endpoint is libstats' to report ("parse error"), not fatal.
  keys.push_back(
      ConfigKey::string("stats.endpoint", statsd_env, "statsd HOST:PORT; empty: telemetry off")
          .documented_default("$CAIRN_STATSD"));
  keys.push_back(ConfigKey::number("stats.period", 1.0, 0, 86400,
                                   "aggregation period of the broker's contexts; 0: immediate"));
  keys.push_back(ConfigKey::string("stats.prefix", "cairn.{rank}",
                                   "prefix of the broker's metrics, at most 127 characters; "
                                   "{rank} is broker.rank, {host} the host name up to its "
                                   "first dot")
                     .with_check(stats_prefix));
  keys.push_back(
      ConfigKey::integer("stats.max-packet", 1440, 64, 65507, "largest statsd datagram, bytes"));
  // --rank wins over it (Config::set_rank).
  keys.push_back(ConfigKey::integer("broker.rank", 0, 0, kMaxRank,
                                    "rank of this broker: {rank} in stats.prefix (cairn.<rank> "
                                    "by default), one per node (cairn-cluster(7))"));
  keys.push_back(ConfigKey::integer("broker.peer-queue-limit", 134217728, 1048576, int64_t{1} << 40,
                                    "bytes of replies a client may leave unread before further "
                                    "large replies to it become ENOBUFS errors"));
  keys.push_back(socket_group_key());
  keys.push_back(socket_mode_key());
  keys.push_back(ConfigKey::string_list("security.local-owners",
                                        "user and group names whose local:// clients are owners "
                                        "(every request), besides the broker's user and root; "
                                        "other users the socket lets in get content.*, stats.* "
                                        "and broker.ping")
                     .with_check(local_owner_names));
  // Loaded (and checked) when a tcp:// endpoint is bound.
  keys.push_back(ConfigKey::string("security.curve-cert", "",
                                   "the broker's secret CURVE certificate, for tcp://"));
  keys.push_back(ConfigKey::string_list("security.allowed-clients",
                                        "CURVE public keys (Z85) of the clients allowed in as "
                                        "owners: every request")
                     .with_check(z85_keys));
  keys.push_back(ConfigKey::string_list("security.user-clients",
                                        "CURVE public keys (Z85) of the clients allowed in as "
                                        "users: content.*, stats.* and broker.ping only")
                     .with_check(z85_keys));
  return keys;
}

ConfigKeys all_config_keys(const std::string& statsd_env, const ConfigKeys& module_keys) {
  ConfigKeys keys = broker_config_keys(statsd_env);
  keys.insert(keys.end(), module_keys.begin(), module_keys.end());
  return keys;
}

std::string config_help(const ConfigKeys& keys) {
  std::string out;
  for (const auto& k : keys)
    out += fmt::format("{} ({}; default {})\n    {}\n", k.name, k.describe(), k.default_text(),
                       k.help);
  return out;
}

Config::Config(const ConfigKeys& module_keys, std::string statsd_env, std::string host)
    : schema_(all_config_keys(statsd_env, module_keys)),
      values_(ConfigValues::with_defaults(schema_)),
      host_(std::move(host)) {
  set(kPrefixKey, values_.string(kPrefixKey));  // the default, with its {rank}
}

void Config::set_rank(int64_t rank) { set(kRankKey, rank); }

void Config::load_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path, "is a directory: give the path of a TOML file (see cairn.toml(5))");
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
    const ConfigKey* row = find(key);
    if (!row) throw ConfigError(key, kUnknownKey);
    set(key, from_toml(key, row->type, node));
  });
}

void Config::set_option(std::string_view kv) {
  auto eq = kv.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw ConfigError(std::string("-o ") + std::string(kv), "expected -o KEY=VALUE");
  std::string key(kv.substr(0, eq));
  std::string text(kv.substr(eq + 1));
  const ConfigKey* row = find(key);
  if (!row) throw ConfigError(key, kUnknownKey);

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

const ConfigKey* Config::find(std::string_view key) const {
  for (const auto& k : schema_)
    if (k.name == key) return &k;
  return nullptr;
}

void Config::set(const std::string& key, Value v) {
  const ConfigKey* row = find(key);
  if (!row) throw ConfigError(key, kUnknownKey);
  if (key != kPrefixKey && key != kRankKey) {
    std::string why = values_.set(*row, std::move(v));
    if (!why.empty()) throw ConfigError(key, why);
    return;
  }
  // stats.prefix holds the expansion of prefix_template_ with the current broker.rank: either
  // change re-expands it, and nothing is stored unless the new expansion is valid.
  if (std::string why = row->validate(v); !why.empty()) throw ConfigError(key, why);
  std::string tmpl = key == kPrefixKey ? std::get<std::string>(v) : prefix_template_;
  int64_t rank = key == kRankKey ? std::get<int64_t>(v) : integer(kRankKey);
  auto expanded = expand_prefix(tmpl, std::to_string(rank), host_);
  if (!expanded) throw ConfigError(kPrefixKey, expanded.error().text);
  if (std::string why = prefix_problem(*expanded); !why.empty())
    throw ConfigError(kPrefixKey, fmt::format("'{}' expands to '{}': {}", tmpl,
                                              stats::printable(*expanded), why));
  if (key == kRankKey) values_.set(*row, std::move(v));
  values_.set(*find(kPrefixKey), std::move(*expanded));
  prefix_template_ = std::move(tmpl);
}

}  // namespace cairn::broker
