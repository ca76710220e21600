// The progress line of bulk `cairn content` runs (see progress.hpp). Written with write(2) on
// standard error, unbuffered, so it never interleaves with a half-written error message.
#include "cmd/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include "libutil/file.hpp"

namespace cairn::cmd {

std::string progress_text(const std::string& verb, uint64_t blobs, uint64_t bytes) {
  char mib[32];
  std::snprintf(mib, sizeof mib, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return verb + " " + std::to_string(blobs) + (blobs == 1 ? " blob (" : " blobs (") + mib + " MiB)";
}

Progress::Progress(std::string verb, bool shown) : verb_(std::move(verb)), shown_(shown) {}

bool Progress::wanted(bool results_on_stdout) {
  return ::isatty(STDERR_FILENO) == 1 && !(results_on_stdout && ::isatty(STDOUT_FILENO) == 1);
}

void Progress::add(uint64_t bytes) {
  ++blobs_;
  bytes_ += bytes;
  if (!shown_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kRefresh) return;
  last_draw_ = now;
  draw();
}

void Progress::draw() {
  // \r to the line's start, the text, then erase what a longer earlier text left (\033[K).
  (void)util::write_all(STDERR_FILENO, "\r" + progress_text(verb_, blobs_, bytes_) + "\033[K");
  drawn_ = true;
}

void Progress::clear() {
  if (!drawn_) return;
  (void)util::write_all(STDERR_FILENO, "\r\033[K");
  drawn_ = false;
}

}  // namespace cairn::cmd
