// Helpers shared by the msock GoogleTest suites: a per-process scratch
// directory, unique inproc / ipc URLs, listen URLs per transport, deadlines and
// bounded condition polling. Everything here is test-only; nothing waits
// without a deadline.
#ifndef MSOCK_TESTS_SUPPORT_TEST_SUPPORT_H_
#define MSOCK_TESTS_SUPPORT_TEST_SUPPORT_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/message.h"
#include "msock/socket.h"

namespace msock::test {

// A directory made with mkdtemp under $TMPDIR (or /tmp), removed with its
// contents when the object is destroyed.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // A fresh file path inside the directory: <dir>/<n>.<suffix>.
  std::string NewPath(std::string_view suffix);

 private:
  std::string path_;
  int next_ = 0;
};

// The process-wide scratch directory (created on first use, removed at exit).
ScratchDir& Scratch();

// "ipc://<scratch>/<n>.sock", unique within the process.
std::string UniqueIpcUrl();
// "inproc://msock-test-<pid>-<n>", unique within the process.
std::string UniqueInprocUrl();
// A URL to listen on for `scheme` ("inproc", "ipc", "tcp", "ws" or "wss"): a
// unique inproc name, a unique ipc path, "tcp://127.0.0.1:0",
// "ws://127.0.0.1:0/msock" or "wss://127.0.0.1:0/msock".
std::string ListenUrlFor(std::string_view scheme);

// absl::Now() + seconds.
absl::Time Deadline(double seconds);

// Polls `cond` (about every millisecond) until it is true or `deadline` passes.
// Returns the last value of `cond`.
bool WaitUntil(const std::function<bool()>& cond, absl::Time deadline);

// A one-shot event built on std::mutex: ThreadSanitizer sees its
// synchronisation (Debian's prebuilt Abseil is not instrumented, so absl::Mutex
// / absl::Notification look like races).
class Notification {
 public:
  void Notify();
  bool HasBeenNotified() const;
  // Waits up to `timeout`; true if notified.
  bool WaitFor(absl::Duration timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

// Records the pipe events of a socket (install with
// sock.OnPipeEvent(log.Fn())). Declare the log before the socket so that it
// outlives it.
class EventLog {
 public:
  std::function<void(const PipeEvent&)> Fn();
  int Count(PipeEventType type) const;
  std::vector<PipeEvent> Events() const;
  // The reason text of the first event of `type` ("" if none yet): why a dial
  // failed (kDialFailed) or a pipe closed (kRemoved).
  std::string FirstReason(PipeEventType type) const;

 private:
  mutable std::mutex mu_;  // std::mutex, not absl::Mutex: see Notification
  std::vector<PipeEvent> events_;
};

// Receives one message and returns its body as a string (or the error).
absl::StatusOr<std::string> RecvString(Socket& s, absl::Time deadline);
// Sends a message holding `body`.
absl::Status SendString(Socket& s, std::string_view body, absl::Time deadline);
// The bytes a message carries on the wire: its header words (big-endian) then
// its body.
std::string WireBytes(const Message& m);

}  // namespace msock::test

#endif  // MSOCK_TESTS_SUPPORT_TEST_SUPPORT_H_
