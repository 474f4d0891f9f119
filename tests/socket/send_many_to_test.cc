// SocketAccess::SendManyTo (socket/socket_access.h), a queue server's
// deliveries: several messages to one named pipe under one lock round and
// one wake. They arrive in order; when the pipe's queue fills, the ones that
// did not fit stay with the caller untouched; a gone pipe or a closed socket
// takes none.
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "msock/protocols/reqrep.h"
#include "msock/socket.h"
#include "socket/socket_access.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using internal::SocketAccess;
using test::Deadline;
using test::RecvString;

// A rep socket (it sends only to named pipes) and one plain req peer.
struct OnePeer {
  OnePeer() : rep(protocols::kRep), peer(protocols::kReq) {
    absl::StatusOr<std::string> url = rep.Listen("tcp://127.0.0.1:0");
    EXPECT_TRUE(url.ok()) << url.status();
    EXPECT_TRUE(peer.Dial(url.value_or("")).ok());
    EXPECT_TRUE(rep.WaitForPeers(1, Deadline(10)).ok());
    for (const PipeStats& p : rep.pipe_stats()) id = p.pipe_id;
  }
  Socket rep;
  Socket peer;
  uint32_t id = 0;
};

std::vector<Message> Numbered(int n, const std::string& prefix) {
  std::vector<Message> v;
  for (int i = 0; i < n; ++i) v.emplace_back(prefix + std::to_string(i));
  return v;
}

TEST(SendManyToTest, AllArriveInOrder) {
  OnePeer p;
  std::vector<Message> msgs = Numbered(5, "m");
  bool gone = true;
  EXPECT_EQ(SocketAccess::SendManyTo(p.rep, p.id, absl::MakeSpan(msgs), &gone),
            5u);
  EXPECT_FALSE(gone);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(RecvString(p.peer, Deadline(10)).value_or("?"),
              "m" + std::to_string(i));
  }
  EXPECT_EQ(p.rep.stats().messages_out, 5u);
  EXPECT_EQ(p.rep.stats().dropped, 0u);
}

TEST(SendManyToTest, WhatDoesNotFitStaysWithTheCaller) {
  OnePeer p;
  ASSERT_TRUE(p.rep.Set(opt::kSendQueueMessages, size_t{2}).ok());
  // The peer does not read: 1 MiB messages fill the kernel's buffers, the
  // peer's receive queue and then rep's send queue.
  const std::string body(1 << 20, 'x');
  size_t queued = 0;
  std::vector<Message> batch;
  for (int round = 0; round < 100; ++round) {
    batch.clear();
    for (int i = 0; i < 4; ++i) batch.emplace_back(body);
    bool gone = false;
    const size_t n =
        SocketAccess::SendManyTo(p.rep, p.id, absl::MakeSpan(batch), &gone);
    ASSERT_FALSE(gone);
    queued += n;
    if (n < batch.size()) {
      for (size_t i = n; i < batch.size(); ++i) {
        EXPECT_EQ(batch[i].size(), body.size()) << "left as it was: " << i;
      }
      break;
    }
    ASSERT_LT(round, 99) << "400 MiB and the queue never filled";
  }
  EXPECT_EQ(p.rep.stats().dropped, 0u) << "not sent is not dropped";
  EXPECT_EQ(p.rep.stats().messages_out, queued);
  size_t got = 0;
  EXPECT_TRUE(test::WaitUntil(
      [&] {
        while (p.peer.TryRecv().ok()) ++got;
        return got >= queued;
      },
      Deadline(30)));
  EXPECT_EQ(got, queued);
}

TEST(SendManyToTest, AGonePipeOrAClosedSocketTakesNone) {
  OnePeer p;
  std::vector<Message> msgs = Numbered(3, "x");
  bool gone = false;
  EXPECT_EQ(
      SocketAccess::SendManyTo(p.rep, 999999, absl::MakeSpan(msgs), &gone), 0u);
  EXPECT_TRUE(gone);
  EXPECT_EQ(msgs[0].body(), "x0");
  EXPECT_EQ(p.rep.stats().dropped, 3u);
  p.rep.Close();
  gone = false;
  EXPECT_EQ(SocketAccess::SendManyTo(p.rep, p.id, absl::MakeSpan(msgs), &gone),
            0u);
  EXPECT_TRUE(gone);
}

}  // namespace
}  // namespace msock
