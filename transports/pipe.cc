// The parts of the pipe lifecycle (transports/transport.h) that every
// transport shares: handing decoded messages to the host, and the last step of
// a close.
#include <utility>

#include "transports/transport.h"

namespace msock::internal {

std::unique_ptr<PipeHostState>& PipeHost::StateOf(Pipe& pipe) {
  return pipe.host_state_;
}

bool Pipe::DeliverInbox(PipeHost& host) {
  if (inbox_next_ >= inbox_.size()) return true;
  if (!host.Deliver(this, &inbox_, &inbox_next_)) return false;
  inbox_.clear();  // keeps its capacity for the next read
  inbox_next_ = 0;
  return true;
}

void Pipe::FinishClose(PipeHost& host, const absl::Status& why, bool tracked) {
  host.DetachPipe(this, why);
  inbox_.clear();
  inbox_next_ = 0;
  if (on_closed) {
    auto fn = std::move(on_closed);
    fn();
  }
  if (tracked) host.UntrackPipe(this);
}

}  // namespace msock::internal
