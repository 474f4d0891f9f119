// rep (SP reqrep, 0x31): receives requests, moving their backtrace (32-bit
// words up to and including the first one with bit 31 set) from the body into
// the header, and sends each reply with that backtrace in front, on the pipe
// the request came from.
#include <utility>

#include "msock/protocols/reqrep.h"

namespace msock {

Rep::Rep(Context& ctx) : Role(protocols::kRep, ctx) {
  socket_.SetRecvFilter([](Message& m, int ttl) {
    for (;;) {
      // A body that ends before the last backtrace word breaks the protocol
      // (NNG closes too).
      if (m.size() < 4) return RecvVerdict::kClosePipe;
      const uint32_t word = m.PopFrontWord();
      m.header().push_back(word);
      // Too many hops: drop silently, keep the pipe.
      if (m.header().size() > static_cast<size_t>(ttl))
        return RecvVerdict::kDrop;
      if (word & 0x80000000u) return RecvVerdict::kKeep;
    }
  });
}

absl::Status Rep::Reply(const Message& request, Message& reply,
                        absl::Time deadline) {
  HeaderWords saved = std::move(reply.header());
  reply.header() = request.header();
  absl::Status s = socket_.SendTo(request.source(), reply, deadline);
  if (!s.ok())
    reply.header() = std::move(saved);  // the caller keeps its message as given
  return s;
}

}  // namespace msock
