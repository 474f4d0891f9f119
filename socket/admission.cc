// SocketCore's admission: the user's hook (msock/peer.h) that sees each peer
// between the transport's handshake and the attach, and may refuse it; and
// PeerOf, what it saw, for later (a hub's connect hook, a server checking who
// sent a message).
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "socket/socket_core.h"

namespace msock::internal {

namespace {

// "tcp" of "tcp://127.0.0.1:5555"; "" if there is no scheme.
std::string SchemeOf(const std::string& url) {
  const size_t colon = url.find("://");
  return colon == std::string::npos ? "" : url.substr(0, colon);
}

absl::Status RunHook(const AdmissionHook& hook, const PeerInfo& peer) {
  try {
    return hook(peer);
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("admission hook threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("admission hook threw: unknown exception");
  }
}

}  // namespace

void SocketCore::SetAdmission(AdmissionHook hook) {
  MutexLock lock(hooks_mu_);
  admission_ =
      hook ? std::make_shared<const AdmissionHook>(std::move(hook)) : nullptr;
}

absl::Status SocketCore::Admit(Pipe& pipe) {
  {
    MutexLock lock(mu_);
    if (State(pipe).admitted) return absl::OkStatus();
  }
  PeerInfo& peer = pipe.peer;
  peer.transport = SchemeOf(pipe.local_address);
  if (peer.transport.empty()) peer.transport = SchemeOf(pipe.remote_address);
  peer.local_address = pipe.local_address;
  peer.remote_address = pipe.remote_address;
  std::shared_ptr<const AdmissionHook> hook;
  {
    MutexLock lock(hooks_mu_);
    hook = admission_;
    if (hook) ++emitting_;  // Close waits for it (StopEvents)
  }
  absl::Status verdict = hook ? RunHook(*hook, peer) : absl::OkStatus();
  if (hook) {
    MutexLock lock(hooks_mu_);
    if (--emitting_ == 0) hooks_cv_.notify_all();
  }
  if (verdict.ok()) {
    MutexLock lock(mu_);
    State(pipe).admitted = true;
    return verdict;
  }
  stats_.Add(kRejectedAdmission);
  EmitUserEvent(PipeEvent{PipeEventType::kRefused, 0, pipe.local_address,
                          pipe.remote_address, verdict});
  return verdict;
}

absl::StatusOr<PeerInfo> SocketCore::PeerOf(uint32_t pipe_id) const {
  MutexLock lock(mu_);
  auto it = pipes_.find(pipe_id);
  if (it == pipes_.end()) {
    return absl::NotFoundError(
        absl::StrCat(spec_.name, " socket: no pipe ", pipe_id));
  }
  return it->second->peer;
}

void SocketCore::EmitUserEvent(const PipeEvent& ev) {
  std::shared_ptr<const std::function<void(const PipeEvent&)>> fn;
  {
    MutexLock lock(hooks_mu_);
    if (!event_fn_) return;
    fn = event_fn_;
    ++emitting_;
  }
  (*fn)(ev);
  MutexLock lock(hooks_mu_);
  if (--emitting_ == 0) hooks_cv_.notify_all();
}

}  // namespace msock::internal
