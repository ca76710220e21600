// The logic of `cairn stats listen` that needs no socket or loop: splitting a datagram into
// statsd lines, checking a line's form, deciding whether the listen criteria hold, and the
// per-metric summary. Criteria only move forward: once met or failed they stay so.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libutil/result.hpp"

namespace cairn::cmd {

// One statsd line `NAME:VALUE|TYPE[|@RATE]`; views into the parsed text.
struct StatsdLine {
  std::string_view name;
  std::string_view value;
  std::string_view type;              // c, g, ms, h or s
  std::optional<double> sample_rate;  // from `|@RATE`, in (0, 1]
};

// Parses one line (without its newline). On failure the Error (EINVAL) says why in a few words
// (e.g. `no ':' between name and value`).
util::Result<StatsdLine> parse_statsd_line(std::string_view line);

// The lines of one datagram: split on '\n'; empty lines (a trailing newline, blank lines) are
// skipped, as statsd servers skip them.
std::vector<std::string_view> split_packet(std::string_view packet);

// What the user asked `cairn stats listen` to wait for.
struct ListenCriteria {
  std::optional<uint64_t> count;    // at least this many packets
  std::vector<std::string> search;  // each text appears in some line
  bool validate = false;            // every line is well-formed statsd
  bool none = false;                // no packet at all
  // True if any criterion was given.
  bool any() const { return count || !search.empty() || validate || none; }
};

// Tracks received packets against ListenCriteria.
// --validate alone waits for one packet (validating nothing proves nothing); --none holds only
// at the end (the command exited or the time ran out) with nothing received; without criteria
// the outcome is decided only at the end, and is then always met.
class CriteriaCheck {
 public:
  enum class State { kPending, kMet, kFailed };

  explicit CriteriaCheck(ListenCriteria criteria);

  // Records one datagram: counts it, marks the search texts its lines contain, and (with
  // --validate) fails on its first malformed line, or (with --none) on any packet.
  void add_packet(std::string_view packet);

  // The outcome so far; `final` means no more packets will be looked at, so whatever is still
  // pending has failed (or, for --none and no criteria, has held).
  State state(bool final) const;

  // Why the criteria do not hold, e.g. `got 1 of 3 packets; no line contained "foo"`.
  std::string unmet() const;

  uint64_t packets() const { return packets_; }

 private:
  uint64_t wanted_packets() const;

  ListenCriteria criteria_;
  std::vector<bool> found_;  // per criteria_.search entry
  uint64_t packets_ = 0;
  std::string failure_;  // set once a packet makes the criteria impossible
};

// Per-metric summary of the lines seen: type, last value and number of lines, keyed by name
// and type (one name may be sent as two types), and for a counter the sum of its values (each
// line is a delta; a `|@RATE` line counts VALUE/RATE, as statsd counts it) and that sum per
// second of the listen. Lines that are not statsd are only counted.
class MetricSummary {
 public:
  struct Entry {
    std::string last_value;
    uint64_t lines = 0;
    double sum = 0;         // counters: the total of the deltas
    bool whole_sum = true;  // counters: every delta so far was a whole number
  };
  void add_line(std::string_view line);
  // A table with a header row (NAME TYPE LAST SUM RATE/S LINES), sorted by name; SUM and RATE/S
  // (SUM over `seconds`, the length of the listen) are "-" but for counters. A last line counts
  // non-statsd lines, if any.
  std::string table(double seconds) const;
  // JSON text: {"seconds":S,"metrics":[{"name":..,"type":..,"last":..,"lines":N},...],
  // "bad_lines":N}; a counter's object also has "sum" and "rate" (per second).
  std::string json(double seconds) const;

  const std::map<std::pair<std::string, std::string>, Entry>& metrics() const { return metrics_; }
  uint64_t bad_lines() const { return bad_lines_; }

 private:
  std::map<std::pair<std::string, std::string>, Entry> metrics_;
  uint64_t bad_lines_ = 0;
};

// One datagram as the JSON text `{"bytes":N,"lines":[...]}` (invalid UTF-8 is replaced).
std::string packet_json(std::string_view packet);

}  // namespace cairn::cmd
