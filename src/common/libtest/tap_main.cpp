// main() for cairn's GoogleTest binaries: runs every test and reports each as a TAP line, so
// Automake's TAP driver counts GoogleTest cases one by one, as it does sharness cases.
// GoogleTest's own output stays (prefixed with '#') for the log.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

class TapListener : public testing::EmptyTestEventListener {
 public:
  void OnTestProgramStart(const testing::UnitTest& unit) override {
    std::printf("1..%d\n", unit.test_to_run_count());
    std::fflush(stdout);
  }
  void OnTestEnd(const testing::TestInfo& info) override {
    ++n_;
    const auto* result = info.result();
    std::string name = std::string(info.test_suite_name()) + "." + info.name();
    if (result->Skipped()) {
      std::printf("ok %d - %s # SKIP %s\n", n_, name.c_str(), skip_reason(*result).c_str());
    } else if (result->Passed()) {
      std::printf("ok %d - %s\n", n_, name.c_str());
    } else {
      std::printf("not ok %d - %s\n", n_, name.c_str());
    }
    std::fflush(stdout);
  }

 private:
  static std::string skip_reason(const testing::TestResult& r) {
    for (int i = 0; i < r.total_part_count(); ++i) {
      const auto& part = r.GetTestPartResult(i);
      if (part.skipped() && part.message() && *part.message()) {
        std::string m = part.message();
        for (auto& c : m)
          if (c == '\n') c = ' ';
        return m;
      }
    }
    return "skipped";
  }
  int n_ = 0;
};

// GoogleTest's own printer, with every line commented out for TAP.
class CommentedPrinter : public testing::EmptyTestEventListener {
 public:
  void OnTestPartResult(const testing::TestPartResult& r) override {
    if (r.type() == testing::TestPartResult::kSuccess) return;
    std::string text = std::string(r.file_name() ? r.file_name() : "?") + ":" +
                       std::to_string(r.line_number()) + ": " + r.message();
    std::string out = "# ";
    for (char c : text) {
      out += c;
      if (c == '\n') out += "# ";
    }
    std::printf("%s\n", out.c_str());
    std::fflush(stdout);
  }
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  auto& listeners = testing::UnitTest::GetInstance()->listeners();
  // GoogleTest's listener API takes and releases ownership through raw pointers.
  delete listeners.Release(listeners.default_result_printer());
  listeners.Append(new CommentedPrinter);
  listeners.Append(new TapListener);
  return RUN_ALL_TESTS();
}
