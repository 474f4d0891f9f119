// SocketCore::PollPipes: receive on the application's thread. A receiver with
// nothing to take, instead of sleeping until the loop has read, decoded and
// delivered the next message (two wake-ups: the loop's, then its own), polls
// the descriptors of its stream pipes and reads what arrives itself (one
// wake-up). The loop reads whatever a receiver does not, and leaves a pipe to
// the receivers while they keep polling it (StreamPipe's lent_); a pipe's
// bytes are read by one of them at a time (StreamPipe's rd_mu_), so order,
// back-pressure (a pipe delivering into a full queue pauses) and every close
// rule stay the loop's. One receiver polls at a time; others, and sockets with
// more than max_polled_ stream pipes (kMaxPolledPipes unless SetPollAlways
// says more), sleep on recv_cv_ as before. A thread awaiting an answer the
// receive filter takes (AwaitOnCaller, e.g. a rooms client's Emit) polls too,
// and within an AwaitScope Recv leaves the polling to it (awaiting_).
#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "socket/socket_core.h"

namespace msock::internal {

bool RecvOnCallerDefault() {
  const char* v = std::getenv("MSOCK_RECV_ON_CALLER");
  return v == nullptr || std::strcmp(v, "0") != 0;
}

absl::Status SocketCore::PollPipes(MutexLock& lock, absl::Time deadline,
                                   bool* waited, bool* fallback,
                                   bool hand_over) {
  *fallback = true;
  // On the stack, never the heap (max_polled_ <= kPollCap): a hub polls
  // once per request.
  absl::InlinedVector<std::shared_ptr<Pipe>, kPollCap> pipes;
  absl::InlinedVector<pollfd, kPollCap + 1> fds;
  const size_t max_polled = max_polled_.load(std::memory_order_relaxed);
  for (const auto& [id, p] : pipes_) {
    const int fd = p->RecvFd();
    if (fd < 0) continue;
    if (pipes.size() == max_polled) return absl::OkStatus();
    fds.push_back({fd, POLLIN, 0});
    pipes.push_back(p);
  }
  if (pipes.empty()) return absl::OkStatus();
  polled_.clear();
  for (const auto& p : pipes) polled_.push_back(p->id);
  const absl::Time now = absl::Now();
  if (deadline <= now) return absl::OkStatus();  // WaitOn answers
  if (wake_fd_ < 0) return absl::OkStatus();     // eventfd failed (EMFILE)
  int timeout_ms = -1;
  if (deadline != absl::InfiniteFuture()) {
    timeout_ms = static_cast<int>(
        std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(
                              deadline - now, absl::Milliseconds(1))),
                          1 << 30));
  }
  const size_t n = pipes.size();
  fds.push_back({wake_fd_, POLLIN, 0});
  *waited = true;
  ++recv_waiters_;
  ++pollers_;
  recv_polling_.store(true, std::memory_order_release);
  mu_.unlock();  // the caller's MutexLock owns mu_ again when we return
  for (size_t i = 0; i < n; ++i) pipes[i]->Polling(true);
  int rc;
  do {
    rc = poll(fds.data(), n + 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  for (size_t i = 0; i < n; ++i) pipes[i]->Polling(false);
  // What this thread delivers below need not wake it (recv_waiters_ still
  // counts it, so nobody else is woken for it either); Recv looks at the
  // queue again before it sleeps.
  recv_polling_.store(false, std::memory_order_relaxed);
  bool progress = false;
  if (rc > 0) {
    if (fds[n].revents != 0) {
      uint64_t count;
      (void)!read(wake_fd_, &count, sizeof(count));
      progress = true;  // something was delivered, or the socket closed
    }
    // A pipe that cannot be read here (the loop is at it, or the peer left)
    // leaves it to the loop: this receiver sleeps on recv_cv_ instead of
    // polling a descriptor that stays readable.
    for (size_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t got = pipes[i]->RecvOnCaller();
      if (got >= 0) progress = true;
      if (got > 0) stats_.Add(kReadsOnCaller);
    }
  }
  pipes.clear();  // a pipe's last reference is never dropped under mu_
  mu_.lock();
  --recv_waiters_;
  --pollers_;
  // The pipes may be lent to the poller (StreamPipe::lent_): a receiver asleep
  // on recv_cv_ takes over the polling, rather than wait for the loop to take
  // them back.
  if (hand_over && recv_waiters_ > 0) recv_cv_.notify_one();
  if (closed_)
    return absl::CancelledError(absl::StrCat(spec_.name, " socket: closed"));
  if (rc == 0 && deadline <= absl::Now()) {
    return absl::DeadlineExceededError(
        absl::StrCat(spec_.name, " socket: deadline passed: no message"));
  }
  *fallback = !progress && rc != 0;
  return absl::OkStatus();
}

void SocketCore::UnlendPolled(MutexLock& lock) {
  absl::InlinedVector<std::shared_ptr<Pipe>, kPollCap> pipes;
  for (uint32_t id : polled_) {
    auto it = pipes_.find(id);
    if (it != pipes_.end()) pipes.push_back(it->second);
  }
  polled_.clear();
  if (pipes.empty()) return;
  mu_.unlock();  // the caller's MutexLock owns mu_ again when we return
  for (const auto& p : pipes) p->Unlend();
  pipes.clear();  // a pipe's last reference is never dropped under mu_
  mu_.lock();
}

void SocketCore::AwaitOnCaller(absl::Time deadline,
                               absl::FunctionRef<bool()> done) {
  MutexLock lock(mu_);
  // done() and the start of a poll are under mu_, where the filter runs and
  // after which Deliver wakes the poller: an answer the loop delivers in
  // between is not missed.
  // Polls while no other thread does; a receiver asleep in Recv (a
  // dispatcher, see awaiting_) is woken by what this thread delivers for it.
  bool polled = false;
  while (!closed_ && opts_.recv_on_caller && pollers_ == 0 && !done()) {
    bool waited = false;
    bool fallback = false;
    const absl::Status s =
        PollPipes(lock, deadline, &waited, &fallback, /*hand_over=*/false);
    polled = true;
    // As in Recv: what this thread delivered notified a receiver if one
    // slept; one that was busy instead finds it queued when it comes back.
    // Left set, recv_woken_ would keep the next delivery from waking a
    // receiver that went to sleep since.
    recv_woken_ = false;
    if (!s.ok() || fallback) break;
  }
  // The loop may have lent this thread the pipes (StreamPipe::lent_). They
  // go back to it at once if another thread awaits its answer (it found
  // this one polling and waits its own way). Else they stay lent: the next
  // request polls them again soon, or the lend timer hands them back once
  // idle for 2 ms. Not handed to a receiver asleep in Recv (a dispatcher,
  // which does not poll, see awaiting_): what comes for it meanwhile waits
  // up to ~4 ms more. Handing them back after every answer cost more than
  // the hop it saves (a rooms Emit's round trip: 1.04x req/rep's this way,
  // 1.3-1.5x handing back, 1.3x before).
  if (polled && pollers_ == 0 && !polled_.empty() &&
      awaiting_.load(std::memory_order_relaxed) > 1) {
    UnlendPolled(lock);
  }
}

}  // namespace msock::internal
