// libFuzzer target: the ws dialer reading the listener's reply to its upgrade
// request, as WsPipe::HandleUpgradeResponse (transports/ws/ws_upgrade.cc) does
// with ParseResponseHead and CheckUpgradeResponse (ws_codec.h): the input is
// the listener's byte stream, delivered in chunks of the size its last byte
// gives, parsed after each chunk with one scan offset as the pipe does. Asserts that reading in chunks decides as reading all at once, that
// an accepted reply really is a 101 with Upgrade, Connection, the accept value
// of our fixed key (RFC 6455's example) and our subprotocol, that it is
// refused for another key or subprotocol, and that each refusal has the kind
// and status code its cause calls for.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "transports/ws/ws_codec.h"

namespace {

namespace ws = msock::internal::ws;
using ws::UpgradeRefusal;

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
constexpr std::string_view kSub = "rep.sp.nanomsg.org";
// Not a value CheckUpgradeResponse ever stores: shows it left *why alone.
constexpr auto kUnset = static_cast<UpgradeRefusal>(99);

void Require(bool ok) {
  if (!ok) std::abort();
}

using Parsed = absl::StatusOr<std::optional<ws::HttpHead>>;

bool Same(const Parsed& a, const Parsed& b) {
  if (a.ok() != b.ok()) return false;
  if (!a.ok()) return a.status() == b.status();
  if (a->has_value() != b->has_value()) return false;
  if (!a->has_value()) return true;
  const ws::HttpHead& x = **a;
  const ws::HttpHead& y = **b;
  return x.status == y.status && x.reason == y.reason &&
         x.headers == y.headers && x.head_size == y.head_size;
}

// The same head written again with header names in another case.
std::string Recased(const ws::HttpHead& h) {
  std::string out = "HTTP/1.1 101 " + h.reason + "\r\n";
  bool upper = true;
  for (const auto& [name, value] : h.headers) {
    for (char c : name) {
      out.push_back(upper && c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
      upper = !upper;
    }
    out += ":" + value + "\r\n";
  }
  return out + "\r\n";
}

void CheckReply(const ws::HttpHead& h) {
  UpgradeRefusal why = kUnset;
  const absl::Status s = ws::CheckUpgradeResponse(h, kKey, kSub, &why);
  const std::string* accept = h.Find("sec-websocket-accept");
  const std::string* proto = h.Find("sec-websocket-protocol");
  const std::string* ext = h.Find("sec-websocket-extensions");
  // Checked in this order: the handshake headers, the subprotocol, then
  // that no extension was chosen.
  const bool handshake_ok = h.HasToken("upgrade", "websocket") &&
                            h.HasToken("connection", "upgrade") &&
                            accept != nullptr && *accept == kAccept;
  const bool right_proto = proto != nullptr && *proto == kSub;
  const bool no_ext = ext == nullptr || ext->empty();
  if (s.ok()) {
    Require(why == kUnset && h.status == 101 && handshake_ok && right_proto &&
            no_ext);
    // Header names are case-insensitive.
    Parsed again = ws::ParseResponseHead(Recased(h));
    Require(again.ok() && again->has_value());
    Require(ws::CheckUpgradeResponse(**again, kKey, kSub).ok());
    // The accept value answers our key only, the subprotocol is ours only.
    why = kUnset;
    Require(ws::CheckUpgradeResponse(h, "AAAAAAAAAAAAAAAAAAAAAA==", kSub, &why)
                    .code() == absl::StatusCode::kDataLoss &&
            why == UpgradeRefusal::kMalformed);
    why = kUnset;
    Require(
        ws::CheckUpgradeResponse(h, kKey, "req.sp.nanomsg.org", &why).code() ==
            absl::StatusCode::kDataLoss &&
        why == UpgradeRefusal::kSubprotocol);
    return;
  }
  if (h.status != 101) {
    Require(s.code() == absl::StatusCode::kUnavailable &&
            why == UpgradeRefusal::kRefused);
    Require(s.message().find(std::to_string(h.status)) !=
            std::string_view::npos);
    return;
  }
  Require(s.code() == absl::StatusCode::kDataLoss);
  if (handshake_ok && !right_proto) {
    Require(why == UpgradeRefusal::kSubprotocol);
  } else {
    Require(why == UpgradeRefusal::kMalformed && (!handshake_ok || !no_ext));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t chunk = size == 0 || data[size - 1] == 0 ? size : data[size - 1];
  // As the pipe reads: append what arrived, parse again, stop once decided.
  std::string head;
  size_t scanned = 0;
  Parsed got = std::optional<ws::HttpHead>();
  for (size_t at = 0; at < size; at += chunk) {
    head.append(in.substr(at, chunk));
    got = ws::ParseResponseHead(head, &scanned);
    if (!got.ok() || got->has_value()) break;
  }
  // The head ends where it ends, however the bytes came.
  Require(Same(got, ws::ParseResponseHead(in)));
  if (!got.ok()) {
    Require(got.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  if (!got->has_value()) {
    Require(size < ws::kMaxHeadSize);
    return 0;
  }
  const ws::HttpHead& h = **got;
  Require(h.head_size <= head.size() && h.head_size <= ws::kMaxHeadSize);
  Require(h.status >= 100 && h.status <= 599);
  CheckReply(h);
  return 0;
}
