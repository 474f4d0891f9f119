// msock/protocols/device.h: raw sockets and Device, for brokers, forwarders
// and proxies.
//
// A raw socket speaks a protocol's wire format but keeps no per-request state:
// it passes header words through so that messages can be forwarded. What each
// raw role does:
//   - raw rep / respondent: on receipt, moves the backtrace into header() and
//     puts the id of the pipe the message came on in front (one word per hop;
//     more than kTtl words: dropped, counted); Send takes the first header word
//     as the pipe to send on.
//   - raw req / surveyor: send header words as given (req: to one peer,
//     surveyor: to all); on receipt, the first word of the payload (the hop a
//     device added) moves to header().
//   - raw sub: receives everything (no prefix filter); raw pub, push, pull,
//     bus and pair0: as cooked.
//   - raw pair1: the hop count moves to header(), plus one (over kTtl:
//     dropped).
//
// Device(a, b) forwards everything a receives to b and everything b receives
// to a, until one of them is closed. The two must be the two ends of one
// protocol: a faces one kind of peer, b the other:
//   - req/rep broker:    a = RawSocket(kRep)  (clients dial it),
//                        b = RawSocket(kReq)  (workers dial it);
//   - pub/sub forwarder: a = RawSocket(kSub) (dials publishers),
//                        b = RawSocket(kPub) (subscribers dial it);
//   - survey:            a = RawSocket(kRespondent), b = RawSocket(kSurveyor);
//   - push/pull streamer: a = RawSocket(kPull), b = RawSocket(kPush);
//   - bus / pair: a and b of the same protocol; or Device(a, a) for one bus
//     socket that forwards what each peer sends to every other peer.
//
// Example (a broker between clients and a pool of workers):
//   msock::Socket front = msock::RawSocket(msock::protocols::kRep);
//   msock::Socket back = msock::RawSocket(msock::protocols::kReq);
//   front.Listen("tcp://127.0.0.1:5555").IgnoreError();
//   back.Listen("tcp://127.0.0.1:5556").IgnoreError();
//   std::thread dev([&] { msock::Device(front, back).IgnoreError(); });
//   // ... Req clients dial 5555, Rep workers dial 5556 ...
//   front.Close();  // Device returns
//   dev.join();
#ifndef MSOCK_PROTOCOLS_DEVICE_H_
#define MSOCK_PROTOCOLS_DEVICE_H_

#include "absl/status/status.h"
#include "msock/export.h"
#include "msock/socket.h"

namespace msock {

// A raw socket of the role `cooked` describes (one of the specs in
// msock/protocols/*.h, e.g. protocols::kRep). Aborts on a spec not known.
MSOCK_EXPORT Socket RawSocket(const SocketSpec& cooked,
                              Context& ctx = Context::Default());

// Forwards between a and b in both directions (one direction for
// push/pull and pub/sub) until either socket is closed, then returns OK.
// kInvalidArgument if a and b are not the two ends of one protocol. Messages
// that cannot be forwarded (the far side closed) are counted in the receiving
// socket's stats().dropped. Blocks: run it on a thread of its own.
[[nodiscard]] MSOCK_EXPORT absl::Status Device(Socket& a, Socket& b);

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_DEVICE_H_
