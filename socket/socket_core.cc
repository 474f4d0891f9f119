// SocketCore: options, statistics, Listen / Dial through the Connector, and
// Close. The pipe table, the Sender and the Receiver are in pipe_table.cc,
// sender.cc and receiver.cc; the lock order is in socket_core.h.
#include "socket/socket_core.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace msock::internal {

SocketCore::SocketCore(const SocketSpec& spec, Context& ctx)
    : spec_(spec), ctx_(ctx), connector_(this) {
  absl::BitGen gen;
  MutexLock lock(mu_);
  next_pipe_id_ = absl::Uniform<uint32_t>(gen, 1, 0x7fffffff);
}

SocketCore::~SocketCore() = default;

SocketOptions SocketCore::options() const {
  MutexLock lock(mu_);
  return opts_;
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

absl::Status SocketCore::SetOption(int id, absl::Duration d) {
  MutexLock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  if (d < absl::ZeroDuration())
    return absl::InvalidArgumentError("negative duration");
  switch (id) {
    case opt::kSendTimeout.id:
      opts_.send_timeout = d;
      break;
    case opt::kRecvTimeout.id:
      opts_.recv_timeout = d;
      break;
    case opt::kReconnectMin.id:
      if (d == absl::ZeroDuration())
        return absl::InvalidArgumentError("reconnect-min must be > 0");
      opts_.reconnect_min = d;
      break;
    case opt::kReconnectMax.id:
      opts_.reconnect_max = d;
      break;
    case opt::kHandshakeTimeout.id:
      if (d == absl::ZeroDuration()) {
        return absl::InvalidArgumentError("handshake-timeout must be > 0");
      }
      opts_.handshake_timeout = d;
      break;
    case opt::kLinger.id:
      opts_.linger = d;
      break;
    case opt::kRecvSpin.id:
      opts_.recv_spin = d;
      break;
    case opt::kWsPingInterval.id:
      opts_.ws_ping_interval = d;
      break;
    default:
      return absl::InvalidArgumentError("unknown duration option");
  }
  return absl::OkStatus();
}

absl::Status SocketCore::SetOption(int id, size_t v) {
  MutexLock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  if (v == 0 && id != opt::kMaxRecvSize.id) {
    return absl::InvalidArgumentError("queue limits must be at least 1");
  }
  switch (id) {
    case opt::kSendQueueMessages.id:
      opts_.send_queue_messages = v;
      break;
    case opt::kSendQueueBytes.id:
      opts_.send_queue_bytes = v;
      break;
    case opt::kRecvQueueMessages.id:
      opts_.recv_queue_messages = v;
      break;
    case opt::kRecvQueueBytes.id:
      opts_.recv_queue_bytes = v;
      break;
    case opt::kMaxRecvSize.id:
      opts_.max_recv_size = v;
      break;
    default:
      return absl::InvalidArgumentError("unknown size option");
  }
  return absl::OkStatus();
}

absl::Status SocketCore::SetOption(int id, int v) {
  MutexLock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  if (id == opt::kWsText.id || id == opt::kTlsVerifyPeer.id) {
    if (v != 0 && v != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(id == opt::kWsText.id ? "ws-text" : "tls-verify-peer",
                       " must be 0 or 1"));
    }
    (id == opt::kWsText.id ? opts_.ws_text : opts_.tls_verify_peer) = v;
    return absl::OkStatus();
  }
  if (id != opt::kTtl.id)
    return absl::InvalidArgumentError("unknown int option");
  if (v < 1 || v > 15)
    return absl::InvalidArgumentError("ttl must be in 1..15");
  opts_.ttl = v;
  return absl::OkStatus();
}

absl::Status SocketCore::SetOption(int id, std::string v) {
  MutexLock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  switch (id) {
    case opt::kTlsCert.id:
      opts_.tls_cert = std::move(v);
      break;
    case opt::kTlsKey.id:
      opts_.tls_key = std::move(v);
      break;
    case opt::kTlsCa.id:
      opts_.tls_ca = std::move(v);
      break;
    case opt::kTlsServerName.id:
      opts_.tls_server_name = std::move(v);
      break;
    default:
      return absl::InvalidArgumentError("unknown string option");
  }
  return absl::OkStatus();
}

absl::Status SocketCore::SetOverflow(Overflow v) {
  MutexLock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  if (v != Overflow::kDropNewest && v != Overflow::kDropOldest &&
      v != Overflow::kBlock) {
    return absl::InvalidArgumentError("unknown overflow policy");
  }
  opts_.overflow = v;
  // Senders blocked under kBlock re-check with the new policy.
  if (send_waiters_ > 0) send_cv_.notify_all();
  return absl::OkStatus();
}

SocketStats SocketCore::stats() const {
  SocketStats s;
  s.messages_in = stats_.messages_in;
  s.bytes_in = stats_.bytes_in;
  s.messages_out = stats_.messages_out;
  s.bytes_out = stats_.bytes_out;
  s.pipes_opened = stats_.pipes_opened;
  s.pipes_closed = stats_.pipes_closed;
  s.rejected_protocol = stats_.rejected_protocol;
  s.rejected_bad_frame = stats_.rejected_bad_frame;
  s.rejected_oversize = stats_.rejected_oversize;
  s.rejected_handshake_timeout = stats_.rejected_handshake_timeout;
  s.rejected_pipe_limit = stats_.rejected_pipe_limit;
  s.dropped = stats_.dropped;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Connector and close

absl::StatusOr<std::string> SocketCore::Listen(std::string_view url) {
  if (closed())
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket: closed"));
  return connector_.Listen(url);
}

absl::Status SocketCore::Dial(std::string_view url) {
  if (closed())
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket: closed"));
  return connector_.Dial(url);
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
    recv_cv_.notify_all();
    peers_cv_.notify_all();
    stats_.dropped += orphans_.size() + recvq_.size();
    orphans_.clear();
    recvq_.clear();
    recvq_bytes_ = 0;
  }
  {
    MutexLock local(recv_mu_);
    stats_.dropped += recv_local_.size() - local_next_;
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
