// Implementation of the shared test helpers (tests/support/test_support.h).
#include "tests/support/test_support.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace msock::test {

ScratchDir::ScratchDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  // ipc paths must fit in sun_path (108 bytes): fall back to /tmp for a long
  // TMPDIR.
  if (base.size() > 60) base = "/tmp";
  std::string tmpl = base + "/msock-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ScratchDir::NewPath(std::string_view suffix) {
  return absl::StrCat(path_, "/", next_++, ".", std::string(suffix));
}

ScratchDir& Scratch() {
  static ScratchDir dir;  // destroyed (and removed) at exit
  return dir;
}

std::string UniqueIpcUrl() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  return absl::StrCat("ipc://", Scratch().NewPath("sock"));
}

std::string UniqueInprocUrl() {
  static std::atomic<int> next{0};
  return absl::StrCat("inproc://msock-test-", getpid(), "-", next.fetch_add(1));
}

std::string ListenUrlFor(std::string_view scheme) {
  if (scheme == "inproc") return UniqueInprocUrl();
  if (scheme == "ipc") return UniqueIpcUrl();
  if (scheme == "tcp") return "tcp://127.0.0.1:0";
  if (scheme == "ws") return "ws://127.0.0.1:0/msock";
  if (scheme == "wss") return "wss://127.0.0.1:0/msock";
  std::fprintf(stderr, "ListenUrlFor: unknown scheme %.*s\n",
               static_cast<int>(scheme.size()), scheme.data());
  std::abort();
}

absl::Time Deadline(double seconds) {
  return absl::Now() + absl::Seconds(seconds);
}

bool WaitUntil(const std::function<bool()>& cond, absl::Time deadline) {
  while (!cond()) {
    if (absl::Now() >= deadline) return cond();
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

void Notification::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  cv_.notify_all();
}

bool Notification::HasBeenNotified() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_;
}

bool Notification::WaitFor(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [this] { return done_; });
}

namespace {

// A copy of `s` that shares no rep with it. absl::Status reps are refcounted,
// and Debian's Abseil is not TSan-instrumented: a rep shared between the loop
// thread (which made the event) and the test thread looks like a race when
// the last reference drops.
absl::Status DeepCopy(const absl::Status& s) {
  return absl::Status(s.code(), std::string(s.message()));
}

PipeEvent DeepCopy(const PipeEvent& e) {
  return PipeEvent{e.type, e.pipe_id, e.local_address, e.remote_address,
                   DeepCopy(e.reason)};
}

}  // namespace

std::function<void(const PipeEvent&)> EventLog::Fn() {
  return [this](const PipeEvent& e) {
    PipeEvent copy = DeepCopy(e);
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(copy));
  };
}

int EventLog::Count(PipeEventType type) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const PipeEvent& e : events_) n += e.type == type ? 1 : 0;
  return n;
}

std::vector<PipeEvent> EventLog::Events() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PipeEvent> out;
  out.reserve(events_.size());
  for (const PipeEvent& e : events_) out.push_back(DeepCopy(e));
  return out;
}

std::string EventLog::FirstReason(PipeEventType type) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const PipeEvent& e : events_) {
    if (e.type == type) return std::string(e.reason.message());
  }
  return "";
}

absl::StatusOr<std::string> RecvString(Socket& s, absl::Time deadline) {
  absl::StatusOr<Message> m = s.Recv(deadline);
  if (!m.ok()) return m.status();
  return std::string(m->body());
}

absl::Status SendString(Socket& s, std::string_view body, absl::Time deadline) {
  Message m(body);
  return s.Send(m, deadline);
}

std::string WireBytes(const Message& m) {
  std::string out;
  for (uint32_t w : m.header()) {
    out.push_back(static_cast<char>(w >> 24));
    out.push_back(static_cast<char>(w >> 16));
    out.push_back(static_cast<char>(w >> 8));
    out.push_back(static_cast<char>(w));
  }
  out.append(m.body());
  return out;
}

}  // namespace msock::test
