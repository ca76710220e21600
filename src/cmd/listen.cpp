// `cairn stats listen` logic without I/O: the statsd line grammar, the criteria state and the
// metric summary (see listen.hpp). The grammar is the one statsd servers read; the rules that
// matter for cairn (one value per line, no sign on timings, names in the portable set of
// libstats/name.hpp) follow cairn-stats(3).
#include "cmd/listen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "libstats/name.hpp"

namespace cairn::cmd {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `[sign] (digits [. digits] | . digits) [(e|E) [sign] digits]`, the sign only if allowed.
bool is_number(std::string_view s, bool sign_allowed) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    if (!sign_allowed) return false;
    ++i;
  }
  size_t digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

bool is_metric_type(std::string_view t) {
  return t == "c" || t == "g" || t == "ms" || t == "h" || t == "s";
}

util::Error bad(std::string reason) { return {EINVAL, std::move(reason)}; }

std::string in_quotes(std::string_view s) { return fmt::format("\"{}\"", s); }

}  // namespace

util::Result<StatsdLine> parse_statsd_line(std::string_view line) {
  StatsdLine out;
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bad("no ':' between name and value");
  out.name = line.substr(0, colon);
  if (out.name.empty()) return bad("empty metric name");
  if (size_t i = stats::bad_name_char(out.name); i != std::string_view::npos) {
    return bad(fmt::format("metric name {} contains {}, outside the portable set {}",
                           in_quotes(stats::printable(out.name)),
                           stats::describe_name_char(out.name[i]), stats::kNameCharSet));
  }
  std::string_view rest = line.substr(colon + 1);
  size_t bar = rest.find('|');
  if (bar == std::string_view::npos) return bad("no '|' between value and type");
  out.value = rest.substr(0, bar);
  rest = rest.substr(bar + 1);
  bar = rest.find('|');
  out.type = rest.substr(0, bar);
  if (!is_metric_type(out.type))
    return bad(fmt::format("unknown type {} (expected c, g, ms, h or s)", in_quotes(out.type)));
  if (out.value.find(':') != std::string_view::npos)
    return bad("several values in one line, which Etsy statsd and collectd misread");
  if (out.type == "s") {
    if (out.value.empty()) return bad("empty set value");
    for (char c : out.value) {
      if (c == ' ' || static_cast<unsigned char>(c) < 0x20)
        return bad("set value contains a space or a control character");
    }
  } else {
    // Counters and gauges may carry a sign (a gauge's sign makes it a delta); timings may not.
    bool sign_allowed = out.type == "c" || out.type == "g";
    if (!is_number(out.value, sign_allowed)) {
      return bad(fmt::format("value {} is not a{} number", in_quotes(out.value),
                             sign_allowed ? "" : "n unsigned"));
    }
  }
  if (bar != std::string_view::npos) {
    std::string_view field = rest.substr(bar + 1);
    if (field.empty() || field[0] != '@' || !is_number(field.substr(1), false))
      return bad(fmt::format("unexpected field {} after the type", in_quotes(field)));
    double rate = std::strtod(std::string(field.substr(1)).c_str(), nullptr);
    if (!(rate > 0 && rate <= 1))
      return bad(fmt::format("sample rate {} is not in (0, 1]", field.substr(1)));
    out.sample_rate = rate;
  }
  return out;
}

std::vector<std::string_view> split_packet(std::string_view packet) {
  std::vector<std::string_view> lines;
  while (!packet.empty()) {
    size_t nl = packet.find('\n');
    std::string_view line = packet.substr(0, nl);
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    packet.remove_prefix(nl + 1);
  }
  return lines;
}

// --- CriteriaCheck -------------------------------------------------------------------------

CriteriaCheck::CriteriaCheck(ListenCriteria criteria)
    : criteria_(std::move(criteria)), found_(criteria_.search.size(), false) {}

uint64_t CriteriaCheck::wanted_packets() const {
  uint64_t wanted = criteria_.count.value_or(0);
  if (criteria_.validate && wanted == 0) wanted = 1;
  return wanted;
}

void CriteriaCheck::add_packet(std::string_view packet) {
  ++packets_;
  if (!failure_.empty()) return;
  std::vector<std::string_view> lines = split_packet(packet);
  if (criteria_.none) {
    failure_ = fmt::format("expected no packets, got one: {}",
                           lines.empty() ? std::string("(empty)") : in_quotes(lines.front()));
    return;
  }
  for (std::string_view line : lines) {
    if (criteria_.validate) {
      if (auto parsed = parse_statsd_line(line); !parsed) {
        failure_ = fmt::format("bad statsd line {}: {}", in_quotes(line), parsed.error().text);
        return;
      }
    }
    for (size_t i = 0; i < criteria_.search.size(); ++i) {
      if (!found_[i] && line.find(criteria_.search[i]) != std::string_view::npos) found_[i] = true;
    }
  }
}

