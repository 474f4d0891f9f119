// WsHost: the libwebsockets context of one msock Context, on its loop (lws
// "foreign loop"), and the listening ports it serves. lws only moves bytes:
// every connection is a raw socket (msock accepts on its own listening socket
// and hands each connection to lws; dialers connect with method "RAW"), and
// msock's own codec (ws_codec.h) does the HTTP upgrade and the frames. That
// keeps the 101 reply NNG-compatible ("Upgrade: websocket": lws' own ws role
// sends "WebSocket", which NNG dialers refuse), lets one port serve several
// sockets by path, and lets many small messages share one write. Loop thread
// only.
#ifndef MSOCK_TRANSPORTS_WS_WS_HOST_H_
#define MSOCK_TRANSPORTS_WS_WS_HOST_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "msock/context.h"
#include "msock/options.h"
#include "msock/url.h"

struct lws_context;
struct uv_poll_s;
struct uv_timer_s;
struct lws_vhost;
struct lws;

namespace msock::internal {

class PipeHost;
class TlsConfig;
class WsPipe;

// One bound address (host:port) shared by every socket listening on it, each
// under its own path.
class WsHost;
struct WsPort {
  std::string key;  // "127.0.0.1:5555" as bound
  std::string host;
  int port = 0;
  // wss:// ports: every accepted connection starts with a TLS handshake. The
  // first listener sets it; later ones must give the same certificate and key.
  std::shared_ptr<TlsConfig> tls;
  std::string tls_cert, tls_key;
  std::string scheme() const { return tls ? "wss" : "ws"; }
  WsHost* host_ = nullptr;
  int listen_fd = -1;
  uv_poll_s* poll = nullptr;  // readable listen_fd: connections to accept
  // Out of descriptors (EMFILE): `poll` is stopped and this timer starts it
  // again after a back-off, so that a full backlog does not spin the loop.
  uv_timer_s* accept_retry = nullptr;
  // How long an accepted connection may take to send its upgrade request: the
  // kHandshakeTimeout of the socket that bound the port.
  int64_t handshake_timeout_us = 10'000'000;
  // opt::kTcpKeepalive of the socket that last listened here.
  absl::Duration tcp_keepalive = absl::Seconds(60);
  // Path -> the socket listening there.
  std::map<std::string, std::weak_ptr<PipeHost>> paths;
  // Mount path (no trailing slash) -> the directory served there over HTTP.
  std::map<std::string, std::string> mounts;
  // Accepted connections whose upgrade request has not been answered yet.
  std::set<WsPipe*> pending;
};

class WsHost {
 public:
  // The host of `ctx`, created on first use. Loop thread.
  static absl::StatusOr<WsHost*> Get(Context& ctx);

  lws_context* context() { return lws_; }
  lws_vhost* client_vhost() { return client_vhost_; }
  Context& ctx() { return ctx_; }

  // Serves `url.path` on url's address for `core`, binding the address if no
  // socket of this context listens there yet (wss://: with the TLS options of
  // `core`). Returns the port.
  absl::StatusOr<WsPort*> Listen(const Url& url,
                                 std::shared_ptr<PipeHost> core);
  // Stops serving `path`; closes the listening socket when no path is left.
  void Unlisten(WsPort* port, const std::string& path);
  // Serves `dir` over HTTP under url.path (msock/static_files.h). An https://
  // URL shares a wss:// port bound before.
  absl::StatusOr<WsPort*> Mount(const Url& url, const std::string& dir);
  void Unmount(WsPort* port, const std::string& path);

  // The socket serving `path` on `port`, or null.
  static std::shared_ptr<PipeHost> Find(WsPort* port, const std::string& path);
  // Any socket still listening on `port` (to count what happened to a
  // connection before it named its path), or null.
  static std::shared_ptr<PipeHost> AnySocket(WsPort* port);

 private:
  explicit WsHost(Context& ctx) : ctx_(ctx) {}
  absl::Status Start();
  void Stop(absl::AnyInvocable<void()> done);
  static int Callback(lws* wsi, int reason, void* user, void* in, size_t len);
  void Accept(WsPort* port);
  // Stops polling the listening socket of `port` for a while (accept failed
  // for want of descriptors or memory); the connections wait in the backlog.
  void PauseAccept(WsPort* port);
  static void StartAccepting(WsPort* port);
  // The port bound to url's address, binding it if needed.
  absl::StatusOr<WsPort*> Bind(const Url& url, int64_t handshake_timeout_us,
                               const SocketOptions* tls_options);
  void CloseIfUnused(WsPort* port);

  Context& ctx_;
  lws_context* lws_ = nullptr;
  lws_vhost* client_vhost_ = nullptr;
  lws_vhost* server_vhost_ = nullptr;  // takes the accepted connections
  std::map<std::string, std::unique_ptr<WsPort>> ports_;  // by key
};

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_WS_WS_HOST_H_
