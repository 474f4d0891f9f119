// The typed reason CheckUpgradeRequest / CheckUpgradeResponse give for a
// failed WebSocket upgrade (ws_codec.h UpgradeRefusal): what the ws pipe
// answers and counts is decided on it, never on the error's text.
#include <optional>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "transports/ws/ws_codec.h"

namespace msock::internal::ws {
namespace {

constexpr std::string_view kRep = "rep.sp.nanomsg.org";
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";

// `text` with the first `from` replaced by `to`.
std::string Edit(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

HttpHead Parse(std::string_view text, bool request) {
  absl::StatusOr<std::optional<HttpHead>> h =
      request ? ParseRequestHead(text) : ParseResponseHead(text);
  EXPECT_TRUE(h.ok() && h->has_value()) << text;
  return h.ok() && h->has_value() ? **h : HttpHead();
}

// The refusal of a request edited from a good one (kNone stays if accepted).
std::optional<UpgradeRefusal> RequestRefusal(std::string_view from,
                                             std::string_view to) {
  const std::string good = UpgradeRequest("127.0.0.1:1", "/", kKey, kRep);
  UpgradeRefusal why = UpgradeRefusal::kRefused;  // never a request's reason
  if (CheckUpgradeRequest(Parse(Edit(good, from, to), true), kRep, &why).ok()) {
    return std::nullopt;
  }
  return why;
}

std::optional<UpgradeRefusal> ResponseRefusal(const std::string& response) {
  UpgradeRefusal why = UpgradeRefusal::kVersion;  // never a response's reason
  if (CheckUpgradeResponse(Parse(response, false), kKey, kRep, &why).ok()) {
    return std::nullopt;
  }
  return why;
}

TEST(UpgradeRefusalTest, GoodRequestAndResponseHaveNone) {
  EXPECT_EQ(RequestRefusal("GET", "GET"), std::nullopt);
  EXPECT_EQ(ResponseRefusal(UpgradeResponse(AcceptKey(kKey), kRep)),
            std::nullopt);
}

TEST(UpgradeRefusalTest, RequestFailuresAreTyped) {
  using R = UpgradeRefusal;
  EXPECT_EQ(RequestRefusal("GET", "PUT"), R::kMalformed);
  EXPECT_EQ(RequestRefusal("Upgrade: websocket", "Upgrade: h2c"),
            R::kMalformed);
  EXPECT_EQ(RequestRefusal(kKey, "short"), R::kMalformed);
  EXPECT_EQ(RequestRefusal("Version: 13", "Version: 8"), R::kVersion);
  EXPECT_EQ(RequestRefusal("rep.sp", "req.sp"), R::kSubprotocol);
  EXPECT_EQ(RequestRefusal("Sec-WebSocket-Protocol", "X-Protocol"),
            R::kSubprotocol);
}

TEST(UpgradeRefusalTest, HttpStatusComesFromTheReason) {
  EXPECT_EQ(HttpStatusFor(UpgradeRefusal::kVersion), 426);
  EXPECT_EQ(HttpStatusFor(UpgradeRefusal::kMalformed), 400);
  EXPECT_EQ(HttpStatusFor(UpgradeRefusal::kSubprotocol), 400);
  // And the message users see still starts with it.
  const std::string req =
      Edit(UpgradeRequest("h:1", "/", kKey, kRep), "Version: 13", "Version: 7");
  absl::StatusOr<std::string> r = CheckUpgradeRequest(Parse(req, true), kRep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()).substr(0, 5), "426: ");
}

TEST(UpgradeRefusalTest, ResponseFailuresAreTyped) {
  using R = UpgradeRefusal;
  const std::string good = UpgradeResponse(AcceptKey(kKey), kRep);
  EXPECT_EQ(ResponseRefusal("HTTP/1.1 400 Bad Request\r\n\r\n"), R::kRefused);
  EXPECT_EQ(ResponseRefusal("HTTP/1.1 404 Not Found\r\n\r\n"), R::kRefused);
  EXPECT_EQ(ResponseRefusal(Edit(good, "Upgrade: websocket", "Upgrade: x")),
            R::kMalformed);
  EXPECT_EQ(ResponseRefusal(Edit(good, AcceptKey(kKey), "AAAA")),
            R::kMalformed);
  EXPECT_EQ(ResponseRefusal(Edit(good, "rep.sp", "req.sp")), R::kSubprotocol);
}

}  // namespace
}  // namespace msock::internal::ws
