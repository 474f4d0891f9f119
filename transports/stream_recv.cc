// StreamPipe's receive side beyond the read callbacks: delivery with its
// pause and resume, the progress timer of an unfinished message, and
// RecvOnCaller: a receiver waiting in Recv reads and decodes the peer's bytes
// on its own thread (socket/recv_on_caller.cc polls the pipe's descriptor),
// so a message that answers it needs no hop through the loop: one thread
// wake-up per message instead of two. Whoever takes rd_mu_ first reads, the
// other finds nothing (see rd_mu_); once the loop finds that a receiver read
// first, it lends the descriptor to the receivers (see lent_).
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "transports/stream_pipe.h"

namespace msock::internal {

namespace {

// Receivers' own read buffer (one per receiving thread, made on first use,
// kReadBufferSize bytes).
thread_local std::unique_ptr<char[]> caller_buffer;

// A lent descriptor goes back to the loop once no receiver has polled it for
// kLendIdleNs (looked at every kLendCheckMs): a receiver that comes back to
// Recv more often than that keeps reading it itself.
constexpr int64_t kLendIdleNs = 2'000'000;
std::atomic<int64_t> lend_idle_ns{kLendIdleNs};  // SetLendIdleForTest
std::atomic<int> lent_pipes{0};                  // LentPipesForTest
std::atomic<bool> lend_on_poll{false};           // SetLendOnPollForTest
constexpr uint64_t kLendCheckMs = 2;

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void SetLendIdleForTest(absl::Duration idle) {
  lend_idle_ns.store(absl::ToInt64Nanoseconds(idle), std::memory_order_relaxed);
}

int LentPipesForTest() { return lent_pipes.load(std::memory_order_acquire); }

void SetLendOnPollForTest(bool on) {
  lend_on_poll.store(on, std::memory_order_relaxed);
}

LendOnPollForTest::LendOnPollForTest(absl::Duration idle) {
  SetLendIdleForTest(idle);
  SetLendOnPollForTest(true);
}

LendOnPollForTest::~LendOnPollForTest() {
  SetLendOnPollForTest(false);
  lend_idle_ns.store(kLendIdleNs, std::memory_order_relaxed);
}

void StreamPipe::SetLent(bool lent) {
  if (lent_.load(std::memory_order_relaxed) == lent) return;
  lent_.store(lent);
  lent_pipes.fetch_add(lent ? 1 : -1, std::memory_order_release);
}

void StreamPipe::Polling(bool on) {
  if (on) {
    pollers_.fetch_add(1, std::memory_order_relaxed);
    unlend_asked_.store(false, std::memory_order_relaxed);
    if (lend_on_poll.load(std::memory_order_relaxed) &&
        !lent_.load(std::memory_order_relaxed)) {
      core_->context().Post([self = std::static_pointer_cast<StreamPipe>(
                                 shared_from_this())] { self->Lend(); });
    }
  } else {
    last_poll_ns_.store(SteadyNs(), std::memory_order_relaxed);
    pollers_.fetch_sub(1, std::memory_order_release);
  }
}

void StreamPipe::Lend() {
  if (lent_.load(std::memory_order_relaxed) || closing_ || !hello_done_) {
    return;
  }
  SetLent(true);
  // The receivers stopped polling since this lend was decided (Unlend, on
  // their side, may not have seen lent_ yet): the loop keeps reading.
  if (unlend_asked_.load()) {
    SetLent(false);
    return;
  }
  uv_read_stop(stream());
  ArmLendTimer();
}

void StreamPipe::ArmLendTimer() {
  uv_timer_start(
      &lend_timer_,
      [](uv_timer_t* t) { static_cast<StreamPipe*>(t->data)->OnLendTimer(); },
      kLendCheckMs, 0);
}

void StreamPipe::OnLendTimer() {
  if (!lent_.load(std::memory_order_relaxed) || closing_) return;
  if (pollers_.load(std::memory_order_acquire) > 0 ||
      SteadyNs() - last_poll_ns_.load(std::memory_order_relaxed) <
          lend_idle_ns.load(std::memory_order_relaxed)) {
    ArmLendTimer();
    return;
  }
  LockRead();
  // Paused: ResumeRecv reads again.
  if (!paused_) ReadAgain();
  UnlockRead();
}

void StreamPipe::ReadAgain() {
  if (closing_) return;
  if (lent_.load(std::memory_order_relaxed)) {
    SetLent(false);
    uv_timer_stop(&lend_timer_);
  }
  // Still reading when a receiver paused the pipe and no byte came since:
  // UV_EALREADY.
  int rc = StartReading();
  if (rc < 0 && rc != UV_EALREADY) CloseOnLoop(UvError(rc, "read"));
}

void StreamPipe::Unlend() {
  // Either this sees lent_, or a Lend on its way sees unlend_asked_
  // (both sequentially consistent: one of the two orders holds), so a lend
  // decided just before is undone too.
  unlend_asked_.store(true);
  if (lent_.load()) PostReadAgain();
}

void StreamPipe::PostReadAgain() {
  core_->context().Post(
      [self = std::static_pointer_cast<StreamPipe>(shared_from_this())] {
        self->LockRead();
        if (!self->paused_) self->ReadAgain();
        self->UnlockRead();
      });
}

bool StreamPipe::NoteRead(size_t n) {
  bool leave;
  if (n >= kBacklogBytes) {
    leave = true;
  } else if (inbox_next_ < inbox_.size()) {
    leave = inbox_.back().size() >= kLargeMessage;
  } else {
    return false;  // part of a message: as before
  }
  const bool was = leave_to_loop_.exchange(leave, std::memory_order_relaxed);
  return leave && !was;
}

void StreamPipe::NoteProgress() {
  if (progress_ms_ == 0 || closing_ || !decoder_.mid_message()) return;
  last_progress_ms_ = uv_now(timer_.loop);
  if (!progress_armed_) ArmProgressTimer(progress_ms_);
}

void StreamPipe::ArmProgressTimer(uint64_t ms) {
  progress_armed_ = true;
  uv_timer_start(
      &timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<StreamPipe*>(t->data);
        self->LockRead();
        self->OnProgressTimer();
        self->UnlockRead();
      },
      ms, 0);
}

void StreamPipe::OnProgressTimer() {
  progress_armed_ = false;
  // Not re-armed while no message is unfinished, nor while reading is paused
  // (the wait is ours then, not the peer's): the next read or ResumeRecv
  // arms it again.
  if (closing_ || paused_ || !decoder_.mid_message()) return;
  const uint64_t idle = uv_now(timer_.loop) - last_progress_ms_;
  if (idle < progress_ms_) {
    ArmProgressTimer(progress_ms_ - idle);
    return;
  }
  core_->CountReject(Reject::kStalled);
  CloseOnLoop(absl::DeadlineExceededError(
      absl::StrCat("peer sent nothing more of its unfinished message for ",
                   idle, " ms (recv-progress-timeout)")));
}

void StreamPipe::CountDecodeError(const absl::Status& s) {
  core_->CountReject(decoder_.over_budget() ? Reject::kUnfinishedLimit
                     : s.code() == absl::StatusCode::kResourceExhausted
                         ? Reject::kOversize
                         : Reject::kBadFrame);
}

void StreamPipe::DeliverInbox() {
  if (inbox_next_ >= inbox_.size() || closing_) return;
  heard_.store(true, std::memory_order_relaxed);
  if (!Pipe::DeliverInbox(*core_) && !paused_) {
    paused_ = true;  // the receive queue is full: let TCP push back on the peer
    uv_read_stop(stream());
  }
}

void StreamPipe::ResumeRecv() {
  core_->context().Post(
      [self = std::static_pointer_cast<StreamPipe>(shared_from_this())] {
        self->LockRead();
        if (!self->closing_ && self->paused_) {
          self->paused_ = false;
          self->DeliverInbox();
          if (!self->paused_ && !self->closing_) {
            self->ReadAgain();
            // The peer's clock of progress restarts now.
            uv_update_time(self->timer_.loop);
            self->NoteProgress();
          }
        }
        self->UnlockRead();
      });
}

ssize_t StreamPipe::RecvOnCaller() {
  std::unique_lock<std::mutex> lock(rd_mu_, std::try_to_lock);
  // Held: the loop is reading this pipe now and delivers what it reads.
  if (!lock.owns_lock()) return -1;
  // Messages the receive queue could not take yet come first.
  if (!rd_ok_ || paused_ || inbox_next_ < inbox_.size()) return -1;
  size_t len = 0;
  char* buf = decoder_.direct_buffer(&len);
  const bool direct = buf != nullptr && len >= kDirectReadMin;
  if (!direct) {
    if (!caller_buffer)
      caller_buffer = std::make_unique<char[]>(kReadBufferSize);
    buf = caller_buffer.get();
    len = kReadBufferSize;
  }
  ssize_t n;
  do {
    n = recv(fd_, buf, len, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
  if (n <= 0) {
    // The end of the stream or an error: the loop reads again (if it lent
    // the descriptor to receivers), meets it too and closes.
    lock.unlock();
    PostReadAgain();
    return -1;
  }
  heard_.store(true, std::memory_order_relaxed);
  absl::Status s;
  if (direct) {
    decoder_.CommitDirect(static_cast<size_t>(n), &inbox_);
  } else {
    s = decoder_.Feed(buf, static_cast<size_t>(n), &inbox_);
  }
  // Large messages or a backlog: the loop reads on (see leave_to_loop_).
  const bool hand_back = NoteRead(static_cast<size_t>(n));
  // Delivered now, in order with what the loop read before (rd_mu_).
  if (!Pipe::DeliverInbox(*core_)) paused_ = true;  // the loop stops reading
  if (!s.ok()) {
    rd_ok_ = false;
    CountDecodeError(s);
    lock.unlock();
    Close(s);
    return n;
  }
  if (hand_back || (decoder_.mid_message() && progress_ms_ != 0)) {
    // An unfinished message: the loop keeps its clock of progress.
    lock.unlock();
    core_->context().Post(
        [self = std::static_pointer_cast<StreamPipe>(shared_from_this()),
         hand_back] {
          self->LockRead();
          self->NoteProgress();
          if (hand_back && !self->paused_) self->ReadAgain();
          self->UnlockRead();
        });
  }
  return n;
}

}  // namespace msock::internal
