// tests/interop/wire_bytes_test.cc: the exact bytes msock puts on the wire (tcp
// and ipc).
//
// A raw POSIX socket connects to an msock listener of each role and checks its
// 8-byte SP connection header against the captured vectors
// (../shared/spec/vectors, read at run time; constants from sp-wire.md if that
// directory is absent), then plays a correct peer: sends its header and a frame
// (msock must deliver the body) and reads the frame msock writes for "ping".
#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/interop_util.h"

#ifndef MSOCK_VECTORS_DIR
#define MSOCK_VECTORS_DIR ""
#endif

namespace msock::testing {
namespace {

std::string SpHeader(uint16_t id) {
  return std::string("\x00SP\x00", 4) + static_cast<char>(id >> 8) +
         static_cast<char>(id & 0xff) + std::string(2, '\0');
}

// "SP header: 00 53 50 00 00 50 00 00   (magic ..., proto 0x0050=push, reserved
// 00 00)" lines of every vector file, by protocol name. Empty if the directory
// is missing.
std::map<std::string, std::string> HeadersFromVectors(const std::string& dir) {
  std::map<std::string, std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 4 || name.substr(name.size() - 4) != ".txt") continue;
    std::ifstream in(dir + "/" + name);
    std::string line;
    while (std::getline(in, line)) {
      size_t h = line.find("SP header:");
      size_t p = line.find("proto 0x");
      if (h == std::string::npos || p == std::string::npos) continue;
      std::istringstream hex(line.substr(h + 10, p - h - 10));
      std::string bytes;
      unsigned v;
      for (int i = 0; i < 8 && (hex >> std::hex >> v); ++i)
        bytes += static_cast<char>(v);
      size_t eq = line.find('=', p);
      size_t end = line.find(',', eq);
      if (bytes.size() != 8 || eq == std::string::npos ||
          end == std::string::npos)
        continue;
      out.emplace(line.substr(eq + 1, end - eq - 1), bytes);
    }
  }
  closedir(d);
  return out;
}

// The header a `role` listener must send: from the captured vectors when
// available.
std::string ExpectedHeader(const std::string& role, uint16_t id_from_spec) {
  static const std::map<std::string, std::string> vectors =
      HeadersFromVectors(MSOCK_VECTORS_DIR);
  auto it = vectors.find(role);
  if (it != vectors.end()) return it->second;
  return SpHeader(id_from_spec);  // sp-wire.md §3.1 / §2
}

std::string FrameLength(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, n >>= 8) out[i] = static_cast<char>(n & 0xff);
  return out;
}

struct RoleWire {
  const char* name;
  uint16_t self_id;
  uint16_t peer_id;
  bool hop_count;  // pair1: one 32-bit hop count word before the body
};

