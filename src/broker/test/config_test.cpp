// Unit tests for the broker's configuration: defaults, TOML files, -o KEY=VALUE, and that every
// bad key or value is refused with an error naming the key.
#include "broker/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cmd/broker_modules.hpp"

using cairn::broker::Config;
using cairn::broker::ConfigError;

namespace {

// The keys of the modules cairn-broker runs (its composition root): the configuration that
// `cairn start` reads.
const cairn::broker::ConfigKeys& module_keys() {
  static const cairn::broker::ConfigKeys keys =
      cairn::broker::module_config_keys(cairn::cmd::broker_modules());
  return keys;
}

// Runs fn and returns the ConfigError it throws (fails the test if it throws none).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError thrown";
  return {};
}

std::string starts(const std::string& s, size_t n) { return s.substr(0, n); }

}  // namespace

TEST(Config, DefaultsMatchTheDesignTable) {
  Config c(module_keys(), "", "node7");
  EXPECT_EQ(c.text("heartbeat.period"), "2");
  EXPECT_DOUBLE_EQ(c.number("heartbeat.period"), 2.0);
  EXPECT_EQ(c.text("stats.endpoint"), "");
  EXPECT_DOUBLE_EQ(c.number("stats.period"), 1.0);
  EXPECT_EQ(c.text("stats.prefix"), "cairn.0");
  EXPECT_EQ(c.integer("broker.rank"), 0);
  EXPECT_EQ(c.integer("stats.max-packet"), 1440);
  EXPECT_EQ(c.text("content.hash"), "sha1");
  EXPECT_EQ(c.text("content.blob-size-limit"), "1073741824");
  EXPECT_EQ(c.text("content.flush-batch-limit"), "256");
  EXPECT_EQ(c.text("content.purge-target-size"), "16777216");
  EXPECT_EQ(c.text("content.purge-old-entry"), "10");
  EXPECT_EQ(c.text("content.backing"), "sqlite");
  EXPECT_EQ(c.text("job-manager.plugins"), "[]");
  EXPECT_EQ(c.text("security.curve-cert"), "");
  EXPECT_EQ(c.text("security.allowed-clients"), "[]");
}

TEST(Config, StatsEndpointDefaultsToTheEnvironmentValue) {
  Config c(module_keys(), "127.0.0.1:8125");
  EXPECT_EQ(c.text("stats.endpoint"), "127.0.0.1:8125");
}

TEST(Config, TomlTablesNestKeys) {
  Config c(module_keys());
  c.load_string(R"(
[heartbeat]
period = 0.5
[stats]
period = 0
prefix = "site.a"
max-packet = 512
[content]
hash = "sha256"
backing = "none"
purge-old-entry = 3
[job-manager]
plugins = ["a.so", "b.so"]
)",
                "test.toml");
  EXPECT_DOUBLE_EQ(c.number("heartbeat.period"), 0.5);
  EXPECT_DOUBLE_EQ(c.number("stats.period"), 0.0);
  EXPECT_EQ(c.text("stats.prefix"), "site.a");
  EXPECT_EQ(c.integer("stats.max-packet"), 512);
  EXPECT_EQ(c.text("content.hash"), "sha256");
  EXPECT_EQ(c.text("content.backing"), "none");
  EXPECT_DOUBLE_EQ(c.number("content.purge-old-entry"), 3.0);  // an integer is a number
  EXPECT_EQ(c.text("job-manager.plugins"), R"(["a.so","b.so"])");
}

TEST(Config, DottedKeysWorkAsTables) {
  Config c(module_keys());
  c.load_string("stats.period = 0.25\n", "x");
  EXPECT_DOUBLE_EQ(c.number("stats.period"), 0.25);
}

TEST(Config, UnknownKeyIsNamed) {
  Config c(module_keys());
  EXPECT_EQ(starts(error_of([&] { c.load_string("[stats]\nperiood = 1\n", "x"); }), 15),
            "stats.periood: ");
  EXPECT_EQ(starts(error_of([&] { c.set_option("nosuch.key=1"); }), 12), "nosuch.key: ");
}

TEST(Config, WrongTypeIsNamedWithWhatWasFound) {
  Config c(module_keys());
  EXPECT_EQ(error_of([&] { c.load_string("heartbeat.period = \"fast\"\n", "x"); }),
            "heartbeat.period: expected a number, got a string");
  EXPECT_EQ(error_of([&] { c.load_string("stats.max-packet = 1.5\n", "x"); }),
            "stats.max-packet: expected an integer, got a float");
  EXPECT_EQ(error_of([&] { c.load_string("content.hash = 1\n", "x"); }),
            "content.hash: expected a string, got an integer");
  EXPECT_EQ(error_of([&] { c.load_string("job-manager.plugins = [1]\n", "x"); }),
            "job-manager.plugins: expected an array of strings, found an integer in it");
}

