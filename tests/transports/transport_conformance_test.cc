// The transport conformance suite: the same behaviour checked over inproc, ipc
// tcp, ws and wss (binding, dialing, ordering, large and empty messages,
// reconnection, pipe removal, back-pressure, the receive size limit and address
// conflicts), each test one verifier of tests/support/transport_verifiers.h.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "msock/protocols/recipes.h"
#include "msock/socket.h"
#include "tests/support/test_support.h"
#include "tests/support/transport_verifiers.h"

namespace msock {
namespace {

using test::Deadline;
using test::RecvString;
using test::SendString;

class TransportTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TransportTest, ListenReturnsBoundUrl) {
  test::VerifyBoundUrl(GetParam());
}
TEST_P(TransportTest, DialAndWaitForPeers) {
  test::VerifyPeerCounts(GetParam());
}
TEST_P(TransportTest, SendRecvOneMessage) {
  test::VerifyOneMessage(GetParam());
}
TEST_P(TransportTest, ReceivedMessageCarriesItsPipe) {
  test::VerifyMessageSource(GetParam());
}
TEST_P(TransportTest, OrderPreservedFor10000Messages) {
  test::VerifyOrderUnderLoad(GetParam());
}
TEST_P(TransportTest, LargeMessageIntact) {
  test::VerifyLargeMessage(GetParam());
}
TEST_P(TransportTest, IdleWritesLargeWritesAndBurstsKeepOrder) {
  test::VerifyIdleLargeAndBurstWrites(GetParam());
}
TEST_P(TransportTest, ManySmallMessagesBothWaysAtOnce) {
  test::VerifyBothWaysAtOnce(GetParam());
}
TEST_P(TransportTest, EmptyMessage) { test::VerifyEmptyMessage(GetParam()); }
TEST_P(TransportTest, RedialsWhenListenerComesBack) {
  test::VerifyRedialWhenListenerReturns(GetParam());
}
TEST_P(TransportTest, DialBeforeListen) {
  test::VerifyDialBeforeListen(GetParam());
}
TEST_P(TransportTest, ClosingPeerRemovesPipe) {
  test::VerifyPeerCloseRemovesPipe(GetParam());
}
TEST_P(TransportTest, BackPressureBoundsQueuesThenRecovers) {
  test::VerifyBackPressure(GetParam());
}
TEST_P(TransportTest, OversizeMessageClosesOnlyThatPipe) {
  test::VerifyOversizeClosesOnlyThatPipe(GetParam());
}
TEST_P(TransportTest, ListenTwiceOnLiveAddressIsAlreadyExists) {
  test::VerifyAddressInUse(GetParam());
}

INSTANTIATE_TEST_SUITE_P(AllTransports, TransportTest,
                         ::testing::Values("inproc", "ipc", "tcp", "ws", "wss"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// ipc only: a socket file left behind by a dead process is replaced on listen.
TEST(IpcTransportTest, StaleSocketFileIsReplaced) {
  std::string path = test::Scratch().NewPath("sock");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);  // the file stays: a stale socket nobody answers on
  ASSERT_EQ(access(path.c_str(), F_OK), 0);

  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("ipc://" + path);
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(SendString(push, "fresh", Deadline(5)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(5)).value_or("?"), "fresh");
}

}  // namespace
}  // namespace msock
