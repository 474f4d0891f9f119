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
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//   absl::Status s = push.Dial(url);
//   if (s.ok()) s = push.Send("job 1", deadline);  // waits for a pull
//   absl::StatusOr<msock::Message> job = pull.Recv(deadline);  // "job 1"
//
// Surface: msock/protocols/role.h. Thread-safe.
#ifndef MSOCK_PROTOCOLS_PIPELINE_H_
#define MSOCK_PROTOCOLS_PIPELINE_H_

#include "msock/export.h"
#include "msock/protocols/recipes.h"
#include "msock/protocols/role.h"

namespace msock {

// Sends only. Send blocks while no pull can take the message (none
// connected, or every queue full), until its deadline.
class MSOCK_EXPORT Push : public internal::Role {
 public:
  explicit Push(Context& ctx = Context::Default())
      : Role(protocols::kPush, ctx) {}
  using Role::Send;
  using Role::TrySend;
};

// Receives only, fairly from every connected push.
class MSOCK_EXPORT Pull : public internal::Role {
 public:
  explicit Pull(Context& ctx = Context::Default())
      : Role(protocols::kPull, ctx) {}
  using Role::Recv;
  using Role::TryRecv;
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_PIPELINE_H_