TEST(Config, OutOfRangeValuesAreRefused) {
  Config c(module_keys());
  for (const char* kv :
       {"heartbeat.period=0", "heartbeat.period=-1", "heartbeat.period=1e-9", "stats.period=-0.5",
        "stats.max-packet=10", "stats.max-packet=70000", "content.flush-batch-limit=0",
        "content.blob-size-limit=0", "content.purge-target-size=-1", "content.hash=md5",
        "content.backing=disk", "heartbeat.period=inf", "heartbeat.period=nan"}) {
    std::string key(kv, std::string(kv).find('='));
    std::string err = error_of([&] { c.set_option(kv); });
    EXPECT_EQ(starts(err, key.size() + 2), key + ": ") << kv << " -> " << err;
  }
  // Refused values leave the default in place.
  EXPECT_DOUBLE_EQ(c.number("heartbeat.period"), 2.0);
  EXPECT_EQ(c.text("content.hash"), "sha1");
}

TEST(Config, StatsPrefixIsLimitedTo127Characters) {
  Config c(module_keys());
  EXPECT_NO_THROW(c.set_option("stats.prefix=" + std::string(127, 'a')));
  EXPECT_EQ(error_of([&] { c.set_option("stats.prefix=" + std::string(128, 'a')); }),
            "stats.prefix: prefix is 128 characters, at most 127 allowed");
  EXPECT_EQ(starts(error_of([&] { c.set_option("stats.prefix=a:b"); }), 14), "stats.prefix: ");
  EXPECT_EQ(error_of([&] { c.set_option("stats.prefix=job.?"); }),
            "stats.prefix: 'job.?' contains '?', outside [A-Za-z0-9_.-]");
}

TEST(Config, TheDefaultPrefixFollowsTheRank) {
  Config c(module_keys(), "", "node7");
  EXPECT_EQ(c.text("stats.prefix"), "cairn.0");
  c.set_rank(3);
  EXPECT_EQ(c.integer("broker.rank"), 3);
  EXPECT_EQ(c.text("stats.prefix"), "cairn.3");
}

TEST(Config, BrokerRankComesFromTheFileAndTheRankOptionWins) {
  Config c(module_keys(), "", "h");
  c.load_string("[broker]\nrank = 5\n", "test.toml");
  EXPECT_EQ(c.integer("broker.rank"), 5);
  EXPECT_EQ(c.text("stats.prefix"), "cairn.5");
  c.set_option("broker.rank=6");
  c.set_rank(2);  // --rank, applied last
  EXPECT_EQ(c.integer("broker.rank"), 2);
  EXPECT_EQ(c.text("stats.prefix"), "cairn.2");
  EXPECT_EQ(error_of([&] { c.set_option("broker.rank=-1"); }),
            "broker.rank: -1 is out of range: expected 0 to 2147483647");
  EXPECT_EQ(c.integer("broker.rank"), 2);
}

TEST(Config, StatsPrefixTakesTheRankAndTheShortHostNameInAnyOrderOfKeys) {
  Config c(module_keys(), "", "node12");
  c.set_option("stats.prefix=site.{host}.r{rank}");
  EXPECT_EQ(c.text("stats.prefix"), "site.node12.r0");
  c.set_option("broker.rank=4");  // set after the prefix, still in it
  EXPECT_EQ(c.text("stats.prefix"), "site.node12.r4");
  c.set_option("stats.prefix=plain");
  c.set_rank(9);
  EXPECT_EQ(c.text("stats.prefix"), "plain");
}

TEST(Config, StatsPrefixPlaceholdersOtherThanRankAndHostAreRefusedNamingTheKey) {
  Config c(module_keys(), "", "h");
  EXPECT_EQ(error_of([&] { c.set_option("stats.prefix=cairn.{hostname}"); }),
            "stats.prefix: unknown placeholder {hostname} in 'cairn.{hostname}': use {rank} (the "
            "broker's rank) or {host} (the short host name)");
  EXPECT_EQ(error_of([&] { c.load_string("[stats]\nprefix = \"a.{rank\"\n", "f.toml"); }),
            "stats.prefix: 'a.{rank' has a '{' that is not closed: use {rank} or {host}");
  EXPECT_EQ(starts(error_of([&] { c.set_option("stats.prefix=a}b"); }), 14), "stats.prefix: ");
  EXPECT_EQ(c.text("stats.prefix"), "cairn.0");  // unchanged
}

TEST(Config, StatsPrefixIsCheckedOnceExpanded) {
  Config c(module_keys(), "", "a-long-host-name");
  EXPECT_EQ(error_of([&] { c.set_option("stats.prefix=" + std::string(120, 'a') + ".{host}"); }),
            "stats.prefix: '" + std::string(120, 'a') + ".{host}' expands to '" +
                std::string(120, 'a') +
                ".a-long-host-name': prefix is 137 characters, at most 127 allowed");
  // A rank long enough to push an accepted prefix past 127 characters is refused too.
  c.set_option("stats.prefix=" + std::string(125, 'a') + "{rank}");
  EXPECT_EQ(starts(error_of([&] { c.set_rank(12345); }), 14), "stats.prefix: ");
  EXPECT_EQ(c.integer("broker.rank"), 0);
  Config d(module_keys(), "", "bad host");
  EXPECT_EQ(starts(error_of([&] { d.set_option("stats.prefix=n.{host}"); }), 14), "stats.prefix: ");
}

