// WsPipe's opening handshake (RFC 6455 section 4 over ws_codec.h): the
// listener reads the upgrade request, asks the socket's admission hook and
// answers 101 or an HTTP error (each refusal counted in rejected_http); the
// dialer checks the listener's 101. The frames that follow are in ws_pipe.cc.
#include <libwebsockets.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "transports/ws/ws_pipe.h"

namespace msock::internal {

void WsPipe::CountHttpRefusal(Reject also) {
  // Before the path is known (malformed request, unknown path) any socket of
  // the port counts it (CountReject).
  CountReject(Reject::kHttp);
  if (also != Reject::kHttp) CountReject(also);
}

int WsPipe::Refuse(int status, const std::string& reason,
                   std::optional<Reject> count) {
  if (count) CountHttpRefusal(*count);
  raw_out_ += ws::ErrorResponse(status,
                                status == 403   ? "Forbidden"
                                : status == 404 ? "Not Found"
                                : status == 426 ? "Upgrade Required"
                                                : "Bad Request",
                                reason);
  closing_ = true;
  close_after_write_ = true;
  why_ = absl::InvalidArgumentError(reason);
  RequestWrite();
  return 0;
}

int WsPipe::HandleUpgradeRequest() {
  absl::StatusOr<std::optional<ws::HttpHead>> req =
      ws::ParseRequestHead(head_, &head_scanned_);
  if (!req.ok()) return Refuse(400, req.status().ToString(), Reject::kHttp);
  if (!req->has_value()) return 0;  // more to come
  const ws::HttpHead& head = **req;
  std::string path = head.target.substr(0, head.target.find('?'));
  if (!head.HasToken("upgrade", "websocket") && ServeFile(head, path)) return 0;
  std::shared_ptr<PipeHost> core =
      port_ == nullptr ? nullptr : WsHost::Find(port_, path);
  if (core == nullptr) {
    return Refuse(404, absl::StrCat("no msock socket at ", path),
                  Reject::kHttp);
  }
  core_ = core;
  subprotocol_ = WsSubprotocol(core_->spec().name);
  ws::UpgradeRefusal refusal = ws::UpgradeRefusal::kMalformed;
  absl::StatusOr<std::string> key =
      ws::CheckUpgradeRequest(head, subprotocol_, &refusal);
  if (!key.ok()) {
    return Refuse(
        ws::HttpStatusFor(refusal), std::string(key.status().message()),
        refusal == ws::UpgradeRefusal::kSubprotocol ? Reject::kProtocol
                                                    : Reject::kHttp);
  }
  // The admission hook decides before we answer: a refused client gets a
  // 403 instead of the 101 (counted by Admit).
  const size_t query = head.target.find('?');
  if (query != std::string::npos) peer.query = head.target.substr(query + 1);
  peer.path = path;
  const std::string* origin = head.Find("origin");
  if (origin != nullptr) peer.origin = *origin;
  peer.headers = head.headers;
  if (tls_ != nullptr) peer.certificate_subject = tls_->PeerSubject();
  if (absl::Status admit = core_->Admit(*this); !admit.ok()) {
    return Refuse(403, std::string(admit.message()), std::nullopt);
  }
  if (port_ != nullptr) port_->pending.erase(this);
  port_ = nullptr;
  raw_out_ += ws::UpgradeResponse(ws::AcceptKey(*key), subprotocol_);
  StartFrames(/*expect_masked=*/true);
  core_->TrackPipe(self_);
  if (!core_->AttachPipe(self_)) {
    CloseOnLoop(absl::ResourceExhaustedError("socket refused the pipe"),
                ws::kCloseNormal);
    return 0;
  }
  attached_ = true;
  RequestWrite();
  const std::string rest = head_.substr(head.head_size);
  head_.clear();
  head_scanned_ = 0;
  return rest.empty() ? 0 : Decode(rest.data(), rest.size());
}

int WsPipe::HandleUpgradeResponse() {
  absl::StatusOr<std::optional<ws::HttpHead>> resp =
      ws::ParseResponseHead(head_, &head_scanned_);
  absl::Status bad;
  ws::UpgradeRefusal refusal = ws::UpgradeRefusal::kMalformed;
  if (!resp.ok()) {
    bad = resp.status();
  } else if (!resp->has_value()) {
    return 0;
  } else {
    bad = ws::CheckUpgradeResponse(**resp, key_, subprotocol_, &refusal);
  }
  if (!bad.ok()) {
    // NNG answers 400 (no reason given) to a dialer of the wrong protocol.
    const bool wrong_protocol =
        refusal == ws::UpgradeRefusal::kSubprotocol ||
        (refusal == ws::UpgradeRefusal::kRefused && (*resp)->status == 400);
    core_->CountReject(wrong_protocol ? Reject::kProtocol : Reject::kBadFrame);
    CloseOnLoop(
        absl::UnavailableError(absl::StrCat("ws upgrade to ", url_.ToString(),
                                            " refused: ", bad.message())),
        ws::kCloseProtocolError);
    return 0;
  }
  StartFrames(/*expect_masked=*/false);
  peer.path = url_.path;
  if (tls_ != nullptr) peer.certificate_subject = tls_->PeerSubject();
  const std::string rest = head_.substr((*resp)->head_size);
  head_.clear();
  head_scanned_ = 0;
  attached_ = true;  // the connector attaches it in done
  if (done_) {
    auto done = std::move(done_);
    done(self_);
  }
  return rest.empty() || finished_ ? 0 : Decode(rest.data(), rest.size());
}

}  // namespace msock::internal
