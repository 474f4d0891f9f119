// The transport verifiers for binding, dialing, re-dialing and pipe events
// (tests/support/transport_verifiers.h), with the helpers they share with
// transport_load_verifiers.cc.
#include "tests/support/transport_verifiers.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "msock/protocols/recipes.h"
#include "msock/url.h"
#include "tests/support/marry.h"
#include "tests/support/test_support.h"

namespace msock::test {

std::string PatternBody(size_t size, int seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 31 + seed) % 251);
  return s;
}

int BodyIndex(const Message& m) {
  int v = -1;
  if (!absl::SimpleAtoi(std::string(m.body().substr(0, m.body().find(' '))),
                        &v))
    return -1;
  return v;
}

std::string ListenOn(std::string_view scheme, Socket& listener) {
  absl::StatusOr<std::string> url = listener.Listen(ListenUrlFor(scheme));
  EXPECT_TRUE(url.ok()) << url.status();
  return url.ok() ? *url : std::string("inproc://listen-failed");
}

::testing::AssertionResult Wire(Socket& listener, Socket& dialer,
                                std::string_view scheme, std::string* url) {
  PrepareFor(listener, scheme);
  PrepareFor(dialer, scheme);
  absl::StatusOr<std::string> bound =
      Marry(listener, dialer, scheme, Deadline(10));
  if (!bound.ok()) return ::testing::AssertionFailure() << bound.status();
  if (url != nullptr) *url = *bound;
  return ::testing::AssertionSuccess();
}

std::string UnusedUrl(std::string_view scheme) {
  if (scheme != "tcp" && scheme != "ws" && scheme != "wss") {
    return ListenUrlFor(scheme);
  }
  Socket tmp(protocols::kPull);
  PrepareFor(tmp, scheme);
  std::string url = ListenOn(scheme, tmp);
  tmp.Close();
  return url;
}

void VerifyBoundUrl(std::string_view scheme) {
  Socket pull(protocols::kPull);
  PrepareFor(pull, scheme);
  std::string requested = ListenUrlFor(scheme);
  absl::StatusOr<std::string> url = pull.Listen(requested);
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<Url> u = ParseUrl(*url);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, scheme);
  if (scheme == "tcp" || scheme == "ws" || scheme == "wss") {
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_NE(u->port, 0);
    if (scheme != "tcp") {
      EXPECT_EQ(u->path, "/msock");
    }
  } else {
    EXPECT_EQ(*url, requested);
  }
}

void VerifyPeerCounts(std::string_view scheme) {
  Socket pull(protocols::kPull);
  Socket push(protocols::kPush);
  EXPECT_EQ(pull.pipe_count(), 0);
  ASSERT_TRUE(Wire(pull, push, scheme));
  EXPECT_EQ(pull.pipe_count(), 1);
  EXPECT_EQ(push.pipe_count(), 1);
  EXPECT_EQ(pull.stats().pipes_opened, 1u);
  EXPECT_EQ(push.stats().pipes_opened, 1u);
}

void VerifyOneMessage(std::string_view scheme) {
  Socket pull(protocols::kPull);
  Socket push(protocols::kPush);
  ASSERT_TRUE(Wire(pull, push, scheme));
  ASSERT_TRUE(SendString(push, absl::StrCat("hello over ", std::string(scheme)),
                         Deadline(5))
                  .ok());
  absl::StatusOr<std::string> got = RecvString(pull, Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, absl::StrCat("hello over ", std::string(scheme)));
}

void VerifyMessageSource(std::string_view scheme) {
  Socket pull(protocols::kPull);
  EventLog log;
  pull.OnPipeEvent(log.Fn());
  Socket push(protocols::kPush);
  ASSERT_TRUE(Wire(pull, push, scheme));
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kAdded) == 1; },
                        Deadline(5)));
  ASSERT_TRUE(SendString(push, "x", Deadline(5)).ok());
  absl::StatusOr<Message> m = pull.Recv(Deadline(5));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->source().size(), 1u);
  EXPECT_EQ(m->source().back(), log.Events()[0].pipe_id);
  pull.OnPipeEvent(nullptr);
}

