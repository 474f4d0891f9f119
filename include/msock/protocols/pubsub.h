// msock/protocols/pubsub.h: SP publish/subscribe (NNG pub0/sub0, nanomsg
// PUB/SUB).
//
// A Pub sends every message to every connected Sub; a Sub keeps the messages
// whose body starts with one of its subscribed prefixes (the empty prefix
// matches everything). Subscriptions never travel on the wire: the subscriber
// filters, as the SP protocol requires, so a Sub works with any SP publisher.
// A Sub with no subscription receives nothing.
//
// Each subscriber has its own bounded queue at the publisher. When it is full
// the publisher follows the kOverflow option (msock/options.h): drop the new
// message for that subscriber (default), drop its oldest queued message, or
// block Send until every subscriber has room (up to the send deadline). Every
// drop is counted per subscriber (Socket::pipe_stats) and in stats().dropped.
//
// Example:
//   msock::Pub pub;
//   std::string url = pub.Listen("tcp://127.0.0.1:0").value();
//   msock::Sub sub;
//   sub.Subscribe("news:");
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//   absl::Status s = sub.Dial(url);
//   // A message sent before the subscriber is connected reaches nobody.
//   if (s.ok()) s = pub.WaitForPeers(1, deadline);
//   if (s.ok()) s = pub.Send("news: hello", deadline);
//   absl::StatusOr<msock::Message> got = sub.Recv(deadline);  // "news: hello"
//
// Surface: msock/protocols/role.h. Thread-safe.
#ifndef MSOCK_PROTOCOLS_PUBSUB_H_
#define MSOCK_PROTOCOLS_PUBSUB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "msock/export.h"
#include "msock/protocols/role.h"

namespace msock {

namespace protocols {

inline constexpr SocketSpec kPub{
    "pub", 0x20, 0x21, "sub", 0, SendMode::kToAll, RecvMode::kNone};
inline constexpr SocketSpec kSub{"sub",           0x21,          0x20, "pub", 0,
                                 SendMode::kNone, RecvMode::kAll};

}  // namespace protocols

// The publishing side: send only.
class MSOCK_EXPORT Pub : public internal::Role {
 public:
  explicit Pub(Context& ctx = Context::Default())
      : Role(protocols::kPub, ctx) {}

  // Send queues the message for every connected subscriber (one shared
  // body). With no subscriber connected the message goes nowhere and Send
  // succeeds, as in every SP implementation. With kOverflow = kBlock, waits
  // for room until the deadline (kDeadlineExceeded; the caller keeps msg).
  // Other errors as Socket::Send. pipe_stats() gives each subscriber's queue
  // length and drop count.
  using Role::Send;
  using Role::TrySend;
};

// The subscribing side: receive only, filtered by prefix.
class MSOCK_EXPORT Sub : public internal::Role {
 public:
  explicit Sub(Context& ctx = Context::Default());
  ~Sub();

  // Adds a prefix; "" subscribes to everything. Subscribing twice to the same
  // prefix is harmless (it stays subscribed until one Unsubscribe).
  void Subscribe(std::string_view prefix);
  // Removes a prefix. kNotFound if it was not subscribed. Messages already
  // queued are still delivered.
  [[nodiscard]] absl::Status Unsubscribe(std::string_view prefix);
  std::vector<std::string> subscriptions() const;
  // Messages discarded because no subscription matched.
  uint64_t filtered_out() const;

  // Recv gives the next message matching a subscription. Messages matching
  // none are discarded on arrival, counted by filtered_out() (not in
  // stats().dropped, which counts losses). Same errors as Socket::Recv.
  using Role::Recv;
  using Role::TryRecv;

 private:
  struct Topics;
  std::shared_ptr<Topics> topics_;  // shared with the receive filter
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_PUBSUB_H_
