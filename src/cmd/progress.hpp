// cairn::cmd::Progress: the one progress line of a long bulk run of `cairn content`, e.g.
// `stored 12000 blobs (11.7 MiB)`, on a terminal only. Invariants: nothing is ever written
// unless the Progress was made shown; the line is redrawn in place (\r) at most every
// kRefresh, and cleared by clear() or the destructor, so whatever is printed next (an error,
// the shell prompt) starts on a clean line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cairn::cmd {

class Progress {
 public:
  static constexpr std::chrono::milliseconds kRefresh{250};

  // `verb` names what was done to the blobs ("stored", "loaded"). Shown only if `shown`;
  // see wanted().
  Progress(std::string verb, bool shown);
  ~Progress() { clear(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Whether a run should show progress: standard error is a terminal and standard output,
  // if the command prints its results there (`results_on_stdout`), is not one, since results
  // scrolling by on the terminal are progress enough and would tear the line.
  static bool wanted(bool results_on_stdout);

  // Counts one more blob of `bytes`; redraws the line if kRefresh has passed since the last
  // drawing (the first blob draws at once).
  void add(uint64_t bytes);
  // Erases the line if it is drawn. add() draws it again.
  void clear();

  uint64_t blobs() const { return blobs_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void draw();

  std::string verb_;
  bool shown_;
  bool drawn_ = false;
  uint64_t blobs_ = 0, bytes_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

// The text of the line: "stored 12000 blobs (11.7 MiB)", "stored 1 blob (0.0 MiB)".
std::string progress_text(const std::string& verb, uint64_t blobs, uint64_t bytes);

}  // namespace cairn::cmd
