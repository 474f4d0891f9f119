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
//   b.Dial(url).IgnoreError();
//   c.Dial(url).IgnoreError();
//   a.WaitForPeers(2, absl::Now() + absl::Seconds(5)).IgnoreError();
//   msock::Message m("hello all");
//   a.Send(m, absl::Now() + absl::Seconds(1)).IgnoreError();  // b and c get it
#ifndef MSOCK_PROTOCOLS_BUS_H_
#define MSOCK_PROTOCOLS_BUS_H_

#include <vector>

#include "msock/protocols/role.h"

namespace msock {

namespace protocols {

inline constexpr SocketSpec kBus{
    "bus", 0x70, 0x70, "bus", 0, SendMode::kToAll, RecvMode::kAll};

}  // namespace protocols

class Bus : public internal::Role {
 public:
  explicit Bus(Context& ctx = Context::Default())
      : Role(protocols::kBus, ctx) {}

  // Queues `msg` for every connected peer; a full peer is handled per the
  // kOverflow option (default: it misses the message, counted). Errors as
  // Socket::Send.
  absl::Status Send(Message& msg, absl::Time deadline) {
    return socket_.Send(msg, deadline);
  }
  absl::Status Send(Message& msg) { return socket_.Send(msg); }
  absl::Status TrySend(Message& msg) { return socket_.TrySend(msg); }

  // The next message from any peer; source() names the pipe it came from.
  absl::StatusOr<Message> Recv(absl::Time deadline) {
    return socket_.Recv(deadline);
  }
  absl::StatusOr<Message> Recv() { return socket_.Recv(); }
  absl::StatusOr<Message> TryRecv() { return socket_.TryRecv(); }

  std::vector<PipeStats> pipe_stats() const { return socket_.pipe_stats(); }
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_BUS_H_
