// ws:// and wss:// transport: SP over WebSocket (sp-wire.md section 5) on
// libwebsockets' raw sockets (ws_host.h), msock's own upgrade and frame codec
// (ws_pipe.h) and, for wss://, TLS through OpenSSL (ws_tls.h).
// Sockets of one Context share a port when they listen on the same address
// with different paths.
#include "transports/ws/ws.h"

#include <libwebsockets.h>
#include <netdb.h>
#include <uv.h>

#include "absl/strings/str_cat.h"
#include "base/context_access.h"
#include "transports/resolve.h"
#include "transports/ws/ws_host.h"
#include "transports/ws/ws_pipe.h"
#include "transports/ws/ws_tls.h"

namespace msock::internal {
namespace {

bool IsNumeric(const std::string& host) {
  sockaddr_storage ss;
  return !host.empty() && ToSockaddr(host, 0, &ss);
}

class WsListener : public Listener {
 public:
  WsListener(WsHost* host, WsPort* port, std::string path, std::string url)
      : host_(host),
        port_(port),
        path_(std::move(path)),
        url_(std::move(url)) {}
  std::string url() const override { return url_; }
  void Close(absl::AnyInvocable<void()> done) override {
    host_->Unlisten(port_, path_);
    done();
  }

 private:
  WsHost* host_;
  WsPort* port_;
  std::string path_;
  std::string url_;
};

// Starts the TCP connection of `pipe` to the numeric address `ip`.
void StartConnect(WsHost* host, const std::shared_ptr<WsPipe>& pipe,
                  const Url& url, const std::string& ip) {
  // The socket may have closed the pipe while its name was being resolved.
  if (pipe->finished()) return;
  lws_client_connect_info i{};
  i.context = host->context();
  i.vhost = host->client_vhost();
  i.address = ip.c_str();
  i.port = url.port;
  i.path = url.path.c_str();
  i.host = url.host.c_str();
  i.method = "RAW";  // lws connects; msock speaks HTTP and WebSocket itself
  i.local_protocol_name = "msock-sp-ws";
  i.protocol = "msock-sp-ws";
  i.opaque_user_data = pipe.get();
  lws* wsi = lws_client_connect_via_info(&i);
  if (wsi == nullptr) {
    pipe->OnConnectError("cannot start the connection");
    pipe->OnClosed();
    return;
  }
  pipe->Connecting(wsi);
}

class WsTransport : public Transport {
 public:
  absl::Status PrepareListen(Url& url) override {
    return ResolveHost(url, /*passive=*/true);
  }

  absl::StatusOr<std::unique_ptr<Listener>> Listen(
      const Url& url, std::shared_ptr<PipeHost> core) override {
    absl::StatusOr<WsHost*> host = WsHost::Get(core->context());
    if (!host.ok()) return host.status();
    absl::StatusOr<WsPort*> port = (*host)->Listen(url, core);
    if (!port.ok()) return port.status();
    Url bound = url;
    bound.port = (*port)->port;
    if (bound.host.empty()) bound.host = "0.0.0.0";
    return std::unique_ptr<Listener>(
        new WsListener(*host, *port, url.path, bound.ToString()));
  }

  void Connect(const Url& url, std::shared_ptr<PipeHost> core,
               ConnectDone done) override {
    std::shared_ptr<TlsConfig> tls;
    if (url.scheme == "wss") {
      absl::StatusOr<std::shared_ptr<TlsConfig>> config =
          TlsConfig::ForDialer(core->options());
      if (!config.ok()) {
        done(absl::Status(config.status().code(),
                          absl::StrCat("connect ", url.ToString(), ": ",
                                       config.status().message())));
        return;
      }
      tls = *std::move(config);
    }
    absl::StatusOr<WsHost*> host = WsHost::Get(core->context());
    if (!host.ok()) {
      done(host.status());
      return;
    }
    std::shared_ptr<WsPipe> pipe = WsPipe::Dialing(
        *host, std::move(core), url, std::move(done), std::move(tls));
    if (IsNumeric(url.host)) {
      StartConnect(*host, pipe, url, url.host);
      return;
    }
    // lws would resolve names with a blocking call on the loop thread: resolve
    // on libuv's pool first, then dial the address.
    struct Resolve {
      uv_getaddrinfo_t req;
      WsHost* host;
      std::shared_ptr<WsPipe> pipe;
      Url url;
    };
    auto* r = new Resolve{{}, *host, pipe, url};
    r->req.data = r;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = uv_getaddrinfo(
        ContextAccess::Loop((*host)->ctx()), &r->req,
        [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
          auto* r = static_cast<Resolve*>(req->data);
          std::string name;
          if (status == 0 && res != nullptr) name = AddressText(res->ai_addr);
          if (res) uv_freeaddrinfo(res);
          if (name.empty()) {
            r->pipe->OnConnectError(
                absl::StrCat("cannot resolve host '", r->url.host, "'"));
            r->pipe->OnClosed();
          } else {
            StartConnect(r->host, r->pipe, r->url, name);
          }
          delete r;
        },
        url.host.c_str(), nullptr, &hints);
    if (rc < 0) {
      delete r;
      pipe->OnConnectError("cannot start name resolution");
      pipe->OnClosed();
    }
  }
};

}  // namespace

Transport* WsTransportInstance() {
  static WsTransport* t = new WsTransport;
  return t;
}

}  // namespace msock::internal
