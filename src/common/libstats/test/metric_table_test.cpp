// MetricTable: every inserted (type, name) is found again, slots never move, types stay apart.
#include "libstats/metric_table.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cairn::stats {
namespace {

TEST(MetricTableTest, FindsEveryNameAfterGrowingAndSlotsNeverMove) {
  MetricTable table;
  EXPECT_EQ(table.find(Kind::kGauge, "absent"), nullptr);
  std::vector<Slot*> slots;
  std::vector<std::string> names;
  // Lengths 1..70 cover every branch of the hash (short, 4..7, 8..16, 17..32, longer).
  for (int i = 0; i < 5000; ++i) {
    names.push_back(std::string(1 + i % 70, 'a' + i % 26) + std::to_string(i));
    ASSERT_EQ(table.find(Kind::kGauge, names.back()), nullptr);
    slots.push_back(table.insert(Kind::kGauge, names.back()));
  }
  EXPECT_EQ(table.size(), 5000u);
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_EQ(table.find(Kind::kGauge, names[i]), slots[i]) << names[i];
    EXPECT_EQ(slots[i]->name, names[i]);
    EXPECT_EQ(table.find(Kind::kCounter, names[i]), nullptr);
  }
}

TEST(MetricTableTest, TypesAreKeptApart) {
  MetricTable table;
  Slot* c = table.insert(Kind::kCounter, "x");
  Slot* g = table.insert(Kind::kGauge, "x");
  Slot* t = table.insert(Kind::kTimer, "x");
  EXPECT_NE(c, g);
  EXPECT_EQ(table.find(Kind::kCounter, "x"), c);
  EXPECT_EQ(table.find(Kind::kGauge, "x"), g);
  EXPECT_EQ(table.find(Kind::kTimer, "x"), t);
  EXPECT_EQ(t->kind, Kind::kTimer);
}

TEST(MetricTableTest, NamesDifferingInOneByteAreDistinct) {
  MetricTable table;
  std::vector<std::string> names = {"ab",
                                    "ac",
                                    "abcd",
                                    "abce",
                                    "abcdefgh",
                                    "abcdefgi",
                                    std::string(20, 'q'),
                                    std::string(19, 'q') + "r",
                                    std::string(40, 'z'),
                                    std::string(39, 'z') + "y"};
  for (const auto& n : names) table.insert(Kind::kCounter, n);
  for (const auto& n : names) ASSERT_EQ(table.find(Kind::kCounter, n)->name, n);
  EXPECT_EQ(table.find(Kind::kCounter, "abcdefg"), nullptr);
  EXPECT_EQ(table.find(Kind::kCounter, std::string(21, 'q')), nullptr);
}

}  // namespace
}  // namespace cairn::stats
