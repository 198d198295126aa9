#pragma once
// A progress line redrawn in place on stderr ("\r[#####     ] 3/8 variants"). While one is open
// the cursor sits at its end, so anything printed to stderr next would be glued to the bar: an
// error, a note or a warning must end the line first. cli_app.cpp's fail() does so for every
// error; code that prints a note while a bar may be open calls endProgressLine() first.

#include <atomic>
#include <cstdio>
#include <string>

namespace kvs::cli {

namespace detail {
inline std::atomic<bool>& progressLineOpen() {
  static std::atomic<bool> open{false};
  return open;
}
}  // namespace detail

// Redraws the open line as `text` (no newline; the line stays open).
inline void drawProgressLine(const std::string& text) {
  std::fprintf(stderr, "\r%s", text.c_str());
  std::fflush(stderr);
  detail::progressLineOpen() = true;
}

// Ends an open progress line with a newline; does nothing when none is open. Call it when the
// work is done, and before printing anything else to stderr.
inline void endProgressLine() {
  if (detail::progressLineOpen().exchange(false)) {
    std::fputc('\n', stderr);
    std::fflush(stderr);
  }
}

}  // namespace kvs::cli
