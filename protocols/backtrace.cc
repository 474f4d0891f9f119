// The SP backtrace: parsing it on receipt and echoing it on reply.
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

absl::Status SendReply(Socket& socket, const Message& request, Message& reply,
                       absl::Time deadline) {
  HeaderWords saved = std::move(reply.header());
  reply.header() = request.header();
  absl::Status s = socket.SendTo(request.source(), reply, deadline);
  if (!s.ok()) reply.header() = std::move(saved);
  return s;
}

}  // namespace msock::internal
