// SocketCore: options, statistics, Listen / Dial through the Connector, and
// Close. The pipe table, the Sender and the Receiver are in pipe_table.cc,
// sender.cc and receiver.cc; the lock order is in socket_core.h.
#include "socket/socket_core.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "base/context_access.h"

namespace msock::internal {

SocketCore::SocketCore(const SocketSpec& spec, Context& ctx)
    : spec_(spec),
      ctx_(internal::ContextAccess::ForSocket(ctx)),
      connector_(this) {
  absl::BitGen gen;
  MutexLock lock(mu_);
  next_pipe_id_ = absl::Uniform<uint32_t>(gen, 1, 0x7fffffff);
  budget_.set_limit(opts_.max_unfinished_bytes);
  opts_.recv_on_caller = RecvOnCallerDefault();
  MutexLock read_lock(opts_mu_);
  opts_read_ = opts_;
}

SocketCore::~SocketCore() {
  if (wake_fd_ >= 0) close(wake_fd_);
}

SocketOptions SocketCore::options() const {
  MutexLock lock(opts_mu_);
  return opts_read_;
}

bool SocketCore::closed() const {
  MutexLock lock(mu_);
  return closed_;
}

absl::Status SocketCore::ClosedError() const {
  return absl::FailedPreconditionError(
      absl::StrCat(spec_.name, " socket: closed"));
}

absl::Status SocketCore::WaitOn(MutexLock& lock, std::condition_variable* cv,
                                int* waiters, absl::Time deadline, bool* waited,
                                const char* what) {
  if (deadline <= absl::Now()) {
    if (*waited) {
      return absl::DeadlineExceededError(
          absl::StrCat(spec_.name, " socket: deadline passed: ", what));
    }
    return absl::UnavailableError(
        absl::StrCat(spec_.name, " socket: ", what, " (would block)"));
  }
  *waited = true;
  ++*waiters;
  bool timed_out = WaitUntil(*cv, lock, deadline);
  --*waiters;
  if (closed_)
    return absl::CancelledError(absl::StrCat(spec_.name, " socket: closed"));
  if (timed_out && deadline <= absl::Now()) {
    return absl::DeadlineExceededError(
        absl::StrCat(spec_.name, " socket: deadline passed: ", what));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Options and statistics

template <typename T>
absl::Status SocketCore::SetOption(const OptionKey<T>& key, T value) {
  MutexLock lock(mu_);
  if (closed_) return ClosedError();
  if (key.field == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown option ", key.name ? key.name : "(unnamed)"));
  }
  if (key.check != nullptr) {
    if (const char* why = key.check(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("option ", key.name, " ", why));
    }
  }
  opts_.*key.field = std::move(value);
  {
    MutexLock read_lock(opts_mu_);
    opts_read_.*key.field = opts_.*key.field;
  }
  budget_.set_limit(opts_.max_unfinished_bytes);
  // Senders blocked under kBlock re-check with the new policy and limits.
  if (send_waiters_ > 0) send_cv_.notify_all();
  return absl::OkStatus();
}

template <typename T>
T SocketCore::GetOption(const OptionKey<T>& key) const {
  MutexLock lock(opts_mu_);
  return key.field == nullptr ? T{} : opts_read_.*key.field;
}

#define MSOCK_OPTION_TYPE(T)                                           \
  template absl::Status SocketCore::SetOption(const OptionKey<T>&, T); \
  template T SocketCore::GetOption(const OptionKey<T>&) const;
MSOCK_FOR_EACH_OPTION_TYPE(MSOCK_OPTION_TYPE)
#undef MSOCK_OPTION_TYPE

SocketStats SocketCore::stats() const {
  // In the order of Stat.
  static constexpr uint64_t SocketStats::*kFields[kStatCount] = {
      &SocketStats::messages_in,
      &SocketStats::bytes_in,
      &SocketStats::messages_out,
      &SocketStats::bytes_out,
      &SocketStats::pipes_opened,
      &SocketStats::pipes_closed,
      &SocketStats::rejected_protocol,
      &SocketStats::rejected_bad_frame,
      &SocketStats::rejected_oversize,
      &SocketStats::rejected_handshake_timeout,
      &SocketStats::rejected_pipe_limit,
      &SocketStats::rejected_unfinished_limit,
      &SocketStats::rejected_stalled,
      &SocketStats::ws_pongs_dropped,
      &SocketStats::rejected_http,
      &SocketStats::rejected_admission,
      &SocketStats::dropped,
      &SocketStats::reads_on_caller,
  };
  SocketStats out;
  for (int i = 0; i < kStatCount; ++i) {
    out.*kFields[i] = stats_.Get(static_cast<Stat>(i));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Connector and close

absl::StatusOr<std::string> SocketCore::Listen(std::string_view url) {
  if (closed())
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket: closed"));
  return connector_.Listen(url);
}

absl::StatusOr<uint64_t> SocketCore::Dial(std::string_view url) {
  if (closed())
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket: closed"));
  return connector_.Dial(url);
}

absl::Status SocketCore::StopDial(uint64_t id) {
  if (closed()) return ClosedError();
  return connector_.StopDial(id);
}

bool SocketCore::Drained() {
  if (!orphans_.empty()) return false;
  for (const auto& [id, p] : pipes_) {
    if (!Known(*p).sendq.empty() || Known(*p).wake_pending) return false;
  }
  return true;
}

void SocketCore::Close() {
  const bool on_loop = ctx_.IsLoopThread();
  {
    MutexLock lock(mu_);
    if (closed_) return;
    // Linger: give queued messages time to reach the wire (dialers keep working
    // meanwhile).
    absl::Time linger_end = absl::Now() + opts_.linger;
    while (!on_loop && !Drained() && absl::Now() < linger_end) {
      ++drain_waiters_;
      WaitUntil(drain_cv_, lock, linger_end);
      --drain_waiters_;
    }
    closed_ = true;
    send_cv_.notify_all();
    NotifyRecv(/*all=*/true);
    peers_cv_.notify_all();
    stats_.Add(kDropped, orphans_.size() + recvq_.size());
    orphans_.clear();
    recvq_.clear();
    recvq_bytes_ = 0;
  }
  {
    MutexLock local(recv_mu_);
    stats_.Add(kDropped, recv_local_.size() - local_next_);
    recv_local_.clear();
    local_next_ = 0;
    local_avail_.store(false, std::memory_order_relaxed);
  }
  // No pipe event after Close returns: stop them now and wait out one being
  // delivered.
  StopEvents(/*wait=*/!on_loop);
  connector_.Shutdown();
  // Close every pipe, attached or still connecting / handshaking, and wait for
  // them to end. A pipe created meanwhile (an accept already under way) is
  // closed on the next round.
  absl::Time limit = absl::Now() + absl::Seconds(10);
  for (;;) {
    std::vector<std::shared_ptr<Pipe>> pipes;
    {
      MutexLock lock(mu_);
      if ((pipes_.empty() && live_.empty()) || absl::Now() >= limit) return;
      for (auto& [id, p] : pipes_) pipes.push_back(p);
      for (auto& [raw, weak] : live_) {
        if (auto p = weak.lock()) pipes.push_back(std::move(p));
      }
    }
    for (auto& p : pipes) p->Close(absl::CancelledError("socket closed"));
    pipes.clear();
    if (on_loop) return;  // the loop must run for the pipes to finish closing
    MutexLock lock(mu_);
    WaitUntil(peers_cv_, lock,
              std::min(limit, absl::Now() + absl::Milliseconds(100)));
  }
}

}  // namespace msock::internal
