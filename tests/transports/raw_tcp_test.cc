// Raw POSIX-socket peers against an msock tcp listener: what msock does with a
// bad connection header, a silent peer, a wrong protocol and a truncated frame.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "msock/protocols/recipes.h"
#include "msock/socket.h"
#include "msock/url.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::RecvString;
using test::SendString;
using test::WaitUntil;

using test::RawClient;

std::string Hello(uint16_t id) {
  return std::string{0x00,
                     0x53,
                     0x50,
                     0x00,
                     static_cast<char>(id >> 8),
                     static_cast<char>(id & 0xff),
                     0x00,
                     0x00};
}

std::string Frame(const std::string& payload) {
  std::string s(8, '\0');
  uint64_t v = payload.size();
  for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s + payload;
}

class RawTcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> url = pull_.Listen("tcp://127.0.0.1:0");
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }
  Socket pull_{protocols::kPull};
  std::string url_;
};

TEST_F(RawTcpTest, ProperPeerDelivers) {
  RawClient c(url_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Write(Hello(0x50) + Frame("raw hello")));
  absl::StatusOr<std::string> got = RecvString(pull_, Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "raw hello");
  // msock sends its own header at once: pull = 0x51.
  std::string header;
  ASSERT_TRUE(c.ReadExactly(8, Deadline(5), &header));
  EXPECT_EQ(header, Hello(0x51));
}

TEST_F(RawTcpTest, WrongMagicClosesConnection) {
  RawClient c(url_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Write("GET / HTTP/1.0\r\n\r\n"));
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got))
      << "msock kept a connection with a bad header";
  ASSERT_TRUE(WaitUntil([&] { return pull_.stats().rejected_bad_frame >= 1; },
                        Deadline(5)));
  EXPECT_EQ(pull_.stats().rejected_bad_frame, 1u);
  EXPECT_EQ(pull_.pipe_count(), 0);
  EXPECT_EQ(pull_.stats().pipes_opened, 0u);
}

TEST_F(RawTcpTest, BadReservedBytesCloseConnection) {
  RawClient c(url_);
  ASSERT_TRUE(c.connected());
  std::string h = Hello(0x50);
  h[7] = 1;
  ASSERT_TRUE(c.Write(h));
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  ASSERT_TRUE(WaitUntil([&] { return pull_.stats().rejected_bad_frame >= 1; },
                        Deadline(5)));
  EXPECT_EQ(pull_.pipe_count(), 0);
}

TEST_F(RawTcpTest, WrongProtocolClosesConnection) {
  RawClient c(url_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Write(Hello(0x51)));  // pull talking to a pull
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  ASSERT_TRUE(WaitUntil([&] { return pull_.stats().rejected_protocol >= 1; },
                        Deadline(5)));
  EXPECT_EQ(pull_.stats().rejected_protocol, 1u);
  EXPECT_EQ(pull_.pipe_count(), 0);
}

TEST(RawTcpHandshakeTest, SilentPeerTimesOut) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kHandshakeTimeout, absl::Milliseconds(200)).ok());
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  RawClient c(*url);
  ASSERT_TRUE(c.connected());
  absl::Time start = absl::Now();
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got))
      << "silent peer was never dropped";
  absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(150));
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_EQ(got, Hello(0x51))
      << "msock must send its header without waiting for ours";
  ASSERT_TRUE(
      WaitUntil([&] { return pull.stats().rejected_handshake_timeout >= 1; },
                Deadline(5)));
  EXPECT_EQ(pull.stats().rejected_handshake_timeout, 1u);
  EXPECT_EQ(pull.pipe_count(), 0);
}

TEST_F(RawTcpTest, TruncatedFrameThenCloseLeavesListenerWorking) {
  {
    RawClient c(url_);
    ASSERT_TRUE(c.connected());
    std::string frame = Frame(std::string(100, 't'));
    ASSERT_TRUE(c.Write(Hello(0x50) + frame.substr(0, 8 + 10)));
    ASSERT_TRUE(pull_.WaitForPeers(1, Deadline(5)).ok());
    c.Close();
  }
  ASSERT_TRUE(WaitUntil([&] { return pull_.pipe_count() == 0; }, Deadline(10)));
  EXPECT_EQ(pull_.TryRecv().status().code(), absl::StatusCode::kUnavailable)
      << "a partial frame was delivered";

  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(url_).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(SendString(push, "proper", Deadline(5)).ok());
  absl::StatusOr<std::string> got = RecvString(pull_, Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "proper");
}

}  // namespace
}  // namespace msock
