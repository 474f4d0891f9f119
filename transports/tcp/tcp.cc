// tcp:// transport: SP over TCP (sp-wire.md section 3), on StreamPipe /
// StreamListener.
#include "transports/tcp/tcp.h"

#include <netdb.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/context_access.h"
#include "base/errors.h"
#include "transports/resolve.h"
#include "transports/stream_pipe.h"

namespace msock::internal {
namespace {

class TcpTransport : public Transport {
 public:
  absl::Status PrepareListen(Url& url) override {
    return ResolveHost(url, true);
  }

  absl::StatusOr<std::unique_ptr<Listener>> Listen(
      const Url& url, std::shared_ptr<PipeHost> core) override {
    sockaddr_storage ss;
    if (!ToSockaddr(url.host, url.port, &ss)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad tcp host '", url.host, "'"));
    }
    auto* any = new uv_any_handle;  // the listener frees it as a uv_any_handle
    uv_tcp_t* server = &any->tcp;
    uv_tcp_init(ContextAccess::Loop(core->context()), server);
    std::string what = absl::StrCat("listen ", url.ToString());
    int rc = uv_tcp_bind(server, reinterpret_cast<sockaddr*>(&ss), 0);
    if (rc < 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(server), [](uv_handle_t* h) {
        delete reinterpret_cast<uv_any_handle*>(h);
      });
      return UvError(rc, what);
    }
    auto l = std::make_unique<StreamListener>(
        std::move(core), false, reinterpret_cast<uv_stream_t*>(server),
        url.ToString(), "");
    // libuv reports a bind conflict (EADDRINUSE) only when listening starts.
    if (absl::Status s = l->Start(); !s.ok()) {
      StreamListener* raw = l.release();
      raw->Close([raw] { delete raw; });
      return s;
    }
    int len = sizeof(ss);
    uv_tcp_getsockname(server, reinterpret_cast<sockaddr*>(&ss), &len);
    Url bound = url;
    bound.port = ntohs(ss.ss_family == AF_INET6
                           ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                           : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    if (bound.host.empty()) bound.host = "0.0.0.0";
    l->set_url(bound.ToString());
    return std::unique_ptr<Listener>(std::move(l));
  }

  void Connect(const Url& url, std::shared_ptr<PipeHost> core,
               ConnectDone done) override {
    ConnectRequest* cr = NewConnectRequest(core, false, url, std::move(done));
    sockaddr_storage ss;
    if (ToSockaddr(url.host, url.port, &ss)) {
      StartConnect(cr, reinterpret_cast<sockaddr*>(&ss));
      return;
    }
    // A host name: resolve on libuv's thread pool, then connect to the first
    // address.
    auto* gai = new uv_getaddrinfo_t;
    gai->data = cr;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    std::string port = std::to_string(url.port);
    int rc = uv_getaddrinfo(
        ContextAccess::Loop(core->context()), gai,
        [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
          auto* cr = static_cast<ConnectRequest*>(req->data);
          delete req;
          if (status < 0 || res == nullptr) {
            OnStreamConnected(&cr->req, status < 0 ? status : UV_EAI_NONAME);
          } else {
            StartConnect(cr, res->ai_addr);
          }
          if (res) uv_freeaddrinfo(res);
        },
        url.host.c_str(), port.c_str(), &hints);
    if (rc < 0) {
      delete gai;
      OnStreamConnected(&cr->req, rc);
    }
  }

 private:
  static void StartConnect(ConnectRequest* cr, const sockaddr* addr) {
    // The socket may have closed the pipe while its name was being resolved.
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(cr->pipe->tcp()))) {
      OnStreamConnected(&cr->req, UV_ECANCELED);
      return;
    }
    int rc =
        uv_tcp_connect(&cr->req, cr->pipe->tcp(), addr, &OnStreamConnected);
    if (rc < 0) OnStreamConnected(&cr->req, rc);
  }
};

}  // namespace

Transport* TcpTransportInstance() {
  static TcpTransport* t = new TcpTransport;
  return t;
}

}  // namespace msock::internal