void VerifyEmptyMessage(std::string_view scheme) {
  Socket pull(protocols::kPull);
  Socket push(protocols::kPush);
  ASSERT_TRUE(Wire(pull, push, scheme));
  Message empty;
  ASSERT_TRUE(push.Send(empty, Deadline(5)).ok());
  ASSERT_TRUE(SendString(push, "after-empty", Deadline(5)).ok());
  absl::StatusOr<Message> got = pull.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 0u);
  EXPECT_TRUE(got->header().empty());
  absl::StatusOr<std::string> next = RecvString(pull, Deadline(5));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, "after-empty");
}

void VerifyRedialWhenListenerReturns(std::string_view scheme) {
  auto first = std::make_unique<Socket>(protocols::kPull);
  Socket push(protocols::kPush);
  std::string url;
  ASSERT_TRUE(Wire(*first, push, scheme, &url));
  ASSERT_TRUE(SendString(push, "one", Deadline(5)).ok());
  ASSERT_EQ(RecvString(*first, Deadline(5)).value_or("?"), "one");

  first->Close();
  first.reset();
  ASSERT_TRUE(WaitUntil([&] { return push.pipe_count() == 0; }, Deadline(10)))
      << "dialer still has a pipe after the listener closed";

  Socket second(protocols::kPull);
  PrepareFor(second, scheme);
  absl::StatusOr<std::string> again = second.Listen(url);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, url);
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok())
      << "dialer did not re-dial";
  ASSERT_TRUE(SendString(push, "two", Deadline(5)).ok());
  absl::StatusOr<std::string> got = RecvString(second, Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "two");
}

void VerifyDialBeforeListen(std::string_view scheme) {
  std::string url = UnusedUrl(scheme);
  Socket push(protocols::kPush);
  PrepareFor(push, scheme);
  ASSERT_TRUE(FastRedial(push).ok());
  ASSERT_TRUE(push.Dial(url).ok());
  EXPECT_EQ(push.WaitForPeers(1, absl::Now() + absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  Socket pull(protocols::kPull);
  PrepareFor(pull, scheme);
  absl::StatusOr<std::string> bound = pull.Listen(url);
  ASSERT_TRUE(bound.ok()) << bound.status();
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok())
      << "background re-dial never connected";
  ASSERT_TRUE(SendString(push, "late", Deadline(5)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(5)).value_or("?"), "late");
}

void VerifyPeerCloseRemovesPipe(std::string_view scheme) {
  EventLog log;
  Socket pull(protocols::kPull);
  pull.OnPipeEvent(log.Fn());
  auto push = std::make_unique<Socket>(protocols::kPush);
  ASSERT_TRUE(Wire(pull, *push, scheme));
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kAdded) == 1; },
                        Deadline(5)));
  push->Close();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return pull.pipe_count() == 0 &&
               log.Count(PipeEventType::kRemoved) == 1;
      },
      Deadline(10)))
      << "pipe_count=" << pull.pipe_count()
      << " removed=" << log.Count(PipeEventType::kRemoved);
  std::vector<PipeEvent> events = log.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, PipeEventType::kAdded);
  EXPECT_EQ(events[1].type, PipeEventType::kRemoved);
  EXPECT_NE(events[0].pipe_id, 0u);
  EXPECT_EQ(events[0].pipe_id, events[1].pipe_id);
  EXPECT_EQ(pull.stats().pipes_closed, 1u);
  pull.OnPipeEvent(nullptr);
}

void VerifyAddressInUse(std::string_view scheme) {
  Socket first(protocols::kPull);
  PrepareFor(first, scheme);
  std::string url = ListenOn(scheme, first);
  Socket second(protocols::kPull);
  PrepareFor(second, scheme);
  absl::StatusOr<std::string> again = second.Listen(url);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists)
      << again.status();
  // The same socket listening twice on one address is refused too.
  EXPECT_EQ(first.Listen(url).status().code(),
            absl::StatusCode::kAlreadyExists);
  // The failed attempts did not disturb the live listener.
  Socket push(protocols::kPush);
  PrepareFor(push, scheme);
  ASSERT_TRUE(FastRedial(push).ok());
  ASSERT_TRUE(push.Dial(url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(SendString(push, "still here", Deadline(5)).ok());
  EXPECT_EQ(RecvString(first, Deadline(5)).value_or("?"), "still here");
}

}  // namespace msock::test
