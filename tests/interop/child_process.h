// tests/interop/child_process.h: runs a peer program (nngcat, nanocat, msock)
// for a test.
//
// Spawned with posix_spawn; stdin is /dev/null, stdout and stderr are pipes
// read with poll against a deadline. The destructor kills (SIGTERM, then
// SIGKILL after a bound) and reaps it, so a failing test never leaves a process
// behind; a crashing one neither: the child runs under `setpriv --pdeathsig
// KILL` and dies with the thread that started it (start children from the
// test's own thread).
#ifndef MSOCK_TESTS_INTEROP_CHILD_PROCESS_H_
#define MSOCK_TESTS_INTEROP_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace msock::testing {

class ChildProcess {
 public:
  // Starts argv[0] (an absolute path) with arguments argv[1..].
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(
      std::vector<std::string> argv);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // Kill()

  // Next line of standard output without its '\n', or nullopt if none arrived
  // within `timeout` (or the child closed its output).
  std::optional<std::string> ReadLine(absl::Duration timeout);
  // Reads standard output until it contains `n` bytes beyond those already
  // consumed by ReadLine / ReadBytes; returns what it got when `timeout` passes
  // or output ends first.
  std::string ReadBytes(size_t n, absl::Duration timeout);
  // Waits up to `timeout` for the child to exit, draining its output meanwhile.
  // Returns its exit status (128 + signal number if killed by a signal), or
  // nullopt if still running.
  std::optional<int> Wait(absl::Duration timeout);
  // True if the child has exited (reaps it if so).
  bool Exited();
  // SIGTERM, then SIGKILL if it has not exited within 2 s; reaps. Idempotent.
  void Kill();

  // Everything read so far from standard error / not yet consumed from standard
  // output. Drains what is available now without blocking.
  std::string err();
  std::string pending_out();
  // The process id (signal it, e.g. SIGKILL, then Wait to reap it).
  pid_t pid() const { return pid_; }
  // The command line, for failure messages.
  const std::string& command() const { return command_; }

 private:
  ChildProcess() = default;
  // Reads whatever the pipes have, waiting at most until `deadline` for
  // something to arrive. Returns false if both pipes are closed.
  bool Pump(absl::Time deadline);
  bool Reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> status_;  // exit status once reaped
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  std::string command_;
};

}  // namespace msock::testing

#endif  // MSOCK_TESTS_INTEROP_CHILD_PROCESS_H_
