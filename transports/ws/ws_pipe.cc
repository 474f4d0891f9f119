// WsPipe: the SP WebSocket mapping over an lws raw socket: the opening
// handshake (ws_upgrade.cc), then frames both ways. Reads are decoded as they come; writes
// take up to kMaxBatchBytes of queued messages and send their frames in one
// lws_write.
#include "transports/ws/ws_pipe.h"

#include <libwebsockets.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transports/tcp/tcp_keepalive.h"

namespace msock::internal {

namespace {

constexpr size_t kMaxBatchBytes = 256 * 1024;
// Frames we send are at most this long (NNG refuses frames over 1 MiB; its
// listener itself uses 64 KiB).
constexpr size_t kMaxFrame = 64 * 1024;

std::string PeerAddress(lws* wsi) {
  char name[64] = "";
  lws_get_peer_simple(wsi, name, sizeof(name));
  return name;
}

}  // namespace

std::string WsSubprotocol(const char* role_name) {
  std::string_view n(role_name);
  if (n == "pair0") n = "pair";
  return absl::StrCat(std::string(n), ".sp.nanomsg.org");
}

WsPipe::WsPipe(WsHost* host, std::shared_ptr<PipeHost> core, bool dialer)
    : host_(host),
      core_(std::move(core)),
      dialer_(dialer),
      rng_(std::random_device{}()) {}

std::shared_ptr<WsPipe> WsPipe::Accepted(WsHost* host, WsPort* port) {
  std::shared_ptr<WsPipe> p(new WsPipe(host, nullptr, false));
  p->self_ = p;
  p->port_ = port;
  port->pending.insert(p.get());
  p->local_address =
      absl::StrCat(port->scheme(), "://", port->host, ":", port->port);
  if (port->tls) p->tls_ = std::make_unique<TlsSession>(port->tls, "");
  return p;
}

void WsPipe::Adopted(lws* wsi) {
  if (wsi_ != nullptr) return;  // RAW_ADOPT came first
  wsi_ = wsi;
  remote_address = PeerAddress(wsi);
  // The upgrade request must come within the handshake timeout (of the socket
  // that bound the port: which socket it is for is not known yet).
  if (port_ != nullptr) {
    lws_set_timer_usecs(wsi, port_->handshake_timeout_us);
    // As StreamPipe: without a setting the kernel's defaults stay.
    ApplyTcpKeepalive(lws_get_socket_fd(wsi), port_->tcp_keepalive)
        .IgnoreError();
  }
}

void WsPipe::Connecting(lws* wsi) {
  wsi_ = wsi;
  const absl::Duration timeout = core_->options().connect_timeout;
  if (timeout <= absl::ZeroDuration()) return;
  lws_set_timer_usecs(wsi, absl::ToInt64Microseconds(timeout));
  // lws 4.1.6 on libuv re-arms its own timer only when it services an event:
  // a timer set outside a callback, on a connection that hears nothing (a SYN
  // into a cut link), would never fire without this wake-up.
  lws_cancel_service(host_->context());
}

std::shared_ptr<WsPipe> WsPipe::Dialing(WsHost* host,
                                        std::shared_ptr<PipeHost> core,
                                        const Url& url, ConnectDone done,
                                        std::shared_ptr<TlsConfig> tls) {
  std::shared_ptr<WsPipe> p(new WsPipe(host, std::move(core), true));
  p->self_ = p;
  if (tls) {
    std::string name = p->core_->options().tls_server_name;
    p->tls_ = std::make_unique<TlsSession>(std::move(tls),
                                           name.empty() ? url.host : name);
  }
  p->url_ = url;
  p->peer.dialed = true;
  p->done_ = std::move(done);
  p->subprotocol_ = WsSubprotocol(p->core_->spec().peer_name);
  p->remote_address = url.ToString();
  p->core_->TrackPipe(p);
  return p;
}

// ---- any thread ----

void WsPipe::Wake() {
  std::shared_ptr<WsPipe> self =
      std::static_pointer_cast<WsPipe>(shared_from_this());
  host_->ctx().Post([self] { self->RequestWrite(); });
}

void WsPipe::ResumeRecv() {
  std::shared_ptr<WsPipe> self =
      std::static_pointer_cast<WsPipe>(shared_from_this());
  host_->ctx().Post([self] {
    if (self->finished_) return;
    self->DeliverInbox();
  });
}

void WsPipe::Close(absl::Status why) {
  std::shared_ptr<WsPipe> self =
      std::static_pointer_cast<WsPipe>(shared_from_this());
  host_->ctx().Post([self, why = std::move(why)] {
    self->CloseOnLoop(why, ws::kCloseNormal);
  });
}

// ---- loop thread ----

void WsPipe::RequestWrite() {
  if (wsi_ != nullptr && !finished_) lws_callback_on_writable(wsi_);
}

void WsPipe::QueueRaw(std::string bytes) {
  raw_out_ += bytes;
  RequestWrite();
}

void WsPipe::CloseOnLoop(absl::Status why, uint16_t code) {
  if (finished_ || closing_) return;
  closing_ = true;
  why_ = std::move(why);
  if (wsi_ == nullptr) {
    OnClosed();
    return;
  }
  if (upgraded_) {
    // A close frame first, then the connection (from the timer: closing
    // inside an lws callback would cut the frame off, lws-notes pitfall 4).
    std::string reason(why_.ok() ? "" : why_.message());
    std::string frame;
    ws::AppendFrame(&frame, ws::kClose, true, dialer_, NextMask(),
                    {ws::ClosePayload(code, reason)});
    raw_out_ += frame;
  }
  close_after_write_ = true;
  RequestWrite();
  // If the peer never lets us write, give up after a second.
  lws_set_timer_usecs(wsi_, LWS_US_PER_SEC);
}

void WsPipe::OnConnected() {
  connected_ = true;
  ApplyTcpKeepalive(lws_get_socket_fd(wsi_), core_->options().tcp_keepalive)
      .IgnoreError();
  if (tls_ != nullptr) {
    if (absl::Status s = tls_->Start(); !s.ok()) {
      FailTls(s);
      return;
    }
  }
  key_ = ws::NewClientKey();
  std::string host = url_.host.find(':') != std::string::npos
                         ? absl::StrCat("[", url_.host, "]")
                         : url_.host;
  QueueRaw(ws::UpgradeRequest(absl::StrCat(host, ":", url_.port), url_.path,
                              key_, subprotocol_,
                              core_->options().ws_request_headers));
  local_address = absl::StrCat(tls_ ? "wss://" : "ws://", PeerAddress(wsi_));
  lws_set_timer_usecs(
      wsi_, absl::ToInt64Microseconds(core_->options().handshake_timeout));
}

void WsPipe::OnConnectError(const std::string& why) {
  if (done_) {
    auto done = std::move(done_);
    if (!why_.ok()) {  // we gave up first (the connect timeout)
      done(why_);
      return;
    }
    done(absl::UnavailableError(
        absl::StrCat("connect ", url_.ToString(), ": ", why)));
  }
}

int WsPipe::OnReceive(const char* data, size_t len) {
  if (finished_ || closing_) return 0;
  last_heard_us_ = lws_now_usecs();
  if (tls_ != nullptr) {
    plain_.clear();
    absl::Status s = tls_->Receive(std::string_view(data, len), &plain_);
    if (!tls_->out().empty()) RequestWrite();  // handshake, alerts
    if (!s.ok()) return FailTls(std::move(s));
    if (plain_.empty()) return 0;
    data = plain_.data();
    len = plain_.size();
  }
  if (upgraded_) return Decode(data, len);
  head_.append(data, len);
  return dialer_ ? HandleUpgradeResponse() : HandleUpgradeRequest();
}

void WsPipe::CountReject(Reject what) {
  // Before the upgrade a pipe has no socket yet: the port's counts for it.
  std::shared_ptr<PipeHost> core =
      core_ ? core_ : (port_ ? WsHost::AnySocket(port_) : nullptr);
  if (core != nullptr) core->CountReject(what);
}

int WsPipe::FailTls(absl::Status why) {
  if (!absl::IsCancelled(why)) CountReject(Reject::kBadFrame);
  why_ = dialer_ ? absl::UnavailableError(absl::StrCat(
                       "connect ", url_.ToString(), ": ", why.message()))
                 : std::move(why);
  closing_ = true;
  close_after_write_ = true;  // after the alert, if TLS made one
  RequestWrite();
  return 0;
}

absl::Status WsPipe::Encrypt() {
  absl::Status s = tls_->Send(std::string_view(out_).substr(LWS_PRE));
  if (close_after_write_) tls_->Shutdown();
  out_.resize(LWS_PRE);
  out_ += tls_->out();
  tls_->out().clear();
  return s;
}

void WsPipe::StartFrames(bool expect_masked) {
  upgraded_ = true;
  SocketOptions o = core_->options();
  // A listener takes both frame types and answers each peer in the type of
  // its latest data frame (kWsText until it sent one), so one port serves
  // browsers (text) and binary peers; a dialer sends and takes one type only,
  // binary by default as NNG wants.
  text_ = o.ws_text;
  decoder_.emplace(ws::FrameDecoder::Options{expect_masked, o.max_recv_size,
                                             /*allow_text=*/text_ || !dialer_,
                                             core_->unfinished_budget()});
  ping_us_ = absl::ToInt64Microseconds(o.ws_ping_interval);
  progress_us_ = absl::ToInt64Microseconds(o.recv_progress_timeout);
  const int64_t now = lws_now_usecs();
  last_heard_us_ = now;
  next_ping_us_ = now + ping_us_;
  ArmTimer(now);
}

void WsPipe::NoteProgress(int64_t now_us) {
  if (progress_us_ <= 0 || !decoder_ || !decoder_->mid_message()) return;
  last_progress_us_ = now_us;
  const int64_t due = now_us + progress_us_;
  if (timer_at_us_ == 0 || timer_at_us_ > due) ArmTimer(now_us);
}

void WsPipe::ArmTimer(int64_t now_us) {
  if (closing_ || finished_) return;  // CloseOnLoop set its own timer
  int64_t due = ping_us_ > 0 ? next_ping_us_ : 0;
  if (progress_us_ > 0 && !rx_off_ && decoder_ && decoder_->mid_message()) {
    const int64_t check = last_progress_us_ + progress_us_;
    if (due == 0 || check < due) due = check;
  }
  timer_at_us_ = due;
  if (due == 0 || wsi_ == nullptr)
    return;  // a set timer fires and finds
             // nothing due
  lws_set_timer_usecs(wsi_, std::max<int64_t>(due - now_us, 1));
}

bool WsPipe::Stalled(int64_t now_us) {
  if (progress_us_ <= 0 || rx_off_ || !decoder_ || !decoder_->mid_message())
    return false;
  const int64_t idle = now_us - last_progress_us_;
  if (idle < progress_us_) return false;
  core_->CountReject(Reject::kStalled);
  CloseOnLoop(absl::DeadlineExceededError(absl::StrCat(
                  "ws: peer sent nothing more of its unfinished message for ",
                  idle / 1000, " ms (recv-progress-timeout)")),
              ws::kClosePolicyViolation);
  return true;
}

int WsPipe::Decode(const char* data, size_t len) {
  const bool was_mid = decoder_->mid_message();
  const uint64_t data_before = decoder_->data_bytes();
  ws::FrameDecoder::Events ev;
  ev.message = [this](Message m, bool text) {
    if (!dialer_) text_ = text;
    inbox_.push_back(std::move(m));
  };
  ev.ping = [this](std::string_view payload) {
    // One pong owed at most (RFC 6455 5.5.3: answer the latest ping), so a
    // peer that pings without reading cannot grow our memory. A ping before
    // the last one's pong was written means our output drains slower than
    // the peer pings: we read nothing more until the pong is out
    // (OnWriteable), so a peer flooding pings at an output that is stuck
    // costs no CPU either. (lws alone stops reading only while it holds
    // bytes the kernel did not take, not when a write fitted exactly.)
    if (pong_.has_value()) {
      core_->CountReject(Reject::kPongDropped);
      if (!pong_wait_) {
        pong_wait_ = true;
        ApplyRxFlow();
      }
    }
    pong_.emplace(payload);
    RequestWrite();
  };
  ev.close = [this](uint16_t code, std::string_view reason) {
    CloseOnLoop(
        absl::CancelledError(absl::StrCat("peer closed the websocket (", code,
                                          " ", std::string(reason), ")")),
        ws::kCloseNormal);
  };
  absl::Status s = decoder_->Feed(std::string_view(data, len), ev);
  // Progress: a message began, or bytes of data frames came (control frames
  // alone do not keep an unfinished message alive).
  if (s.ok() && (!was_mid || decoder_->data_bytes() != data_before)) {
    NoteProgress(lws_now_usecs());
  }
  if (!inbox_.empty() && !paused_) DeliverInbox();
  if (!s.ok()) {
    const uint16_t code = decoder_->close_code();
    core_->CountReject(decoder_->over_budget()    ? Reject::kUnfinishedLimit
                       : code == ws::kCloseTooBig ? Reject::kOversize
                                                  : Reject::kBadFrame);
    closing_ = false;  // a peer close frame may have set it; send ours
    CloseOnLoop(absl::DataLossError(absl::StrCat("ws: ", s.message())),
                code == 0 ? ws::kCloseProtocolError : code);
  }
  return 0;
}

void WsPipe::DeliverInbox() {
  if (inbox_next_ >= inbox_.size()) return;
  if (Pipe::DeliverInbox(*core_)) {
    if (paused_) {
      paused_ = false;
      ApplyRxFlow();
    }
  } else if (!paused_) {
    paused_ = true;  // ResumeRecv will come
    ApplyRxFlow();
  }
}

void WsPipe::ApplyRxFlow() {
  const bool off = paused_ || pong_wait_;
  if (off == rx_off_) return;
  rx_off_ = off;
  if (wsi_ != nullptr) lws_rx_flow_control(wsi_, off ? 0 : 1);
  if (!off) NoteProgress(lws_now_usecs());  // the peer's clock restarts now
}

int WsPipe::OnWriteable() {
  if (finished_) return -1;
  out_.assign(LWS_PRE, '\0');
  out_ += raw_out_;
  raw_out_.clear();
  if (pong_.has_value()) {
    // Never after our close frame (RFC 6455 5.5.1).
    if (!closing_) {
      ws::AppendFrame(&out_, ws::kPong, true, dialer_, NextMask(), {*pong_});
    }
    pong_.reset();
    if (pong_wait_) {
      pong_wait_ = false;  // written (lws takes it all): read again
      ApplyRxFlow();
    }
  }
  size_t taken = 0;
  if (upgraded_ && attached_ && !closing_ && core_) {
    std::vector<Message> batch;
    taken = core_->TakeSend(this, &batch, kMaxBatchBytes);
    for (const Message& m : batch) {
      ws::AppendMessage(&out_, m, text_, kMaxFrame, dialer_,
                        [this] { return NextMask(); });
    }
  }
  if (tls_ != nullptr) {
    if (absl::Status s = Encrypt(); !s.ok()) {
      why_ = std::move(s);
      return -1;
    }
  }
  const size_t len = out_.size() - LWS_PRE;
  if (len > 0) {
    int n = lws_write(wsi_, reinterpret_cast<unsigned char*>(&out_[LWS_PRE]),
                      len, LWS_WRITE_RAW);
    if (n < 0) {
      why_ = absl::UnavailableError("ws: write failed (peer gone)");
      return -1;
    }
  }
  if (close_after_write_) {
    // Close once lws has written out what the kernel did not take yet.
    if (lws_partial_buffered(wsi_)) {
      lws_callback_on_writable(wsi_);
      return 0;
    }
    return -1;
  }
  if (taken > 0 || !raw_out_.empty()) lws_callback_on_writable(wsi_);
  return 0;
}

int WsPipe::OnTimer() {
  if (closing_) return -1;
  if (upgraded_) {
    // The handshake timer of an upgraded connection is left to run out (lws
    // 4.1.6 fires a "cancelled" timer at once instead of removing it). After
    // the upgrade the timer serves the pings and the progress timeout: it
    // fires for the earlier of the two (ArmTimer).
    const int64_t now = lws_now_usecs();
    timer_at_us_ = 0;
    if (Stalled(now)) return 0;
    if (ping_us_ > 0 && now >= next_ping_us_) {
      const int64_t silent = now - last_heard_us_;
      if (silent >= 3 * ping_us_) {
        CloseOnLoop(absl::DeadlineExceededError(absl::StrCat(
                        "ws: peer silent for ", silent / 1000, " ms")),
                    ws::kCloseNormal);
        return 0;
      }
      ws::AppendFrame(&raw_out_, ws::kPing, true, dialer_, NextMask(), {});
      RequestWrite();
      next_ping_us_ = now + ping_us_;
    }
    ArmTimer(now);
    return 0;
  }
  if (dialer_ && !connected_) {
    why_ = absl::DeadlineExceededError(absl::StrCat(
        "connect ", url_.ToString(), ": no answer within ",
        absl::ToInt64Milliseconds(core_->options().connect_timeout),
        " ms (connect-timeout)"));
    return -1;
  }
  // The upgrade did not finish in time.
  CountReject(Reject::kHandshakeTimeout);
  why_ = absl::DeadlineExceededError("ws: upgrade not finished in time");
  return -1;
}

void WsPipe::OnClosed() {
  if (finished_) return;
  finished_ = true;
  wsi_ = nullptr;
  decoder_.reset();  // gives its bytes back to the socket's budget
  if (port_ != nullptr) port_->pending.erase(this);
  if (why_.ok() && !closing_) {
    // A peer that refuses our certificate may send its alert and reset the
    // connection at once; the reset can reach lws before the alert is read.
    // A TLS handshake the peer started and broke off counts as refused.
    if (tls_ != nullptr && !tls_->established() && !dialer_ &&
        last_heard_us_ != 0) {
      CountReject(Reject::kBadFrame);
      why_ = absl::UnavailableError("wss: peer left during the TLS handshake");
    } else {
      why_ = absl::UnavailableError("ws: peer gone");
    }
  }
  std::shared_ptr<WsPipe> keep = std::move(self_);
  if (done_) {
    auto done = std::move(done_);
    done(why_.ok() ? absl::UnavailableError(absl::StrCat(
                         "connect ", url_.ToString(), ": connection closed"))
                   : why_);
  }
  if (core_) FinishClose(*core_, why_, /*tracked=*/true);
}

}  // namespace msock::internal
