// A progress bar on standard error for a long load: drawn only on a terminal, and only once the
// work has taken more than a second (a quick load prints nothing).
#ifndef EMBER_EXAMPLES_PROGRESS_H
#define EMBER_EXAMPLES_PROGRESS_H

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace ember_cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), on_terminal_(isatty(STDERR_FILENO) == 1) {}
  ~ProgressBar() { finish(); }

  // The fraction done; returns true (never cancels), so it serves as a load's progress callback.
  bool update(float fraction) {
    if (!on_terminal_) return true;
    const int percent = fraction <= 0 ? 0 : fraction >= 1 ? 100 : int(fraction * 100);
    if (percent == last_percent_) return true;
    if (!drawn_ && std::chrono::steady_clock::now() - start_ < std::chrono::seconds(1)) return true;
    last_percent_ = percent;
    drawn_ = true;
    constexpr int kWidth = 30;
    const int filled = percent * kWidth / 100;
    std::fprintf(stderr, "\r%s [%s%s] %3d%%", label_.c_str(), std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(kWidth - filled), ' ').c_str(), percent);
    std::fflush(stderr);
    return true;
  }

  // Ends the bar's line, if one was drawn.
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  std::string label_;
  bool on_terminal_;
  bool drawn_ = false;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace ember_cli

#endif
