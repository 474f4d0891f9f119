// TLS for wss:// pipes, done by msock on bytes that lws only moves: OpenSSL
// (the TLS library Debian's libwebsockets is built on) with memory BIOs, so the
// same code serves listeners and dialers. lws 4.1.6 cannot be used for the
// dialing side (a RAW client with LCCSCF_USE_SSL starts TLS before its socket
// exists and wedges teardown), and one TLS path for both sides keeps the pipe
// logic in one place. Loop thread only, like the pipe that owns it.
#ifndef MSOCK_TRANSPORTS_WS_WS_TLS_H_
#define MSOCK_TRANSPORTS_WS_WS_TLS_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "msock/options.h"

struct ssl_ctx_st;
struct ssl_st;

namespace msock::internal {

// Initialises OpenSSL once, without its clean-up at exit. Any thread.
void InitOpenSsl();

// The certificates and checks of one listener or one dial, built once from the
// socket's TLS options (msock/options.h: kTlsCert, kTlsKey, kTlsCa,
// kTlsVerifyPeer).
class TlsConfig {
 public:
  // A listener: needs a certificate and its key. With a CA and kTlsVerifyPeer
  // it also asks every client for a certificate signed by that CA.
  // kInvalidArgument says which file or setting is wrong.
  static absl::StatusOr<std::shared_ptr<TlsConfig>> ForListener(
      const SocketOptions& o);
  // A dialer: checks the listener's certificate against the CA (or the
  // system's CAs when none is set) unless kTlsVerifyPeer is 0; a certificate
  // and key, when set, are offered to listeners that ask for one.
  static absl::StatusOr<std::shared_ptr<TlsConfig>> ForDialer(
      const SocketOptions& o);
  ~TlsConfig();

  ssl_ctx_st* ctx() const { return ctx_; }
  bool server() const { return server_; }
  bool verify() const { return verify_; }

 private:
  TlsConfig(ssl_ctx_st* ctx, bool server, bool verify)
      : ctx_(ctx), server_(server), verify_(verify) {}
  ssl_ctx_st* ctx_;
  bool server_;
  bool verify_;
};

// One TLS connection. Ciphertext from the network goes in through Receive;
// plaintext to send goes in through Send; ciphertext for the network collects
// in out() until the caller writes it.
class TlsSession {
 public:
  // `server_name` (dialer only): the name sent as SNI (unless it is an IP
  // address, which RFC 6066 forbids there) and checked against the
  // certificate when verifying.
  TlsSession(std::shared_ptr<TlsConfig> config, const std::string& server_name);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Dialer: produces the ClientHello.
  absl::Status Start();
  // Takes `cipher` read from the network and appends the plaintext it carried
  // to *plain. kDataLoss with the reason (bad record, failed handshake, failed
  // certificate check) when the connection cannot go on; out() may then hold
  // an alert worth sending before closing. kCancelled when the peer ended TLS.
  absl::Status Receive(std::string_view cipher, std::string* plain);
  // Encrypts `plain` into out(); before the handshake has finished it is kept
  // and sent right after.
  absl::Status Send(std::string_view plain);
  // Appends a close_notify to out() (once).
  void Shutdown();

  std::string& out() { return out_; }
  bool established() const { return established_; }
  // The subject of the certificate the peer presented, in RFC 2253 form
  // ("CN=alice,O=example"); "" if it presented none (or before the
  // handshake).
  std::string PeerSubject() const;

 private:
  absl::Status Fail(int ssl_result, const char* during);
  void DrainOut();
  absl::Status FlushEarly();

  std::shared_ptr<TlsConfig> config_;
  ssl_st* ssl_ = nullptr;
  std::string out_;
  std::string early_;  // plaintext sent before the handshake finished
  bool established_ = false;
  bool shut_ = false;
};

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_WS_WS_TLS_H_