TEST(Config, ShortHostNameStopsAtTheFirstDot) {
  std::string host = cairn::broker::short_host_name();
  EXPECT_FALSE(host.empty());
  EXPECT_EQ(host.find('.'), std::string::npos);
  char full[256] = {};
  ASSERT_EQ(gethostname(full, sizeof full - 1), 0);
  EXPECT_EQ(std::string(full).substr(0, host.size()), host);
}

TEST(Config, OptionValuesParseAsTomlElseAsStrings) {
  Config c(module_keys());
  c.set_option("heartbeat.period=3");  // integer, accepted as a number
  EXPECT_DOUBLE_EQ(c.number("heartbeat.period"), 3.0);
  c.set_option("stats.endpoint=127.0.0.1:8125");  // not TOML: a string
  EXPECT_EQ(c.text("stats.endpoint"), "127.0.0.1:8125");
  c.set_option("stats.prefix=\"quoted.prefix\"");  // a TOML string loses its quotes
  EXPECT_EQ(c.text("stats.prefix"), "quoted.prefix");
  c.set_option("stats.prefix=123");  // a string key takes the text as given
  EXPECT_EQ(c.text("stats.prefix"), "123");
  c.set_option("job-manager.plugins=[\"x.so\", \"y.so\"]");
  EXPECT_EQ(c.list("job-manager.plugins").size(), 2u);
  c.set_option("job-manager.plugins=one.so");  // a bare word is a one-element list
  EXPECT_EQ(c.text("job-manager.plugins"), R"(["one.so"])");
  c.set_option("stats.endpoint=");  // empty is allowed: telemetry off
  EXPECT_EQ(c.text("stats.endpoint"), "");
}

TEST(Config, CommandLineWinsOverTheFile) {
  Config c(module_keys());
  c.load_string("heartbeat.period = 5\n", "x");
  c.set_option("heartbeat.period=0.1");
  EXPECT_DOUBLE_EQ(c.number("heartbeat.period"), 0.1);
}

TEST(Config, OptionWithoutEqualsIsRefused) {
  Config c(module_keys());
  EXPECT_EQ(error_of([&] { c.set_option("heartbeat.period"); }),
            "-o heartbeat.period: expected -o KEY=VALUE");
}

TEST(Config, MalformedOptionValueForNumberKey) {
  Config c(module_keys());
  EXPECT_EQ(error_of([&] { c.set_option("stats.max-packet=lots"); }),
            "stats.max-packet: 'lots' is not an integer");
}

TEST(Config, AllowedClientsMustBeZ85PublicKeys) {
  Config c(module_keys());
  // A valid Z85 key: 40 characters of the Z85 alphabet.
  std::string good = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  EXPECT_NO_THROW(c.load_string("security.allowed-clients = ['" + good + "']\n", "x"));
  EXPECT_EQ(c.list("security.allowed-clients").at(0), good);
  EXPECT_EQ(
      starts(error_of([&] { c.load_string("security.allowed-clients = ['short']\n", "x"); }), 26),
      "security.allowed-clients: ");
}

TEST(Config, UnparsableTomlNamesFileAndLine) {
  Config c(module_keys());
  std::string err = error_of([&] { c.load_string("[stats\nperiod = 1\n", "bad.toml"); });
  EXPECT_EQ(starts(err, 11), "bad.toml:1:") << err;
  EXPECT_NE(err.find("not valid TOML"), std::string::npos) << err;
}

TEST(Config, MissingFileIsNamed) {
  Config c(module_keys());
  EXPECT_EQ(error_of([&] { c.load_file("/nonexistent/cairn.toml"); }),
            "/nonexistent/cairn.toml: cannot read the file: No such file or directory");
}

TEST(Config, LoadFileReadsARealFile) {
  char path[] = "/tmp/cairn-config-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "[content]\nflush-batch-limit = 8\n";
  }
  Config c(module_keys());
  c.load_file(path);
  std::remove(path);
  EXPECT_EQ(c.integer("content.flush-batch-limit"), 8);
}

TEST(Config, EveryKeyIsKnownAndHasADefault) {
  Config c(module_keys());
  std::vector<std::string> keys;
  for (const auto& k : c.schema()) keys.push_back(k.name);
  // The broker's own keys, then each module's (and each backing store's), each declared once.
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  for (const char* k : {"heartbeat.period", "stats.endpoint", "security.allowed-clients",
                        "content.hash", "content.backing", "job-manager.plugins"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  for (const auto& k : keys) EXPECT_NO_THROW(c.text(k)) << k;
  EXPECT_EQ(error_of([&] { c.set_option("stats=1"); }).rfind("stats: ", 0), 0u);
}

// The broker alone (no module) knows only its own keys: a module's are refused.
TEST(Config, KnowsOnlyTheKeysOfTheModulesItIsGiven) {
  Config bare;
  EXPECT_NO_THROW(bare.set_option("heartbeat.period=2"));
  EXPECT_EQ(error_of([&] { bare.set_option("content.hash=sha256"); }).rfind("content.hash: ", 0),
            0u);
}
