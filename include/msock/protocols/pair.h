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
//   b.Dial(url).IgnoreError();
//   b.Send("hi", absl::Now() + absl::Seconds(5)).IgnoreError();
//   absl::StatusOr<msock::Message> m = a.Recv(absl::Now() + absl::Seconds(5));
//   // "hi"
#ifndef MSOCK_PROTOCOLS_PAIR_H_
#define MSOCK_PROTOCOLS_PAIR_H_

#include "msock/protocols/recipes.h"
#include "msock/protocols/role.h"

namespace msock {

class PairRole : public internal::Role {
 public:
  absl::Status Send(Message& msg, absl::Time deadline);
  absl::Status Send(Message& msg) {
    return Send(msg, absl::Now() + Get(opt::kSendTimeout));
  }
  absl::Status Send(std::string_view body, absl::Time deadline) {
    Message m(body);
    return Send(m, deadline);
  }
  absl::Status TrySend(Message& msg) { return Send(msg, absl::InfinitePast()); }
  absl::StatusOr<Message> Recv(absl::Time deadline) {
    return socket_.Recv(deadline);
  }
  absl::StatusOr<Message> Recv() { return socket_.Recv(); }
  absl::StatusOr<Message> TryRecv() { return socket_.TryRecv(); }

 protected:
  PairRole(const SocketSpec& spec, Context& ctx, bool hop_count);

 private:
  bool hop_count_;
};

class Pair0 : public PairRole {
 public:
  explicit Pair0(Context& ctx = Context::Default())
      : PairRole(protocols::kPair0, ctx, false) {}
};

class Pair1 : public PairRole {
 public:
  explicit Pair1(Context& ctx = Context::Default())
      : PairRole(protocols::kPair1, ctx, true) {}
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_PAIR_H_
