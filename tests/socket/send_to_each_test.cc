// SocketAccess::SendToEach (socket/socket_access.h), the fan-out of a rooms
// hub: one body to a list of named pipes in one lock round. Every named pipe
// gets its copy; a gone pipe and a full one lose theirs, counted, and only the
// full one is reported back.
#include <memory>
#include <string>
#include <vector>

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

// A rep socket (it sends only to named pipes) with `n` plain req peers.
struct Fan {
  explicit Fan(int n) : rep(protocols::kRep) {
    absl::StatusOr<std::string> url = rep.Listen("tcp://127.0.0.1:0");
    EXPECT_TRUE(url.ok()) << url.status();
    for (int i = 0; i < n; ++i) {
      peers.push_back(std::make_unique<Socket>(protocols::kReq));
      EXPECT_TRUE(peers.back()->Dial(url.value_or("")).ok());
    }
    EXPECT_TRUE(rep.WaitForPeers(n, Deadline(10)).ok());
    for (const PipeStats& p : rep.pipe_stats()) ids.push_back(p.pipe_id);
  }
  Socket rep;
  std::vector<std::unique_ptr<Socket>> peers;
  std::vector<uint32_t> ids;
};

TEST(SendToEachTest, EveryNamedPipeGetsTheBodyAndAGonePipeIsCounted) {
  Fan fan(3);
  ASSERT_EQ(fan.ids.size(), 3u);
  std::vector<uint32_t> to = fan.ids;
  to.push_back(999999);  // no such pipe
  std::vector<uint32_t> full;
  Message m("to each");
  EXPECT_EQ(SocketAccess::SendToEach(fan.rep, to, m, &full), 3u);
  EXPECT_EQ(m.body(), "to each") << "the caller's message is left as it was";
  for (auto& peer : fan.peers) {
    EXPECT_EQ(RecvString(*peer, Deadline(10)).value_or("?"), "to each");
  }
  EXPECT_TRUE(full.empty()) << "a gone pipe is not a full one";
  SocketStats s = fan.rep.stats();
  EXPECT_EQ(s.messages_out, 3u);
  EXPECT_EQ(s.dropped, 1u);
}

TEST(SendToEachTest, AFullPipeLosesItsCopyAndIsReported) {
  Fan fan(2);
  ASSERT_EQ(fan.ids.size(), 2u);
  ASSERT_TRUE(fan.rep.Set(opt::kSendQueueMessages, size_t{2}).ok());
  // Neither peer reads: 1 MiB copies fill the kernel's buffers, the peers'
  // receive queues and then rep's send queues.
  std::string body(1 << 20, 'x');
  Message m(body);
  size_t queued = 0, reported = 0;
  std::vector<uint32_t> full;
  for (int i = 0; i < 200 && full.empty(); ++i) {
    queued += SocketAccess::SendToEach(fan.rep, fan.ids, m, &full);
    reported = full.size();
  }
  ASSERT_FALSE(full.empty()) << "200 MiB per peer and no queue filled";
  for (uint32_t id : full) {
    EXPECT_TRUE(id == fan.ids[0] || id == fan.ids[1]) << id;
  }
  EXPECT_EQ(fan.rep.stats().dropped, reported);
  EXPECT_EQ(fan.rep.stats().messages_out, queued);
  // The copies that were queued all arrive, and no other.
  size_t got = 0;
  EXPECT_TRUE(test::WaitUntil(
      [&] {
        for (auto& peer : fan.peers) {
          while (peer->TryRecv().ok()) ++got;
        }
        return got >= queued;
      },
      Deadline(30)));
  EXPECT_EQ(got, queued);
}

TEST(SendToEachTest, ClosedSocketQueuesNothing) {
  Fan fan(1);
  fan.rep.Close();
  Message m("late");
  EXPECT_EQ(SocketAccess::SendToEach(fan.rep, fan.ids, m, nullptr), 0u);
}

}  // namespace
}  // namespace msock
