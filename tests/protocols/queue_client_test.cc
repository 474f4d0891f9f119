// QueueClient against a scripted hub (a plain Hub answering the "_q/..."
// requests itself): orderings a real QueueServer produces only rarely, made
// to happen every time.
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "msock/protocols/queue.h"
#include "protocols/proto/queue.pb.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
namespace qpb = ::msock::queue;

std::string Deliver(uint64_t id, const std::string& body) {
  qpb::Deliver d;
  d.set_id(id);
  d.set_body(body);
  d.set_attempt(1);
  return d.SerializeAsString();
}

// A server whose new session read an entry before the ack of it committed
// (after a restart, a client acks what it was given before) sends it again
// ahead of the ack's answer. The client must not hand it out once acked.
TEST(QueueClientScripted, ADeliveryOvertakenByItsAckIsNotReceivedAgain) {
  Hub hub;
  hub.On("_q/login", [&](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    EXPECT_TRUE(hub.Send(ev.client, "_q/deliver", Deliver(7, "seven")).ok());
    return qpb::LoggedIn().SerializeAsString();
  });
  hub.On("_q/ack", [&](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    qpb::Ack ack;
    EXPECT_TRUE(ack.ParseFromString(ev.payload));
    if (ack.ids_size() == 1 && ack.ids(0) == 7) {
      // Sent before the answer on the same connection: they arrive first.
      EXPECT_TRUE(hub.Send(ev.client, "_q/deliver", Deliver(7, "seven")).ok());
      EXPECT_TRUE(hub.Send(ev.client, "_q/deliver", Deliver(8, "eight")).ok());
    }
    qpb::Acked out;
    out.set_removed(1);
    return out.SerializeAsString();
  });
  absl::StatusOr<std::string> url = hub.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();

  QueueClient c;
  ASSERT_TRUE(c.Connect(*url, Deadline(10)).ok());
  ASSERT_TRUE(c.Login("u", "n", "secret", Deadline(10)).ok());
  absl::StatusOr<QueueMessage> first = c.Receive(Deadline(10));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->id, 7u);
  ASSERT_TRUE(c.Ack(7, Deadline(10)).ok());
  // The marker sent after the repeat: had the repeat been kept, it would
  // come first.
  absl::StatusOr<QueueMessage> next = c.Receive(Deadline(10));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->id, 8u);
  EXPECT_EQ(next->body, "eight");
  c.Close();
  hub.Close();
}

}  // namespace
}  // namespace msock
