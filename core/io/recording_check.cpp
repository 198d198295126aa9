#include "io/recording_check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "io/recording_reader.h"
#include "util/error.h"

namespace kvs {
namespace {

// What the child writes to the pipe before _exit: one status byte, then the message.
constexpr char kChildOk = 'O', kChildKvsError = 'E', kChildOtherError = 'X';

void writeAll(int fd, const std::string& bytes) {
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// In the child: never returns.
[[noreturn]] void runChild(const std::function<void()>& work, int resultFd) {
  const int devNull = ::open("/dev/null", O_WRONLY);
  if (devNull >= 0) ::dup2(devNull, STDERR_FILENO);
  const rlimit noCore{0, 0};
  ::setrlimit(RLIMIT_CORE, &noCore);
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(s, SIG_DFL);
  std::string result(1, kChildOk);
  try {
    work();
  } catch (const KvsError& e) {
    result = kChildKvsError + std::string(e.what());
  } catch (const std::exception& e) {
    result = kChildOtherError + std::string(e.what());
  } catch (...) {
    result = kChildOtherError + std::string("an unknown exception");
  }
  writeAll(resultFd, result);
  ::_exit(0);
}

void killAndReap(pid_t child) {
  ::kill(child, SIGKILL);
  while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

ChildOutcome runInChildProcess(const std::function<void()>& work, double timeLimitSeconds,
                               const std::function<bool()>& keepGoing) {
  int fds[2];
  require(::pipe2(fds, O_CLOEXEC) == 0,
          std::string("cannot start a process to check the file: ") + std::strerror(errno));
  const pid_t child = ::fork();
  if (child < 0) {
    const std::string why = std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    throw KvsError("cannot start a process to check the file: " + why +
                   "; free some memory and try again");
  }
  if (child == 0) {
    ::close(fds[0]);
    runChild(work, fds[1]);
  }
  ::close(fds[1]);

  using Clock = std::chrono::steady_clock;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(std::max(0.0, timeLimitSeconds)));
  std::string result;
  bool pipeOpen = true;
  int status = 0;
  bool reaped = false;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    ::poll(&p, pipeOpen ? 1 : 0, 50);  // without the pipe (at EOF): a 50 ms sleep
    if (pipeOpen && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      char buffer[4096];
      const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      if (n > 0) result.append(buffer, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) pipeOpen = false;
    }
    const pid_t waited = ::waitpid(child, &status, WNOHANG);
    if (waited == child) {
      reaped = true;
      break;
    }
    // ECHILD: someone else reaped it (SIGCHLD ignored); then only the pipe tells how it went.
    if (waited < 0 && errno == ECHILD && !pipeOpen) break;
    if (keepGoing && !keepGoing()) {
      killAndReap(child);
      ::close(fds[0]);
      throw KvsError("cancelled");
    }
    if (Clock::now() > deadline) {
      killAndReap(child);
      ::close(fds[0]);
      return {ChildOutcome::Kind::kTimeout, "", 0};
    }
  }
  for (char buffer[4096];;) {  // what the child wrote just before it exited
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);

  if (reaped && WIFSIGNALED(status)) return {ChildOutcome::Kind::kSignal, "", WTERMSIG(status)};
  if (result.empty()) return {ChildOutcome::Kind::kSignal, "", 0};  // died without a word
  if (result[0] == kChildOk) return {ChildOutcome::Kind::kOk, "", 0};
  std::string message = result.substr(1);
  if (result[0] == kChildOtherError) message = "internal error: " + message;
  return {ChildOutcome::Kind::kError, message, 0};
}

double recordingCheckTimeLimit(const std::string& path) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  return 60.0 + (ec ? 0.0 : double(bytes) / double(10 << 20));
}

void checkRecording(const std::string& path, double timeLimitSeconds,
                    const std::function<bool()>& keepGoing) {
  const double limit = timeLimitSeconds > 0 ? timeLimitSeconds : recordingCheckTimeLimit(path);
  const ChildOutcome outcome = runInChildProcess(
      [&] {
        const RecordingReader reader(path);
        reader.readEverything();
      },
      limit, keepGoing);
  switch (outcome.kind) {
    case ChildOutcome::Kind::kOk:
      return;
    case ChildOutcome::Kind::kError:
      throw KvsError(outcome.message.rfind("internal error: ", 0) == 0
                         ? "cannot read the recording " + path +
                               " (damaged recording?): " + outcome.message.substr(16)
                         : outcome.message);
    case ChildOutcome::Kind::kSignal:
      throw KvsError("the recording " + path + " is corrupt (libhdf5 crashed reading it: " +
                     (outcome.signal ? "signal " + std::to_string(outcome.signal) + ", " +
                                           ::strsignal(outcome.signal)
                                     : std::string("the checking process died")) +
                     "); it cannot be read, record it again");
    case ChildOutcome::Kind::kTimeout:
      break;
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3g", limit);
  throw KvsError("the recording " + path + " could not be read within " + seconds +
                 " s (libhdf5 did not finish: a corrupt file can make it loop); it is probably "
                 "corrupt, record it again");
}

}  // namespace kvs