CriteriaCheck::State CriteriaCheck::state(bool final) const {
  if (!failure_.empty()) return State::kFailed;
  if (criteria_.none || !criteria_.any()) return final ? State::kMet : State::kPending;
  bool met = packets_ >= wanted_packets() &&
             std::all_of(found_.begin(), found_.end(), [](bool f) { return f; });
  if (met) return State::kMet;
  return final ? State::kFailed : State::kPending;
}

std::string CriteriaCheck::unmet() const {
  if (!failure_.empty()) return failure_;
  std::vector<std::string> parts;
  uint64_t wanted = wanted_packets();
  if (packets_ < wanted) {
    parts.push_back(fmt::format("got {} of {} packet{}", packets_, wanted, wanted == 1 ? "" : "s"));
  }
  for (size_t i = 0; i < criteria_.search.size(); ++i) {
    if (!found_[i])
      parts.push_back(fmt::format("no line contained {}", in_quotes(criteria_.search[i])));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

// --- MetricSummary -------------------------------------------------------------------------

void MetricSummary::add_line(std::string_view line) {
  util::Result<StatsdLine> parsed = parse_statsd_line(line);
  if (!parsed) {
    ++bad_lines_;
    return;
  }
  Entry& e = metrics_[{std::string(parsed->name), std::string(parsed->type)}];
  e.last_value.assign(parsed->value);
  ++e.lines;
  if (parsed->type == "c") {
    // The grammar checked it is a number.
    double delta = std::strtod(std::string(parsed->value).c_str(), nullptr);
    if (parsed->sample_rate) delta /= *parsed->sample_rate;
    e.sum += delta;
    e.whole_sum = e.whole_sum && delta == std::trunc(delta);
  }
}

namespace {

constexpr double kExactInteger = 9007199254740992.0;  // 2^53

bool is_counter(const std::pair<std::string, std::string>& key) { return key.second == "c"; }

// A counter's sum as an integer while it is one (and exact), else in shortest form.
std::string sum_text(const MetricSummary::Entry& e) {
  if (e.whole_sum && std::fabs(e.sum) < kExactInteger)
    return fmt::format("{}", static_cast<int64_t>(e.sum));
  return fmt::format("{}", e.sum);
}

double rate_of(const MetricSummary::Entry& e, double seconds) {
  return seconds > 0 ? e.sum / seconds : 0;
}

// Per second: two decimals, or three significant digits below 1 (0.0417, not 0.04).
std::string rate_text(double rate) {
  if (std::fabs(rate) >= 1 || rate == 0) return fmt::format("{:.2f}", rate);
  return fmt::format("{:.3g}", rate);
}

}  // namespace

std::string MetricSummary::table(double seconds) const {
  struct Row {
    const std::string *name, *type, *last;
    std::string sum, rate;
    uint64_t lines;
  };
  std::vector<Row> rows;
  size_t name_w = 4, type_w = 4, last_w = 4, sum_w = 3, rate_w = 6;  // the header words
  for (const auto& [key, e] : metrics_) {
    Row r{&key.first, &key.second, &e.last_value, "-", "-", e.lines};
    if (is_counter(key)) {
      r.sum = sum_text(e);
      r.rate = rate_text(rate_of(e, seconds));
    }
    name_w = std::max(name_w, key.first.size());
    type_w = std::max(type_w, key.second.size());
    last_w = std::max(last_w, e.last_value.size());
    sum_w = std::max(sum_w, r.sum.size());
    rate_w = std::max(rate_w, r.rate.size());
    rows.push_back(std::move(r));
  }
  constexpr const char* kRow = "{:<{}}  {:<{}}  {:>{}}  {:>{}}  {:>{}}  {:>5}\n";
  std::string out = fmt::format(kRow, "NAME", name_w, "TYPE", type_w, "LAST", last_w, "SUM", sum_w,
                                "RATE/S", rate_w, "LINES");
  for (const Row& r : rows)
    out += fmt::format(kRow, *r.name, name_w, *r.type, type_w, *r.last, last_w, r.sum, sum_w,
                       r.rate, rate_w, r.lines);
  if (bad_lines_ > 0)
    out += fmt::format("({} line{} not statsd)\n", bad_lines_, bad_lines_ == 1 ? "" : "s");
  return out;
}

std::string MetricSummary::json(double seconds) const {
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& [key, e] : metrics_) {
    nlohmann::json m = {
        {"name", key.first}, {"type", key.second}, {"last", e.last_value}, {"lines", e.lines}};
    if (is_counter(key)) {
      if (e.whole_sum && std::fabs(e.sum) < kExactInteger)
        m["sum"] = static_cast<int64_t>(e.sum);
      else
        m["sum"] = e.sum;
      m["rate"] = rate_of(e, seconds);
    }
    metrics.push_back(std::move(m));
  }
  nlohmann::json out = {
      {"seconds", seconds}, {"metrics", std::move(metrics)}, {"bad_lines", bad_lines_}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string packet_json(std::string_view packet) {
  nlohmann::json lines = nlohmann::json::array();
  for (std::string_view line : split_packet(packet)) lines.push_back(std::string(line));
  nlohmann::json out = {{"bytes", packet.size()}, {"lines", std::move(lines)}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cairn::cmd
