// msock/protocols/bus.h: SP bus (NNG bus0, nanomsg BUS).
//
// Every message a Bus sends goes to each directly connected peer; what a Bus
// receives is never sent on, so a message travels one hop and cannot loop. To
// reach every node, connect them in a full mesh, or put a bus device
// (msock/protocols/device.h) in the middle.
//
// Example:
//   msock::Bus a, b, c;
//   std::string url = a.Listen("tcp://127.0.0.1:0").value();
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//   absl::Status s = b.Dial(url);
//   if (s.ok()) s = c.Dial(url);
//   if (s.ok()) s = a.WaitForPeers(2, deadline);
//   if (s.ok()) s = a.Send("hello all", deadline);  // b and c get it
//   absl::StatusOr<msock::Message> got = b.Recv(deadline);
//
// Surface: msock/protocols/role.h (both Send and Recv). Thread-safe.
#ifndef MSOCK_PROTOCOLS_BUS_H_
#define MSOCK_PROTOCOLS_BUS_H_

#include <vector>

#include "msock/export.h"
#include "msock/protocols/role.h"

namespace msock {

namespace protocols {

inline constexpr SocketSpec kBus{
    "bus", 0x70, 0x70, "bus", 0, SendMode::kToAll, RecvMode::kAll};

}  // namespace protocols

class MSOCK_EXPORT Bus : public internal::Role {
 public:
  explicit Bus(Context& ctx = Context::Default())
      : Role(protocols::kBus, ctx) {}

  // Send queues the message for every connected peer; a full peer is handled
  // per the kOverflow option (default: it misses the message, counted).
  // Errors as Socket::Send.
  using Role::Send;
  using Role::TrySend;
  // Recv gives the next message from any peer; source() names the pipe it
  // came from.
  using Role::Recv;
  using Role::TryRecv;
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_BUS_H_
