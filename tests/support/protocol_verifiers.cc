// The protocol verifiers (tests/support/protocol_verifiers.h): send/receive,
// body integrity, ordering, refusal of a peer of another protocol and sending
// before a peer is there, written once for every recipe.
#include "tests/support/protocol_verifiers.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "tests/support/marry.h"
#include "tests/support/test_support.h"

namespace msock::test {
namespace {

// Prepares both sockets for `scheme` and listens with a; returns the bound URL.
std::string ListenA(Duo& duo, std::string_view scheme) {
  PrepareFor(duo.a(), scheme);
  PrepareFor(duo.b(), scheme);
  absl::StatusOr<std::string> url = duo.a().Listen(ListenUrlFor(scheme));
  EXPECT_TRUE(url.ok()) << url.status();
  return url.value_or("inproc://listen-failed");
}

// Prepares and connects a and b. Returns false (after a failure) if it failed.
bool MarryDuo(Duo& duo, std::string_view scheme) {
  PrepareFor(duo.a(), scheme);
  PrepareFor(duo.b(), scheme);
  absl::Status connected = duo.Connect(scheme, Deadline(10));
  EXPECT_TRUE(connected.ok()) << connected;
  return connected.ok();
}

// a sends `body`; b must receive it.
void ExpectAToB(Duo& duo, const std::string& body, absl::Time send_deadline) {
  Message m(body);
  ASSERT_TRUE(duo.SendA(m, send_deadline).ok());
  absl::StatusOr<Message> got = duo.RecvB(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), body) << "body of size " << body.size();
}

}  // namespace

void VerifyRecipeName(Duo& duo) {
  EXPECT_STREQ(duo.a().spec().name, duo.name());
}

void VerifySendRecv(Duo& duo, std::string_view scheme) {
  ASSERT_TRUE(MarryDuo(duo, scheme));
  ExpectAToB(duo, "from a", Deadline(5));
  if (!duo.both_ways()) return;
  Message back("from b");
  ASSERT_TRUE(duo.SendB(back, Deadline(5)).ok());
  absl::StatusOr<Message> got_back = duo.RecvA(Deadline(5));
  ASSERT_TRUE(got_back.ok()) << got_back.status();
  EXPECT_EQ(got_back->body(), "from b");
}

void VerifyBodyIntact(Duo& duo, std::string_view scheme) {
  ASSERT_TRUE(MarryDuo(duo, scheme));
  const std::string bodies[] = {
      std::string(), std::string("\x00", 1), std::string("\x00\x00\x00\x01", 4),
      std::string("\x80\x00\x00\x01\xff", 5), std::string(1000, '\0')};
  for (const std::string& body : bodies) {
    ExpectAToB(duo, body, Deadline(5));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

void VerifyOrder(Duo& duo, std::string_view scheme, int count) {
  ASSERT_TRUE(duo.streams()) << duo.name() << " does not stream";
  ASSERT_TRUE(MarryDuo(duo, scheme));
  for (int i = 0; i < count; ++i) {
    Message m(absl::StrCat("m", i));
    ASSERT_TRUE(duo.SendA(m, Deadline(10)).ok());
  }
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<Message> got = duo.RecvB(Deadline(10));
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->body(), absl::StrCat("m", i));
  }
  EXPECT_EQ(duo.a().stats().messages_out, static_cast<uint64_t>(count));
  EXPECT_EQ(duo.b().stats().messages_in, static_cast<uint64_t>(count));
}

void VerifyRejectsWrongPeer(Duo& duo, std::string_view scheme,
                            bool dialer_notices) {
  std::string url = ListenA(duo, scheme);
  Socket wrong(duo.mismatched());
  PrepareFor(wrong, scheme);
  ASSERT_TRUE(wrong.Set(opt::kReconnectMin, absl::Milliseconds(50)).ok());
  ASSERT_TRUE(wrong.Dial(url).ok());
  ASSERT_TRUE(WaitUntil([&] { return duo.a().stats().rejected_protocol >= 1; },
                        Deadline(10)))
      << "listener accepted a " << duo.mismatched().name << " peer";
  EXPECT_EQ(duo.a().pipe_count(), 0);
  EXPECT_EQ(duo.a().stats().pipes_opened, 0u);
  EXPECT_EQ(
      duo.a().WaitForPeers(1, absl::Now() + absl::Milliseconds(100)).code(),
      absl::StatusCode::kDeadlineExceeded);
  if (dialer_notices) {
    ASSERT_TRUE(WaitUntil([&] { return wrong.stats().rejected_protocol >= 1; },
                          Deadline(10)))
        << "the mismatched dialer did not notice";
  }
  EXPECT_EQ(wrong.stats().pipes_opened, 0u);

  // The right peer is still welcome.
  ASSERT_TRUE(duo.b().Dial(url).ok());
  ASSERT_TRUE(duo.b().WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(duo.a().WaitForPeers(1, Deadline(10)).ok());
  ExpectAToB(duo, "right peer", Deadline(5));
}

void VerifySendWaitsForPeer(Duo& duo, std::string_view scheme) {
  std::string url = ListenA(duo, scheme);
  if (duo.fan_out()) {
    // Fan-out: with no peer the message reaches nobody, at once.
    Message lost("nobody hears this");
    EXPECT_TRUE(duo.SendA(lost, absl::InfinitePast()).ok());
    ASSERT_TRUE(duo.b().Dial(url).ok());
    ASSERT_TRUE(duo.a().WaitForPeers(1, Deadline(10)).ok());
    ASSERT_TRUE(duo.b().WaitForPeers(1, Deadline(10)).ok());
    ExpectAToB(duo, "heard", Deadline(5));
    return;
  }
  Message early("early");
  if (!duo.streams()) {
    // A request made before any peer is there waits for one.
    ASSERT_TRUE(duo.SendA(early, Deadline(10)).ok());
    ASSERT_TRUE(duo.b().Dial(url).ok());
    absl::StatusOr<Message> got = duo.RecvB(Deadline(10));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->body(), "early");
    return;
  }
  EXPECT_EQ(duo.SendA(early, absl::Now() + absl::Milliseconds(20)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(early.body(), "early");
  ASSERT_TRUE(duo.b().Dial(url).ok());
  ASSERT_TRUE(duo.SendA(early, Deadline(10)).ok());
  absl::StatusOr<Message> got = duo.RecvB(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "early");
}

}  // namespace msock::test
