// msock/protocols/pair.h: pair0 and pair1 (SP pair, one peer at a time, both
// directions).
//
// Pair0 speaks NNG pair0 / nanomsg NN_PAIR: bare bodies. Pair1 speaks NNG
// pair1: every message carries a 32-bit hop count in front of the body (we send
// 1); a message with a count above the kTtl option is dropped, a payload
// shorter than 4 bytes or a count over 255 closes the pipe. A second peer is
// refused while one is connected (counted in stats().rejected_pipe_limit).
//
// Example:
//   msock::Pair1 a, b;
//   std::string url = a.Listen("ipc:///tmp/pair.sock").value();
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//   absl::Status s = b.Dial(url);
//   if (s.ok()) s = b.Send("hi", deadline);
//   absl::StatusOr<msock::Message> m = a.Recv(deadline);  // "hi"
//
// Surface: msock/protocols/role.h (both Send and Recv). Thread-safe.
#ifndef MSOCK_PROTOCOLS_PAIR_H_
#define MSOCK_PROTOCOLS_PAIR_H_

#include "msock/export.h"
#include "msock/protocols/recipes.h"
#include "msock/protocols/role.h"

namespace msock {

// What Pair0 and Pair1 share: Send and Recv to and from the one peer.
class MSOCK_EXPORT PairRole : public internal::Role {
 public:
  using Role::Recv;
  using Role::Send;
  using Role::TryRecv;
  using Role::TrySend;

 protected:
  PairRole(const SocketSpec& spec, Context& ctx, bool hop_count);
  // pair1: puts the hop count in front of msg's header words.
  absl::Status SendMessage(Message& msg, absl::Time deadline) override;

 private:
  bool hop_count_;
};

class MSOCK_EXPORT Pair0 : public PairRole {
 public:
  explicit Pair0(Context& ctx = Context::Default())
      : PairRole(protocols::kPair0, ctx, false) {}
};

class MSOCK_EXPORT Pair1 : public PairRole {
 public:
  explicit Pair1(Context& ctx = Context::Default())
      : PairRole(protocols::kPair1, ctx, true) {}
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_PAIR_H_
