// The SP backtrace: parsing it on receipt and echoing it on reply; the raw
// sockets' header filters.
#include "protocols/backtrace.h"

#include <utility>

namespace msock::internal {

RecvVerdict TakeBacktrace(Message& m, int ttl) {
  for (;;) {
    if (m.size() < 4) return RecvVerdict::kClosePipe;
    const uint32_t word = m.PopFrontWord();
    m.header().push_back(word);
    if (m.header().size() > static_cast<size_t>(ttl)) return RecvVerdict::kDrop;
    if (word & kLastWord) return RecvVerdict::kKeep;
  }
}

RecvVerdict PushHop(Message& m, int ttl) {
  if (m.source().empty()) return RecvVerdict::kDrop;  // not from a pipe
  m.header().push_back(m.source().back());
  return TakeBacktrace(m, ttl);
}

RecvVerdict TakeHop(Message& m, int /*ttl*/) {
  if (m.size() < 4) return RecvVerdict::kClosePipe;
  m.header().push_back(m.PopFrontWord());
  return RecvVerdict::kKeep;
}

RecvVerdict CountHop(Message& m, int ttl) {
  if (m.size() < 4) return RecvVerdict::kClosePipe;
  const uint32_t hops = m.PopFrontWord();
  if (hops > 255) return RecvVerdict::kClosePipe;
  if (hops + 1 > static_cast<uint32_t>(ttl)) return RecvVerdict::kDrop;
  m.header().push_back(hops + 1);
  return RecvVerdict::kKeep;
}

absl::Status SendReply(Socket& socket, const Message& request, Message& reply,
                       absl::Time deadline) {
  HeaderWords saved = std::move(reply.header());
  reply.header() = request.header();
  absl::Status s = socket.SendTo(request.source(), reply, deadline);
  if (!s.ok()) reply.header() = std::move(saved);
  return s;
}

}  // namespace msock::internal
