// Raw sockets (msock/protocols/device.h): each protocol's wire format without
// per-request state, so that devices can forward messages and their headers.
// A raw socket is a Socket with the cooked role's protocol ids, a routing mode
// and a receive filter that moves the protocol's header words into header().
#include <cstdlib>
#include <iostream>

#include "msock/protocols/bus.h"
#include "msock/protocols/device.h"
#include "msock/protocols/pair.h"
#include "msock/protocols/pipeline.h"
#include "msock/protocols/pubsub.h"
#include "msock/protocols/recipes.h"
#include "msock/protocols/reqrep.h"
#include "msock/protocols/survey.h"
#include "protocols/backtrace.h"
#include "socket/socket_access.h"

namespace msock {

namespace {

bool Is(const SocketSpec& a, const SocketSpec& b) {
  return a.self_id == b.self_id && a.peer_id == b.peer_id;
}

}  // namespace

Socket RawSocket(const SocketSpec& cooked, Context& ctx) {
  SocketSpec spec = cooked;
  internal::RecvFilter filter;
  if (Is(cooked, protocols::kRep) || Is(cooked, protocols::kRespondent)) {
    spec.send = SendMode::kByHeader;
    filter = internal::PushHop;
  } else if (Is(cooked, protocols::kReq) || Is(cooked, protocols::kSurveyor)) {
    filter = internal::TakeHop;
    // A raw req (a device) does not re-send: a request stranded on a dead
    // pipe goes to another rep, as a push's message would.
    spec.requeue_on_pipe_close = true;
  } else if (Is(cooked, protocols::kPair1)) {
    filter = internal::CountHop;
  } else if (!Is(cooked, protocols::kPub) && !Is(cooked, protocols::kSub) &&
             !Is(cooked, protocols::kPush) && !Is(cooked, protocols::kPull) &&
             !Is(cooked, protocols::kBus) && !Is(cooked, protocols::kPair0)) {
    std::cerr << "msock::RawSocket: unknown protocol spec \"" << cooked.name
              << "\"\n";
    std::abort();
  }
  Socket s(spec, ctx);
  if (filter) internal::SocketAccess::SetRecvFilter(s, std::move(filter));
  return s;
}

}  // namespace msock
