// Unit tests of `cairn stats listen`'s logic: the statsd line grammar, packet splitting, the
// criteria state machine and the metric summary.
#include "cmd/listen.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cairn::cmd {
namespace {

using State = CriteriaCheck::State;

bool valid(std::string_view line) { return parse_statsd_line(line).ok(); }

std::string why_bad(std::string_view line) {
  auto parsed = parse_statsd_line(line);
  EXPECT_FALSE(parsed.ok()) << line;
  return parsed.ok() ? std::string() : parsed.error().text;
}

TEST(StatsdLine, AcceptsTheTypesCairnSends) {
  EXPECT_TRUE(valid("cairn.0.content-cache.size:1024|g"));
  EXPECT_TRUE(valid("cairn.0.job-manager.submit:3|c"));
  EXPECT_TRUE(valid("cairn.0.content.load:0.25|ms"));
  EXPECT_TRUE(valid("a:1.5e3|h"));
  EXPECT_TRUE(valid("users:alice|s"));
}

TEST(StatsdLine, SplitsNameValueTypeAndRate) {
  auto line = parse_statsd_line("a.b:-2|c|@0.5");
  ASSERT_TRUE(line.ok()) << line.error().text;
  EXPECT_EQ(line->name, "a.b");
  EXPECT_EQ(line->value, "-2");
  EXPECT_EQ(line->type, "c");
  ASSERT_TRUE(line->sample_rate.has_value());
  EXPECT_DOUBLE_EQ(*line->sample_rate, 0.5);
}

TEST(StatsdLine, GaugesAndCountersMayCarryASignTimingsMayNot) {
  EXPECT_TRUE(valid("g:+5|g"));
  EXPECT_TRUE(valid("g:-5|g"));
  EXPECT_TRUE(valid("c:-1|c"));
  EXPECT_NE(why_bad("t:-1|ms").find("unsigned"), std::string::npos);
  EXPECT_FALSE(valid("t:+1|h"));
}

TEST(StatsdLine, RejectsMalformedLinesWithAReason) {
  EXPECT_NE(why_bad("bad line").find("no ':'"), std::string::npos);
  EXPECT_NE(why_bad("a:1").find("no '|'"), std::string::npos);
  EXPECT_NE(why_bad(":1|c").find("empty metric name"), std::string::npos);
  EXPECT_NE(why_bad("a b:1|c").find("contains '\\x20'"), std::string::npos);
  EXPECT_NE(why_bad("a:1|C").find("unknown type \"C\""), std::string::npos);
  EXPECT_NE(why_bad("a:|g").find("not a number"), std::string::npos);
  EXPECT_NE(why_bad("a:x|c").find("not a number"), std::string::npos);
  EXPECT_NE(why_bad("a:1|c|#tag").find("unexpected field"), std::string::npos);
  EXPECT_FALSE(valid("a:nan|g"));
  EXPECT_FALSE(valid("a:inf|ms"));
  EXPECT_TRUE(valid("a:1.|c"));
  EXPECT_FALSE(valid("a:.|c"));
  EXPECT_FALSE(valid("a:1e|c"));
}

// What a jobtap plugin naming a gauge after cairn_job_statetostr() of an unknown state sent.
TEST(StatsdLine, RejectsNamesOutsideThePortableSetNamingTheCharacter) {
  EXPECT_EQ(why_bad("cairn.job.state.?:-1|g"),
            "metric name \"cairn.job.state.?\" contains '?', outside the portable set "
            "[A-Za-z0-9_.-]");
  EXPECT_NE(why_bad("a/b:1|c").find("contains '/'"), std::string::npos);
  EXPECT_NE(why_bad("a@b:1|c").find("contains '@'"), std::string::npos);
  EXPECT_NE(why_bad("a\tb:1|c").find("contains '\\x09'"), std::string::npos);
  EXPECT_NE(why_bad("caf\xc3\xa9:1|c").find("contains '\\xc3'"), std::string::npos);
  EXPECT_TRUE(valid("cairn.0.Content-cache_hits.9:1|c"));
}

TEST(Criteria, ValidateNamesTheBadCharacterOfAName) {
  ListenCriteria c;
  c.validate = true;
  CriteriaCheck check(c);
  check.add_packet("cairn.job.state.RUN:+1|g\ncairn.job.state.?:-1|g\n");
  EXPECT_EQ(check.state(false), State::kFailed);
  EXPECT_NE(check.unmet().find("\"cairn.job.state.?:-1|g\": metric name"), std::string::npos);
  EXPECT_NE(check.unmet().find("contains '?'"), std::string::npos);
}

TEST(StatsdLine, RejectsTheMultiValueTimerForm) {
  EXPECT_NE(why_bad("t:1:2:3|ms").find("several values"), std::string::npos);
}

TEST(StatsdLine, SampleRateMustBeInZeroToOne) {
  EXPECT_TRUE(valid("a:1|c|@1"));
  EXPECT_TRUE(valid("a:1|ms|@0.01"));
  EXPECT_NE(why_bad("a:1|c|@0").find("sample rate"), std::string::npos);
  EXPECT_NE(why_bad("a:1|c|@1.5").find("sample rate"), std::string::npos);
  EXPECT_FALSE(valid("a:1|c|@"));
  EXPECT_FALSE(valid("a:1|c|"));
}

TEST(SplitPacket, SkipsTheTrailingNewlineAndBlankLines) {
  auto lines = split_packet("a:1|c\n\nb:2|g\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "a:1|c");
  EXPECT_EQ(lines[1], "b:2|g");
  EXPECT_EQ(split_packet("x").size(), 1u);
  EXPECT_TRUE(split_packet("").empty());
  EXPECT_TRUE(split_packet("\n").empty());
}

TEST(Criteria, CountIsMetAtTheNthPacket) {
  ListenCriteria c;
  c.count = 3;
  CriteriaCheck check(c);
  check.add_packet("a:1|c\n");
  check.add_packet("a:1|c\n");
  EXPECT_EQ(check.state(false), State::kPending);
  EXPECT_EQ(check.unmet(), "got 2 of 3 packets");
  EXPECT_EQ(check.state(true), State::kFailed);
  check.add_packet("a:1|c\n");
  EXPECT_EQ(check.state(false), State::kMet);
  EXPECT_EQ(check.state(true), State::kMet);
}

TEST(Criteria, CountsPacketsNotLines) {
  ListenCriteria c;
  c.count = 2;
  CriteriaCheck check(c);
  check.add_packet("a:1|c\nb:1|c\nc:1|c\n");
  EXPECT_EQ(check.state(false), State::kPending);
  EXPECT_EQ(check.unmet(), "got 1 of 2 packets");
}

TEST(Criteria, EverySearchTextMustAppearInSomeLine) {
  ListenCriteria c;
  c.search = {"content-cache.size", "job"};
  CriteriaCheck check(c);
  check.add_packet("cairn.0.content-cache.size:1|g\n");
  EXPECT_EQ(check.state(false), State::kPending);
  EXPECT_EQ(check.unmet(), "no line contained \"job\"");
  check.add_packet("cairn.0.job-manager.x:1|c\n");
  EXPECT_EQ(check.state(false), State::kMet);
}

TEST(Criteria, SearchDoesNotMatchAcrossLines) {
  ListenCriteria c;
  c.search = {"c\nb"};
  CriteriaCheck check(c);
  check.add_packet("a:1|c\nb:1|c\n");
  EXPECT_EQ(check.state(true), State::kFailed);
}

TEST(Criteria, UnmetNamesEveryMissingCriterion) {
  ListenCriteria c;
  c.count = 1;
  c.search = {"foo", "bar"};
  CriteriaCheck check(c);
  EXPECT_EQ(check.unmet(),
            "got 0 of 1 packet; no line contained \"foo\"; no line contained \"bar\"");
}

TEST(Criteria, ValidateAloneWaitsForOnePacket) {
  ListenCriteria c;
  c.validate = true;
  CriteriaCheck check(c);
  EXPECT_EQ(check.state(false), State::kPending);
  EXPECT_EQ(check.unmet(), "got 0 of 1 packet");
  check.add_packet("a:1|c\nb:2|g\n");
  EXPECT_EQ(check.state(false), State::kMet);
}

TEST(Criteria, ValidateFailsOnTheFirstBadLineAndStaysFailed) {
  ListenCriteria c;
  c.validate = true;
  c.count = 2;
  CriteriaCheck check(c);
  check.add_packet("a:1|c\nbad line\n");
  EXPECT_EQ(check.state(false), State::kFailed);
  EXPECT_EQ(check.unmet(), "bad statsd line \"bad line\": no ':' between name and value");
  check.add_packet("a:1|c\n");
  EXPECT_EQ(check.state(false), State::kFailed);
}

TEST(Criteria, WithoutValidateBadLinesCount) {
  ListenCriteria c;
  c.count = 1;
  CriteriaCheck check(c);
  check.add_packet("bad line\n");
  EXPECT_EQ(check.state(false), State::kMet);
}

TEST(Criteria, NoneHoldsOnlyAtTheEndWithNothingReceived) {
  ListenCriteria c;
  c.none = true;
  CriteriaCheck check(c);
  EXPECT_EQ(check.state(false), State::kPending);
  EXPECT_EQ(check.state(true), State::kMet);
  check.add_packet("a:1|c\n");
  EXPECT_EQ(check.state(false), State::kFailed);
  EXPECT_EQ(check.state(true), State::kFailed);
  EXPECT_EQ(check.unmet(), "expected no packets, got one: \"a:1|c\"");
}

TEST(Criteria, WithoutCriteriaOnlyTheEndDecides) {
  CriteriaCheck check(ListenCriteria{});
  check.add_packet("bad line");
  EXPECT_EQ(check.state(false), State::kPending);
  EXPECT_EQ(check.state(true), State::kMet);
}

TEST(MetricSummary, KeepsLastValueAndLineCountPerNameAndType) {
  MetricSummary s;
  s.add_line("a.size:1|g");
  s.add_line("a.size:7|g");
  s.add_line("a.size:2|c");
  s.add_line("not statsd");
  const auto& m = s.metrics();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at({"a.size", "g"}).last_value, "7");
  EXPECT_EQ(m.at({"a.size", "g"}).lines, 2u);
  EXPECT_EQ(m.at({"a.size", "c"}).lines, 1u);
  EXPECT_EQ(s.bad_lines(), 1u);
}

TEST(MetricSummary, TableHasAHeaderAndOneRowPerMetric) {
  MetricSummary s;
  s.add_line("cairn.0.content-cache.size:1024|g");
  s.add_line("b:3|c");
  EXPECT_EQ(s.table(2),
            "NAME                        TYPE  LAST  SUM  RATE/S  LINES\n"
            "b                           c        3    3    1.50      1\n"
            "cairn.0.content-cache.size  g     1024    -       -      1\n");
}

TEST(MetricSummary, CounterSumIsTheTotalOfItsDeltasAndRateIsPerSecondOfTheRun) {
  MetricSummary s;
  s.add_line("r:0|c");
  s.add_line("r:7|c");
  s.add_line("r:3|c");
  s.add_line("r:0|c");  // the last delta is 0: LAST says 0, SUM still 10
  EXPECT_EQ(s.metrics().at({"r", "c"}).sum, 10);
  EXPECT_EQ(s.table(4),
            "NAME  TYPE  LAST  SUM  RATE/S  LINES\n"
            "r     c        0   10    2.50      4\n");
  // Below 1/s, three significant digits rather than 0.00.
  EXPECT_EQ(s.table(240),
            "NAME  TYPE  LAST  SUM  RATE/S  LINES\n"
            "r     c        0   10  0.0417      4\n");
}

TEST(MetricSummary, CounterSumScalesSampledLinesAndKeepsFractions) {
  MetricSummary s;
  s.add_line("x:1|c|@0.1");  // statsd counts 10
  s.add_line("x:-2|c");
  s.add_line("y:0.5|c");
  s.add_line("y:+1|c");
  EXPECT_EQ(s.metrics().at({"x", "c"}).sum, 8);
  auto j = nlohmann::json::parse(s.json(2));
  EXPECT_EQ(j["metrics"][0]["sum"], 8);
  EXPECT_TRUE(j["metrics"][0]["sum"].is_number_integer());
  EXPECT_DOUBLE_EQ(j["metrics"][1]["sum"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(j["metrics"][1]["rate"].get<double>(), 0.75);
}

TEST(MetricSummary, JsonListsMetrics) {
  MetricSummary s;
  s.add_line("b:3|c");
  s.add_line("g:4|g");
  s.add_line("oops");
  auto j = nlohmann::json::parse(s.json(1.5));
  EXPECT_EQ(j["bad_lines"], 1);
  EXPECT_DOUBLE_EQ(j["seconds"].get<double>(), 1.5);
  ASSERT_EQ(j["metrics"].size(), 2u);
  EXPECT_EQ(j["metrics"][0]["name"], "b");
  EXPECT_EQ(j["metrics"][0]["type"], "c");
  EXPECT_EQ(j["metrics"][0]["last"], "3");
  EXPECT_EQ(j["metrics"][0]["lines"], 1);
  EXPECT_EQ(j["metrics"][0]["sum"], 3);
  EXPECT_DOUBLE_EQ(j["metrics"][0]["rate"].get<double>(), 2.0);
  EXPECT_FALSE(j["metrics"][1].contains("sum"));  // a gauge has no sum
  EXPECT_FALSE(j["metrics"][1].contains("rate"));
}

TEST(PacketJson, GivesBytesAndLines) {
  EXPECT_EQ(packet_json("a.b:1|c\nc:2|g\n"), R"({"bytes":14,"lines":["a.b:1|c","c:2|g"]})");
}

TEST(PacketJson, ReplacesInvalidUtf8InsteadOfThrowing) {
  auto j = nlohmann::json::parse(packet_json("a\xff:1|c"));
  EXPECT_EQ(j["bytes"], 6);
  EXPECT_EQ(j["lines"].size(), 1u);
}

}  // namespace
}  // namespace cairn::cmd
