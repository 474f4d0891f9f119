// A ws peer that floods pings and never reads: the listener owes it at most
// one pong (the latest ping's, RFC 6455 5.5.3; the others are counted in
// stats().ws_pongs_dropped), and reads nothing more from it while its output
// to it is stuck, so neither memory nor CPU grow with the flood. The peer is a raw TCP
// client speaking HTTP and frames by hand.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_support.h"
#include "transports/ws/ws_codec.h"

namespace msock {
namespace {

using test::Deadline;
using test::RawClient;
using test::RecvString;
using test::SendString;
using test::WaitUntil;
namespace ws = internal::ws;

// A raw client upgraded to the bus listening at `url`.
void Upgrade(RawClient& c, const std::string& url) {
  absl::StatusOr<Url> u = ParseUrl(url);
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Write("GET " + u->path +
                      " HTTP/1.1\r\n"
                      "Host: 127.0.0.1\r\n"
                      "Upgrade: websocket\r\n"
                      "Connection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Protocol: bus.sp.nanomsg.org\r\n\r\n"));
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    ASSERT_TRUE(c.ReadExactly(head.size() + 1, Deadline(10), &head)) << head;
  }
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
}

// A masked ping whose payload names it (125 bytes: the largest allowed).
std::string Ping(int i) {
  std::string payload = "ping " + std::to_string(i);
  payload.resize(125, '.');
  std::string f;
  ws::AppendFrame(&f, ws::kPing, true, true, 0x0badf00du + i, {payload});
  return f;
}

// What the raw client reads back: the listener's frames, decoded.
class Reader {
 public:
  explicit Reader(int fd) : fd_(fd), decoder_({false, 0, true}) {
    events_.pong = [this](std::string_view p) {
      ++pongs_;
      last_pong_ = std::string(p);
    };
  }
  // Decodes whatever can be read now.
  void Poll() {
    char buf[64 * 1024];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
      if (n <= 0) return;
      ASSERT_TRUE(decoder_.Feed(std::string_view(buf, n), events_).ok());
    }
  }
  uint64_t pongs() const { return pongs_; }
  const std::string& last_pong() const { return last_pong_; }

 private:
  int fd_;
  ws::FrameDecoder decoder_;
  ws::FrameDecoder::Events events_;
  uint64_t pongs_ = 0;
  std::string last_pong_;
};

// Fills everything between `bus` and its one peer, which never reads: true
// once the pipe's send queue overflows (the kernel buffers are full then).
bool FillOutput(Socket& bus) {
  // Stuck: every send has been dropped (the pipe's queue full) for 300 ms.
  // One drop is not enough: the loop may not have flushed the queue into a
  // socket that still had room.
  const std::string big(64 * 1024, 'x');
  uint64_t dropped = 0;
  absl::Time dropping_since = absl::InfiniteFuture();
  return WaitUntil(
      [&] {
        (void)SendString(bus, big, absl::InfinitePast());
        std::vector<PipeStats> ps = bus.pipe_stats();
        if (ps.size() != 1) return false;
        const absl::Time now = absl::Now();
        if (ps[0].dropped > dropped) {
          dropping_since = std::min(dropping_since, now);
        } else {
          dropping_since = absl::InfiniteFuture();  // it was queued
        }
        dropped = ps[0].dropped;
        return now - dropping_since >= absl::Milliseconds(300);
      },
      Deadline(30));
}

