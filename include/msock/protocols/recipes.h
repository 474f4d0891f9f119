// msock/protocols/recipes.h: the SocketSpec of the pair and pipeline roles
// (SP protocol ids and routing); the other roles' specs sit in their headers
// (protocols::kPub in pubsub.h, kReq in reqrep.h, ...).
//
// SP protocol ids are (protocol number << 4) | role, as NNG and nanomsg put
// them in the connection header. A Socket made from one of these talks to the
// real peers of that role:
//
// Example:
//   msock::Socket s(msock::protocols::kPull);  // accepts only push (0x50)
//   static_assert(msock::protocols::kPull.peer_id == 0x50);
#ifndef MSOCK_PROTOCOLS_RECIPES_H_
#define MSOCK_PROTOCOLS_RECIPES_H_

#include "msock/socket.h"

namespace msock::protocols {

inline constexpr SocketSpec kPair0{
    "pair0", 0x10, 0x10, "pair0", 1, SendMode::kToOne, RecvMode::kAll};
inline constexpr SocketSpec kPair1{
    "pair1", 0x11, 0x11, "pair1", 1, SendMode::kToOne, RecvMode::kAll};
inline constexpr SocketSpec kPush{
    "push", 0x50, 0x51, "pull", 0, SendMode::kToOne, RecvMode::kNone};
inline constexpr SocketSpec kPull{
    "pull", 0x51, 0x50, "push", 0, SendMode::kNone, RecvMode::kAll};

}  // namespace msock::protocols

#endif  // MSOCK_PROTOCOLS_RECIPES_H_
