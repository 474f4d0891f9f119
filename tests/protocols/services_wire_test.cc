// Services on the wire: the JSON exchange of protocols/rooms/WIRE.md
// ("Services"), written by hand as a browser would, between two raw hub
// clients and a hub with HubServices.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "msock/protocols/services.h"
#include "tests/protocols/rooms_test_util.h"

namespace msock {
namespace {

using test::Deadline;
using test::ListenUrlFor;
using test::RecvString;
using test::SendString;

// A raw hub-client socket with one connection to `url` (sends are plain
// Send: the socket has that one peer).
std::unique_ptr<Socket> RawClient(const std::string& url) {
  auto s = std::make_unique<Socket>(protocols::kHubClient);
  EXPECT_TRUE(s->Set(opt::kReconnectMin, absl::Seconds(60)).ok());
  EXPECT_TRUE(s->Dial(url).ok());
  EXPECT_TRUE(s->WaitForPeers(1, Deadline(10)).ok());
  return s;
}

// Sends `body` on the socket's one connection.
absl::Status SendOn(Socket& s, std::string_view body) {
  std::vector<PipeStats> pipes = s.pipe_stats();
  if (pipes.empty()) return absl::UnavailableError("no connection");
  Message m(body);
  return s.SendTo(Path{pipes[0].pipe_id}, m, Deadline(10));
}

TEST(ServicesWireTest, HandWrittenJsonCall) {
  Hub hub;
  HubServices services(hub);
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("tcp"));
  ASSERT_TRUE(url.ok()) << url.status();
  std::unique_ptr<Socket> provider = RawClient(*url);
  ASSERT_TRUE(SendOn(*provider, R"({"hello":{}})").ok());
  EXPECT_EQ(RecvString(*provider, Deadline(10)).value_or(""),
            R"({"welcome":{"id":"c1"}})");
  ASSERT_TRUE(
      SendOn(*provider,
             R"({"event":{"name":"_svc/provide","text":"upper","ack":3}})")
          .ok());
  EXPECT_EQ(RecvString(*provider, Deadline(10)).value_or(""),
            R"({"ack":{"id":3}})");

  std::unique_ptr<Socket> caller = RawClient(*url);
  ASSERT_TRUE(SendOn(*caller, R"({"hello":{}})").ok());
  EXPECT_EQ(RecvString(*caller, Deadline(10)).value_or(""),
            R"({"welcome":{"id":"c2"}})");
  ASSERT_TRUE(SendOn(*caller,
                     R"({"event":{"name":"_call/upper","text":"hi","ack":5,)"
                     R"("timeoutMs":5000}})")
                  .ok());
  // The hub's own wait is a little under the caller's 5000 ms.
  std::string serve = RecvString(*provider, Deadline(10)).value_or("");
  const std::string head =
      R"({"event":{"name":"_serve/upper","text":"hi","ack":1,"from":"c2",)"
      R"("timeoutMs":)";
  ASSERT_EQ(serve.substr(0, head.size()), head) << serve;
  ASSERT_TRUE(SendOn(*provider, R"({"ack":{"id":1,"text":"HI"}})").ok());
  EXPECT_EQ(RecvString(*caller, Deadline(10)).value_or(""),
            R"({"ack":{"id":5,"text":"HI"}})");

  ASSERT_TRUE(
      SendOn(*caller, R"({"event":{"name":"_call/none","text":"","ack":6}})")
          .ok());
  EXPECT_EQ(
      RecvString(*caller, Deadline(10)).value_or(""),
      R"({"ack":{"id":6,"code":5,"error":"no provider of service \"none\""}})");
}

}  // namespace
}  // namespace msock
