// pair0 and pair1: one peer at a time, both directions (NNG pair0/pair1,
// nanomsg NN_PAIR). pair1 puts a 32-bit hop count in front of every body: we
// send 1; on receipt a payload under 4 bytes or a count over 255 closes the
// pipe, a count over the TTL drops the message.
#include "msock/protocols/pair.h"

#include "socket/socket_access.h"

namespace msock {

PairRole::PairRole(const SocketSpec& spec, Context& ctx, bool hop_count)
    : Role(spec, ctx), hop_count_(hop_count) {
  if (!hop_count_) return;
  internal::SocketAccess::SetRecvFilter(socket_, [](Message& m, int ttl) {
    if (m.size() < 4) return internal::RecvVerdict::kClosePipe;
    uint32_t hops = m.PopFrontWord();
    if (hops > 255) return internal::RecvVerdict::kClosePipe;
    if (hops > static_cast<uint32_t>(ttl)) return internal::RecvVerdict::kDrop;
    return internal::RecvVerdict::kKeep;
  });
}

absl::Status PairRole::SendMessage(Message& msg, absl::Time deadline) {
  if (!hop_count_) return socket_.Send(msg, deadline);
  msg.header().insert(msg.header().begin(), 1);
  absl::Status s = socket_.Send(msg, deadline);
  // On error the caller keeps its message as given.
  if (!s.ok()) msg.header().erase(msg.header().begin());
  return s;
}

}  // namespace msock