TEST(WsFloodTest, PingFloodIsAnsweredByTheLatestPongOnly) {
  Socket bus(protocols::kBus);
  absl::StatusOr<std::string> url = bus.Listen("ws://127.0.0.1:0/bus");
  ASSERT_TRUE(url.ok()) << url.status();
  Socket healthy(protocols::kBus);
  ASSERT_TRUE(healthy.Dial(*url).ok());
  RawClient c(*url);
  Upgrade(c, *url);
  ASSERT_TRUE(bus.WaitForPeers(2, Deadline(10)).ok());
  ASSERT_TRUE(healthy.WaitForPeers(1, Deadline(10)).ok());

  constexpr uint64_t kPings = 20000;  // 2.6 MB, written without reading
  std::string flood;
  for (uint64_t i = 0; i < kPings; ++i) flood += Ping(static_cast<int>(i));
  ASSERT_TRUE(c.Write(flood));

  // The healthy pipe beside it works.
  ASSERT_TRUE(SendString(healthy, "still here", Deadline(10)).ok());
  EXPECT_EQ(RecvString(bus, Deadline(10)).value_or("?"), "still here");

  // Now it reads: every ping was answered or counted, most were counted, and
  // the last pong answers the last ping.
  Reader r(c.fd());
  EXPECT_TRUE(WaitUntil(
      [&] {
        r.Poll();
        return r.pongs() + bus.stats().ws_pongs_dropped == kPings;
      },
      Deadline(30)))
      << r.pongs() << " pongs, " << bus.stats().ws_pongs_dropped << " dropped";
  EXPECT_LT(r.pongs(), kPings / 4u);
  EXPECT_GT(bus.stats().ws_pongs_dropped, 0u);
  EXPECT_EQ(r.last_pong().substr(0, 11), "ping 19999.");
  EXPECT_EQ(bus.stats().rejected_bad_frame, 0u);
}

TEST(WsFloodTest, PingFloodIsNotReadWhileOutputIsStuck) {
  Socket bus(protocols::kBus);
  absl::StatusOr<std::string> url = bus.Listen("ws://127.0.0.1:0/bus");
  ASSERT_TRUE(url.ok()) << url.status();
  RawClient c(*url);
  Upgrade(c, *url);
  ASSERT_TRUE(bus.WaitForPeers(1, Deadline(10)).ok());

  ASSERT_TRUE(FillOutput(bus));

  // Flood pings until the bus stops reading them (nothing sent for 2 s), or
  // fail after 64 MiB: a bus that kept reading would take them all.
  ASSERT_EQ(fcntl(c.fd(), F_SETFL, fcntl(c.fd(), F_GETFL) | O_NONBLOCK), 0);
  std::string chunk;
  while (chunk.size() < 64 * 1024) chunk += Ping(0);
  const size_t frame = Ping(0).size();
  constexpr size_t kCap = size_t{64} << 20;
  size_t sent = 0, at = 0;
  // The bus's send queue is kept full meanwhile: if its loop was starved
  // while FillOutput watched (a loaded CI machine) and then flushed the queue
  // into kernel buffers with room, its output is stuck again at once.
  const std::string big(64 * 1024, 'x');
  while (sent < kCap) {
    (void)SendString(bus, big, absl::InfinitePast());
    const ssize_t n = send(c.fd(), chunk.data() + at, chunk.size() - at,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      at = (at + static_cast<size_t>(n)) % chunk.size();
      continue;
    }
    ASSERT_TRUE(n < 0 && (errno == EAGAIN || errno == EINTR)) << errno;
    pollfd p{c.fd(), POLLOUT, 0};
    if (poll(&p, 1, 2000) == 0) break;  // stuck: the bus reads no more
  }
  // Whatever pings the bus read before it stopped (none, when its output was
  // already stuck) cost at most one pong each, dropped.
  EXPECT_LT(sent, kCap) << bus.stats().ws_pongs_dropped << " pongs dropped";

  // The listener still serves others meanwhile.
  Socket healthy(protocols::kBus);
  ASSERT_TRUE(healthy.Dial(*url).ok());
  ASSERT_TRUE(bus.WaitForPeers(2, Deadline(10)).ok());
  ASSERT_TRUE(healthy.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(SendString(healthy, "still here", Deadline(10)).ok());
  EXPECT_EQ(RecvString(bus, Deadline(10)).value_or("?"), "still here");

  // Once the client reads, the rest of the flood is read too: every whole
  // ping answered or counted, far fewer pongs than pings.
  const uint64_t pings = sent / frame;
  Reader r(c.fd());
  EXPECT_TRUE(WaitUntil(
      [&] {
        r.Poll();
        return r.pongs() + bus.stats().ws_pongs_dropped == pings;
      },
      Deadline(60)))
      << r.pongs() << " pongs, " << bus.stats().ws_pongs_dropped << " dropped, "
      << pings << " pings";
  EXPECT_LT(r.pongs(), pings / 4);
}

}  // namespace
}  // namespace msock
