// WsPipe: one WebSocket connection carrying SP messages (sp-wire.md section 5)
// over an lws raw socket, through TLS (ws_tls.h) for wss://. It does the HTTP
// upgrade itself (as the listener or the dialer), then turns frames into
// messages and batches of queued messages into one write of coalesced frames.
// Created and driven on the loop thread; Wake, ResumeRecv and Close may be
// called from any thread.
#ifndef MSOCK_TRANSPORTS_WS_WS_PIPE_H_
#define MSOCK_TRANSPORTS_WS_WS_PIPE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "transports/transport.h"
#include "transports/ws/ws_codec.h"
#include "transports/ws/ws_host.h"
#include "transports/ws/ws_tls.h"

namespace msock::internal {

class WsPipe : public Pipe {
 public:
  // A connection accepted on `port`, about to be handed to lws (the upgrade
  // request is still to come); Adopted gives it its lws handle.
  static std::shared_ptr<WsPipe> Accepted(WsHost* host, WsPort* port);
  void Adopted(lws* wsi);
  // A connection being dialed for `core` to `url`; `done` runs once, when the
  // upgrade succeeded or the attempt failed. `tls` (wss://) makes it start
  // with a TLS handshake.
  static std::shared_ptr<WsPipe> Dialing(WsHost* host,
                                         std::shared_ptr<PipeHost> core,
                                         const Url& url, ConnectDone done,
                                         std::shared_ptr<TlsConfig> tls);

  void Wake() override;
  void WakeOnLoop() override { RequestWrite(); }
  void ResumeRecv() override;
  void Close(absl::Status why) override;

  // lws events (loop thread).
  // Dialer: the connection lws started; arms the connect timeout.
  void Connecting(lws* wsi);
  void OnConnected();                           // dialer: TCP is up
  int OnReceive(const char* data, size_t len);  // <0: close now
  int OnWriteable();
  int OnTimer();
  void OnClosed();  // the wsi is gone
  void OnConnectError(const std::string& why);
  // The listening port went away before the upgrade finished.
  void ForgetPort() { port_ = nullptr; }
  // Closed (or given up) already: nothing more to do with it.
  bool finished() const { return finished_; }

 private:
  WsPipe(WsHost* host, std::shared_ptr<PipeHost> core, bool dialer);
  void CloseOnLoop(absl::Status why, uint16_t code);
  int HandleUpgradeRequest();
  int HandleUpgradeResponse();
  int Decode(const char* data, size_t len);
  // The TLS layer failed (bad handshake, refused certificate, bad record).
  int FailTls(absl::Status why);
  void CountReject(Reject what);
  // The plaintext in out_ (after LWS_PRE) replaced by its ciphertext.
  absl::Status Encrypt();
  // After the upgrade: the options of the socket, the decoder, the pings.
  void StartFrames(bool expect_masked);
  // A plain GET for a file under one of the port's mounts; false if the path
  // is under none. In static_files.cc, with the rest of the file server.
  bool ServeFile(const ws::HttpHead& head, const std::string& path);
  void DeliverInbox();
  // Reading from the peer is on unless paused_ or pong_wait_ says otherwise.
  void ApplyRxFlow();
  // kRecvProgressTimeout: true (and the pipe closing) if the unfinished
  // message made no progress for that long.
  bool Stalled(int64_t now_us);
  // After a read that left a message unfinished: restarts its progress clock
  // and makes sure the timer fires in time for it.
  void NoteProgress(int64_t now_us);
  // Sets the lws timer for the earliest of the next ping and the next
  // progress check (nothing when neither is due).
  void ArmTimer(int64_t now_us);
  // Refuses an upgrade request with an HTTP error, then closes. Counted in
  // rejected_http, and in `count` too unless that is kHttp; nullopt: counted
  // elsewhere (an admission refusal, by Admit).
  int Refuse(int status, const std::string& reason,
             std::optional<Reject> count);
  void CountHttpRefusal(Reject also = Reject::kHttp);
  void QueueRaw(std::string bytes);
  void RequestWrite();
  uint32_t NextMask() { return static_cast<uint32_t>(rng_()); }

  WsHost* host_;
  std::shared_ptr<PipeHost> core_;  // null until a listener's path matched
  const bool dialer_;
  WsPort* port_ = nullptr;  // listener side, until upgraded
  lws* wsi_ = nullptr;
  std::shared_ptr<WsPipe> self_;  // alive while the wsi is
  Url url_;                       // dialer
  ConnectDone done_;              // dialer
  std::string key_;               // dialer: our Sec-WebSocket-Key
  std::string subprotocol_;       // the listener's role name
  bool connected_ = false;        // dialer: TCP is up
  bool upgraded_ = false;
  // Send text frames: kWsText; on a listener, then the type of the peer's
  // latest data frame.
  bool text_ = false;
  int64_t ping_us_ = 0;           // kWsPingInterval, 0 = none
  int64_t last_heard_us_ = 0;     // when the peer last sent anything
  int64_t next_ping_us_ = 0;      // when the next ping is due (pings on)
  int64_t progress_us_ = 0;       // kRecvProgressTimeout, 0 = off
  int64_t last_progress_us_ = 0;  // when the unfinished message last grew
  int64_t timer_at_us_ = 0;       // when the lws timer fires, 0 = not set
  bool attached_ = false;
  bool closing_ = false;
  bool finished_ = false;
  absl::Status why_;

  std::string head_;         // upgrade request / response being read
  size_t head_scanned_ = 0;  // bytes of head_ the parser has checked
  std::optional<ws::FrameDecoder> decoder_;
  bool paused_ = false;     // the socket's receive queue is full
  bool pong_wait_ = false;  // a ping came while its predecessor's pong was
                            // still unwritten: no reading until it is
  bool rx_off_ = false;     // what lws was last told (rx flow control)

  std::string raw_out_;  // bytes to write before any message (101, pings)
  // The payload of the one pong owed: only the latest ping is answered.
  std::optional<std::string> pong_;
  std::string out_;  // the current write buffer (LWS_PRE headroom first)
  bool close_after_write_ = false;
  std::minstd_rand rng_;

  std::unique_ptr<TlsSession> tls_;  // wss:// only
  std::string plain_;                // decrypted bytes of one read
};

// The ws subprotocol name of an SP role: "pair" for pair0, else the role name,
// plus ".sp.nanomsg.org".
std::string WsSubprotocol(const char* role_name);

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_WS_WS_PIPE_H_
