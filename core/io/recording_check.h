#pragma once
// Opening a recording that may be corrupt without letting libhdf5 take the program down.
//
// Why a child process: RecordingReader checks every size against the file before it allocates
// (recording_layout.h), but some corruption is only met inside libhdf5 itself: a bit flip in a
// global heap collection (where variable-length strings such as the root's `format` attribute
// live) makes H5Aread write through a garbage length and segfault or abort in free(). No check
// made from outside the library can rule that out, and a signal cannot be recovered from inside
// the process (the library's state is gone). So checkRecording reads and validates the whole file
// (RecordingReader + readEverything: every attribute, every dataset, every value finite) in a
// fork()ed child first, with a time limit, and turns the child's fate into a KvsError:
//   - it threw KvsError: the same message (the caller sees what the reader would have said);
//   - it died of a signal: "the recording F is corrupt (libhdf5 crashed reading it: signal N ...)";
//   - it ran past the limit (a corrupt B-tree can make libhdf5 loop): killed, and said so.
// Only when the child read everything does the caller open the file itself. The price is reading
// the file twice (the second time mostly from the page cache).
//
// The child only runs HDF5 and plain C++ (no LibTorch, no Qt: their thread pools do not survive
// fork()), never returns into the caller's code, and ends with _exit so that no destructor or
// atexit handler of the parent's (open HDF5 files, Qt) runs in it. fork() is called from the
// thread that owns HDF5 (the CLI's main thread, the GUI's worker), so no HDF5 lock is held by
// another thread at that moment. The child's stderr goes to /dev/null (glibc's "free(): invalid
// size" would break the CLI's one-line error), and it writes no core file.

#include <functional>
#include <string>

namespace kvs {

struct ChildOutcome {
  enum class Kind { kOk, kError, kSignal, kTimeout };
  Kind kind = Kind::kOk;
  std::string message;  // kError: the KvsError's (or exception's) message
  int signal = 0;       // kSignal
};

// Runs work() in a fork()ed child and waits at most timeLimitSeconds for it (then kills it).
// keepGoing is asked about every 50 ms; false kills the child and throws KvsError("cancelled").
// KvsError when no child can be started.
ChildOutcome runInChildProcess(const std::function<void()>& work, double timeLimitSeconds,
                               const std::function<bool()>& keepGoing = {});

// A time limit generous for an intact file of this size on a slow disk: 60 s plus 1 s per 10 MiB.
double recordingCheckTimeLimit(const std::string& path);

// Throws KvsError unless RecordingReader(path) and readEverything() succeed in a child process
// within timeLimitSeconds (<= 0: recordingCheckTimeLimit(path)); see above.
void checkRecording(const std::string& path, double timeLimitSeconds = 0,
                    const std::function<bool()>& keepGoing = {});

}  // namespace kvs
