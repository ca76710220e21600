// ConfigKey's checks and descriptions, and ConfigValues' typed reads (see config_key.hpp).
#include "broker/module-api/config_key.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace cairn::broker {

namespace {

ConfigKey make(std::string name, ValueType type, Value def, std::string help) {
  ConfigKey k;
  k.name = std::move(name);
  k.type = type;
  k.default_value = std::move(def);
  k.help = std::move(help);
  return k;
}

bool has_type(const Value& v, ValueType t) {
  switch (t) {
    case ValueType::kNumber:
      return std::holds_alternative<double>(v);
    case ValueType::kInteger:
      return std::holds_alternative<int64_t>(v);
    case ValueType::kString:
      return std::holds_alternative<std::string>(v);
    case ValueType::kStringList:
      return std::holds_alternative<std::vector<std::string>>(v);
  }
  return false;
}

}  // namespace

ConfigKey ConfigKey::number(std::string name, double def, double min, double max,
                            std::string help) {
  ConfigKey k = make(std::move(name), ValueType::kNumber, def, std::move(help));
  k.min = min;
  k.max = max;
  return k;
}

ConfigKey ConfigKey::integer(std::string name, int64_t def, int64_t min, int64_t max,
                             std::string help) {
  ConfigKey k = make(std::move(name), ValueType::kInteger, def, std::move(help));
  k.imin = min;
  k.imax = max;
  return k;
}

ConfigKey ConfigKey::string(std::string name, std::string def, std::string help) {
  return make(std::move(name), ValueType::kString, std::move(def), std::move(help));
}

ConfigKey ConfigKey::choice(std::string name, std::string def, std::vector<std::string> choices,
                            std::string help) {
  ConfigKey k = make(std::move(name), ValueType::kString, std::move(def), std::move(help));
  k.choices = std::move(choices);
  return k;
}

ConfigKey ConfigKey::string_list(std::string name, std::string help) {
  return make(std::move(name), ValueType::kStringList, std::vector<std::string>{}, std::move(help));
}

ConfigKey&& ConfigKey::above_min() && {
  min_exclusive = true;
  return std::move(*this);
}

ConfigKey&& ConfigKey::with_check(Check c) && {
  check = std::move(c);
  return std::move(*this);
}

ConfigKey&& ConfigKey::documented_default(std::string text) && {
  shown_default = std::move(text);
  return std::move(*this);
}

std::string ConfigKey::validate(const Value& v) const {
  if (!has_type(v, type)) return fmt::format("expected {}", type_name(type));
  switch (type) {
    case ValueType::kNumber: {
      double d = std::get<double>(v);
      bool low = min_exclusive ? d <= min : d < min;
      if (!std::isfinite(d) || low || d > max)
        return fmt::format("{} is out of range: expected {} {} to {}", d,
                           min_exclusive ? "more than" : "from", min, max);
      break;
    }
    case ValueType::kInteger: {
      int64_t i = std::get<int64_t>(v);
      if (i < imin || i > imax)
        return fmt::format("{} is out of range: expected {} to {}", i, imin, imax);
      break;
    }
    case ValueType::kString:
      if (!choices.empty()) {
        const auto& s = std::get<std::string>(v);
        bool found = false;
        for (const auto& c : choices) found = found || c == s;
        if (!found)
          return fmt::format("'{}' is not allowed: expected {}", s, fmt::join(choices, " or "));
      }
      break;
    case ValueType::kStringList:
      break;
  }
  return check ? check(v) : std::string();
}

std::string ConfigKey::describe() const {
  switch (type) {
    case ValueType::kNumber:
      return fmt::format("number, {}{} to {}", min_exclusive ? "> " : "", min, max);
    case ValueType::kInteger:
      return fmt::format("integer, {} to {}", imin, imax);
    case ValueType::kString:
      return choices.empty() ? "string" : fmt::format("string: {}", fmt::join(choices, " or "));
    case ValueType::kStringList:
      return "array of strings";
  }
  return "?";
}

std::string ConfigKey::default_text() const {
  return shown_default.empty() ? toml_text(default_value) : shown_default;
}

std::string toml_text(const Value& v) {
  if (auto* d = std::get_if<double>(&v)) {
    std::string s = fmt::format("{}", *d);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";  // TOML: a float, not an integer
    return s;
  }
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* s = std::get_if<std::string>(&v)) return nlohmann::json(*s).dump();
  return nlohmann::json(std::get<std::vector<std::string>>(v)).dump(-1, ' ', true);
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

ConfigValues ConfigValues::with_defaults(const ConfigKeys& keys) {
  ConfigValues out;
  for (const auto& k : keys) out.values_[k.name] = k.default_value;
  return out;
}

std::string ConfigValues::set(const ConfigKey& key, Value v) {
  std::string why = key.validate(v);
  if (why.empty()) values_[key.name] = std::move(v);
  return why;
}

const Value& ConfigValues::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end())
    throw std::logic_error(fmt::format("configuration key {} was never declared", key));
  return it->second;
}

template <typename T>
static const T& typed(const Value& v, std::string_view key) {
  if (auto* p = std::get_if<T>(&v)) return *p;
  throw std::logic_error(fmt::format("configuration key {} read as the wrong type", key));
}

double ConfigValues::number(std::string_view key) const { return typed<double>(get(key), key); }
int64_t ConfigValues::integer(std::string_view key) const { return typed<int64_t>(get(key), key); }
const std::string& ConfigValues::string(std::string_view key) const {
  return typed<std::string>(get(key), key);
}
const std::vector<std::string>& ConfigValues::list(std::string_view key) const {
  return typed<std::vector<std::string>>(get(key), key);
}

std::string ConfigValues::text(std::string_view key) const {
  const Value& v = get(key);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return nlohmann::json(std::get<std::vector<std::string>>(v)).dump();
}

}  // namespace cairn::broker