class WireBytesTest : public ::testing::TestWithParam<Transport> {
 protected:
  // Listens with `sock` (a typed role), connects a raw socket as its peer and
  // checks the header, then the frames in each direction the role allows.
  template <typename R>
  void Check(R& sock, const RoleWire& w) {
    constexpr bool kSends = requires(R & r, absl::Time t) {
      r.Send(std::string_view(), t);
    };
    constexpr bool kRecvs = requires(R & r, absl::Time t) { r.Recv(t); };
    const bool ipc = GetParam() == Transport::kIpc;
    ScratchDir dir;
    ASSERT_FALSE(dir.path().empty());
    absl::StatusOr<std::string> url =
        sock.Listen(MsockListenUrl(GetParam(), dir));
    ASSERT_TRUE(url.ok()) << url.status();
    int fd = ConnectRaw(*url);
    ASSERT_GE(fd, 0) << "raw connect to " << *url << " failed";

    std::string header = ReadExactly(fd, 8, kWait);
    EXPECT_EQ(Hex(header), Hex(ExpectedHeader(w.name, w.self_id)))
        << w.name << " listener's connection header";
    EXPECT_EQ(Hex(header), Hex(SpHeader(w.self_id)));
    ASSERT_TRUE(WriteAll(fd, SpHeader(w.peer_id)));
    absl::Status up = sock.WaitForPeers(1, absl::Now() + kWait);
    ASSERT_TRUE(up.ok()) << up;

    const std::string type = ipc ? std::string(1, '\x01') : "";
    const std::string hop = w.hop_count ? std::string("\0\0\0\x01", 4) : "";
    if constexpr (kRecvs) {
      std::string payload = hop + "hello";
      ASSERT_TRUE(WriteAll(fd, type + FrameLength(payload.size()) + payload));
      absl::StatusOr<Message> m = sock.Recv(absl::Now() + kWait);
      ASSERT_TRUE(m.ok()) << m.status();
      EXPECT_EQ(m->body(), "hello");
    }
    if constexpr (kSends) {
      ASSERT_TRUE(sock.Send("ping", absl::Now() + kWait).ok());
      // sp-wire.md §3.2 / §4 / §6.7: [01] u64 length, [00 00 00 01], "ping".
      std::string want =
          std::string(ipc ? "01 " : "") + "00 00 00 00 00 00 00 " +
          (w.hop_count ? "08 00 00 00 01 " : "04 ") + "70 69 6e 67";
      std::string got =
          ReadExactly(fd, (ipc ? 1 : 0) + 8 + hop.size() + 4, kWait);
      EXPECT_EQ(Hex(got), want);
    }
    EXPECT_EQ(sock.stats().rejected_bad_frame, 0u);
    close(fd);
  }
};

TEST_P(WireBytesTest, Push) {
  Push s;
  Check(s, {"push", 0x50, 0x51, false});
}
TEST_P(WireBytesTest, Pull) {
  Pull s;
  Check(s, {"pull", 0x51, 0x50, false});
}
TEST_P(WireBytesTest, Pair0) {
  Pair0 s;
  Check(s, {"pair0", 0x10, 0x10, false});
}
TEST_P(WireBytesTest, Pair1) {
  Pair1 s;
  Check(s, {"pair1", 0x11, 0x11, true});
}

// A connection that does not start with an SP header is closed and counted.
TEST_P(WireBytesTest, GarbageHeaderClosesConnection) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  Pull pull;
  absl::StatusOr<std::string> url =
      pull.Listen(MsockListenUrl(GetParam(), dir));
  ASSERT_TRUE(url.ok()) << url.status();
  int fd = ConnectRaw(*url);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteAll(fd, "GET / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(WaitForEof(fd, kWait))
      << "msock kept a connection with a bad header";
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_bad_frame >= 1; }));
  EXPECT_EQ(pull.socket().pipe_count(), 0);
  close(fd);
}

INSTANTIATE_TEST_SUITE_P(Transports, WireBytesTest,
                         ::testing::Values(Transport::kTcp, Transport::kIpc),
                         [](const ::testing::TestParamInfo<Transport>& info) {
                           return TransportName(info.param);
                         });

// The vector files, when present, are parsed (else Check would silently fall
// back to the constants) and give the headers sp-wire.md documents.
TEST(WireVectorsTest, CapturedHeadersMatchSpec) {
  std::map<std::string, std::string> v = HeadersFromVectors(MSOCK_VECTORS_DIR);
  if (DIR* d = opendir(MSOCK_VECTORS_DIR)) {
    closedir(d);
    EXPECT_EQ(Hex(v["push"]), "00 53 50 00 00 50 00 00");
    EXPECT_EQ(Hex(v["pull"]), "00 53 50 00 00 51 00 00");
    EXPECT_EQ(Hex(v["pair0"]), "00 53 50 00 00 10 00 00");
    EXPECT_EQ(Hex(v["pair1"]), "00 53 50 00 00 11 00 00");
  } else {
    EXPECT_TRUE(v.empty());
    EXPECT_EQ(Hex(ExpectedHeader("push", 0x50)), "00 53 50 00 00 50 00 00");
  }
}

}  // namespace
}  // namespace msock::testing
