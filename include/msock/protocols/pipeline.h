// msock/protocols/pipeline.h: push / pull (SP pipeline, NNG push0/pull0,
// nanomsg NN_PUSH/NN_PULL).
//
// A Push hands each message to one connected Pull, round robin over the pulls
// that can take it; when none can (none connected, or all queues full) Send
// blocks until its deadline. A Pull receives fairly from every connected Push.
// Wire-compatible with NNG and nanomsg.
//
// Example:
//   msock::Pull pull;
//   std::string url = pull.Listen("tcp://127.0.0.1:0").value();
//   msock::Push push;
//   push.Dial(url).IgnoreError();
//   push.Send("job 1", absl::Now() + absl::Seconds(5)).IgnoreError();
//   absl::StatusOr<msock::Message> m = pull.Recv(absl::Now() +
//   absl::Seconds(5));
#ifndef MSOCK_PROTOCOLS_PIPELINE_H_
#define MSOCK_PROTOCOLS_PIPELINE_H_

#include "msock/protocols/recipes.h"
#include "msock/protocols/role.h"

namespace msock {

class Push : public internal::Role {
 public:
  explicit Push(Context& ctx = Context::Default())
      : Role(protocols::kPush, ctx) {}
  // See Socket::Send. On error the caller keeps `msg`.
  absl::Status Send(Message& msg, absl::Time deadline) {
    return socket_.Send(msg, deadline);
  }
  absl::Status Send(Message& msg) { return socket_.Send(msg); }
  absl::Status Send(std::string_view body, absl::Time deadline) {
    Message m(body);
    return socket_.Send(m, deadline);
  }
  absl::Status TrySend(Message& msg) { return socket_.TrySend(msg); }
};

class Pull : public internal::Role {
 public:
  explicit Pull(Context& ctx = Context::Default())
      : Role(protocols::kPull, ctx) {}
  absl::StatusOr<Message> Recv(absl::Time deadline) {
    return socket_.Recv(deadline);
  }
  absl::StatusOr<Message> Recv() { return socket_.Recv(); }
  absl::StatusOr<Message> TryRecv() { return socket_.TryRecv(); }
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_PIPELINE_H_
