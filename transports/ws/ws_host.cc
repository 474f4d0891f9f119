// WsHost: one lws context per msock Context, on its libuv loop, with raw-socket
// vhosts (see ws_host.h for why raw). Teardown follows the order Debian's lws
// 4.1.6 needs on a foreign loop: destroy once, let the loop run until lws'
// handles are closed, destroy again.
#include "transports/ws/ws_host.h"

#include <libwebsockets.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/context_access.h"
#include "base/errors.h"
#include "transports/resolve.h"
#include "transports/ws/ws_pipe.h"
#include "transports/ws/ws_tls.h"

namespace msock::internal {

namespace {

constexpr char kProtocolName[] = "msock-sp-ws";
// How long the listener waits before accepting again after EMFILE.
constexpr uint64_t kAcceptRetryMs = 100;

// The hosts of every live Context (each used on its own loop thread).
std::mutex hosts_mu;
std::unordered_map<Context*, WsHost*>& Hosts() {
  static auto* hosts = new std::unordered_map<Context*, WsHost*>;
  return *hosts;
}

lws_retry_bo_t no_keepalive = {};  // all zero: lws sends no pings of its own

lws_protocols* Protocols() {
  static lws_protocols protocols[2] = {};
  return protocols;
}

}  // namespace

absl::StatusOr<WsHost*> WsHost::Get(Context& ctx) {
  {
    std::lock_guard<std::mutex> lock(hosts_mu);
    auto it = Hosts().find(&ctx);
    if (it != Hosts().end()) return it->second;
  }
  auto* host = new WsHost(ctx);
  if (absl::Status s = host->Start(); !s.ok()) {
    delete host;
    return s;
  }
  {
    std::lock_guard<std::mutex> lock(hosts_mu);
    Hosts()[&ctx] = host;
  }
  ContextAccess::AtStop(ctx, [host](absl::AnyInvocable<void()> done) {
    host->Stop(std::move(done));
  });
  return host;
}

absl::Status WsHost::Start() {
  lws_protocols* p = Protocols();
  if (p[0].name == nullptr) {
    p[0].name = kProtocolName;
    p[0].callback = [](lws* wsi, lws_callback_reasons reason, void* user,
                       void* in, size_t len) {
      return Callback(wsi, reason, user, in, len);
    };
    p[0].rx_buffer_size = 0;
  }
  // MSOCK_LWS_LOG=<lws log bit mask> turns on libwebsockets' own logging
  // (e.g. 15 = errors, warnings, notices, info) to debug a connection.
  const char* log = std::getenv("MSOCK_LWS_LOG");
  lws_set_log_level(log != nullptr ? std::atoi(log) : LLL_ERR, nullptr);
  InitOpenSsl();  // before lws can touch OpenSSL
  lws_context_creation_info info{};
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  void* loops[1] = {ContextAccess::Loop(ctx_)};
  info.foreign_loops = loops;
  info.pt_serv_buf_size = 256 * 1024;  // one read takes up to this much
  info.user = this;
  lws_ = lws_create_context(&info);
  if (lws_ == nullptr) {
    return absl::UnavailableError(
        "ws: cannot create the libwebsockets context (is the package "
        "libwebsockets-evlib-uv installed?)");
  }
  lws_context_creation_info ci{};
  ci.port = CONTEXT_PORT_NO_LISTEN;
  ci.protocols = Protocols();
  ci.vhost_name = "msock-dialer";
  ci.retry_and_idle_policy = &no_keepalive;
  client_vhost_ = lws_create_vhost(lws_, &ci);
  if (client_vhost_ == nullptr) {
    return absl::UnavailableError("ws: cannot create the dialing vhost");
  }
  lws_context_creation_info si{};
  si.port = CONTEXT_PORT_NO_LISTEN_SERVER;
  si.protocols = Protocols();
  si.vhost_name = "msock-accepted";
  si.retry_and_idle_policy = &no_keepalive;
  server_vhost_ = lws_create_vhost(lws_, &si);
  if (server_vhost_ == nullptr) {
    return absl::UnavailableError("ws: cannot create the serving vhost");
  }
  return absl::OkStatus();
}

void WsHost::Stop(absl::AnyInvocable<void()> done) {
  {
    std::lock_guard<std::mutex> lock(hosts_mu);
    Hosts().erase(&ctx_);
  }
  // Destroy #1 starts closing lws' handles; the loop must run until they are
  // gone before destroy #2 frees the context (lws-notes §1.7).
  lws_context_destroy(lws_);
  auto* timer = new uv_timer_t;
  uv_timer_init(ContextAccess::Loop(ctx_), timer);
  struct Wait {
    WsHost* host;
    absl::AnyInvocable<void()> done;
  };
  timer->data = new Wait{this, std::move(done)};
  uv_timer_start(
      timer,
      [](uv_timer_t* t) {
        auto* w = static_cast<Wait*>(t->data);
        // Count lws' handles: they carry the context pointer as data.
        struct Count {
          void* ctx;
          int n;
        } c{w->host->lws_, 0};
        uv_walk(
            t->loop,
            [](uv_handle_t* h, void* arg) {
              auto* c = static_cast<Count*>(arg);
              if (h->data == c->ctx) ++c->n;
            },
            &c);
        if (c.n > 0) return;
        uv_timer_stop(t);
        lws_context_destroy(w->host->lws_);
        delete w->host;
        auto done = std::move(w->done);
        delete w;
        uv_close(reinterpret_cast<uv_handle_t*>(t), [](uv_handle_t* h) {
          delete reinterpret_cast<uv_timer_t*>(h);
        });
        done();
      },
      0, 1);
}

absl::StatusOr<WsPort*> WsHost::Bind(const Url& url,
                                     int64_t handshake_timeout_us,
                                     const SocketOptions* tls_options) {
  const bool wss = url.scheme == "wss" || url.scheme == "https";
  if (url.port != 0) {
    auto it = ports_.find(absl::StrCat(url.host, ":", url.port));
    if (it != ports_.end()) {
      WsPort* port = it->second.get();
      if ((port->tls != nullptr) != wss) {
        return absl::AlreadyExistsError(absl::StrCat("listen ", url.ToString(),
                                                     ": that address serves ",
                                                     port->scheme(), "://"));
      }
      if (wss && tls_options != nullptr &&
          (tls_options->tls_cert != port->tls_cert ||
           tls_options->tls_key != port->tls_key)) {
        return absl::AlreadyExistsError(absl::StrCat(
            "listen ", url.ToString(),
            ": that address serves wss:// with another certificate"));
      }
      return port;
    }
  }
  if (wss && tls_options == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("serve files at ", url.ToString(),
                     ": listen with a wss:// socket on that address first"));
  }
  std::shared_ptr<TlsConfig> tls;
  if (wss) {
    absl::StatusOr<std::shared_ptr<TlsConfig>> config =
        TlsConfig::ForListener(*tls_options);
    if (!config.ok()) {
      return absl::Status(config.status().code(),
                          absl::StrCat("listen ", url.ToString(), ": ",
                                       config.status().message()));
    }
    tls = *std::move(config);
  }
  // msock owns the listening socket (exact bind errors, an immediate close)
  // and gives every accepted connection to lws.
  const std::string what = absl::StrCat("listen ", url.ToString());
  sockaddr_storage ss{};
  const std::string host = url.host.empty() ? "0.0.0.0" : url.host;
  if (!ToSockaddr(host, url.port, &ss)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the host must be a numeric address"));
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return UvError(-errno, what);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  socklen_t len =
      ss.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      listen(fd, 4096) != 0) {  // the kernel caps it at somaxconn
    const int err = errno;
    close(fd);
    return UvError(-err, what);
  }
  len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  auto port = std::make_unique<WsPort>();
  port->host_ = this;
  port->listen_fd = fd;
  port->tls = std::move(tls);
  if (port->tls) {
    port->tls_cert = tls_options->tls_cert;
    port->tls_key = tls_options->tls_key;
  }
  port->host = host;
  port->port = ntohs(ss.ss_family == AF_INET6
                         ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  port->key = absl::StrCat(url.host, ":", port->port);
  port->handshake_timeout_us = handshake_timeout_us;
  port->poll = new uv_poll_t;
  uv_poll_init(ContextAccess::Loop(ctx_), port->poll, fd);
  port->poll->data = port.get();
  StartAccepting(port.get());
  WsPort* raw = port.get();
  ports_[port->key] = std::move(port);
  return raw;
}

absl::StatusOr<WsPort*> WsHost::Listen(const Url& url,
                                       std::shared_ptr<PipeHost> core) {
  const SocketOptions o = core->options();
  absl::StatusOr<WsPort*> port =
      Bind(url, absl::ToInt64Microseconds(o.handshake_timeout), &o);
  if (!port.ok()) return port;
  (*port)->tcp_keepalive = o.tcp_keepalive;
  auto& slot = (*port)->paths[url.path];
  if (!slot.expired() || (*port)->mounts.contains(url.path)) {
    CloseIfUnused(*port);
    return absl::AlreadyExistsError(
        absl::StrCat("listen ", url.ToString(), ": ", url.path,
                     " is already served on this address"));
  }
  slot = core;
  return port;
}

absl::StatusOr<WsPort*> WsHost::Mount(const Url& url, const std::string& dir) {
  absl::StatusOr<WsPort*> port = Bind(url, 10'000'000, nullptr);
  if (!port.ok()) return port;
  std::string path = url.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/") path.clear();
  auto slot = (*port)->paths.find(url.path);
  if ((*port)->mounts.contains(path) ||
      (slot != (*port)->paths.end() && !slot->second.expired())) {
    CloseIfUnused(*port);
    return absl::AlreadyExistsError(absl::StrCat(
        "serve files at ", url.ToString(), ": that path is already served"));
  }
  (*port)->mounts[path] = dir;
  return port;
}

void WsHost::Unmount(WsPort* port, const std::string& path) {
  port->mounts.erase(path);
  CloseIfUnused(port);
}

void WsHost::StartAccepting(WsPort* port) {
  uv_poll_start(port->poll, UV_READABLE, [](uv_poll_t* h, int status, int) {
    if (status < 0) return;
    auto* port = static_cast<WsPort*>(h->data);
    port->host_->Accept(port);
  });
}

void WsHost::PauseAccept(WsPort* port) {
  uv_poll_stop(port->poll);
  if (port->accept_retry == nullptr) {
    port->accept_retry = new uv_timer_t;
    uv_timer_init(ContextAccess::Loop(ctx_), port->accept_retry);
    port->accept_retry->data = port;
  }
  // Descriptors come back when connections close; trying 10 times a second
  // costs nothing and accepts soon after.
  uv_timer_start(
      port->accept_retry,
      [](uv_timer_t* t) { StartAccepting(static_cast<WsPort*>(t->data)); },
      kAcceptRetryMs, 0);
}

void WsHost::Accept(WsPort* port) {
  for (int i = 0; i < 64; ++i) {  // a batch, then back to the loop
    int fd = accept4(port->listen_fd, nullptr, nullptr,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // The listening socket stays readable while the process is out of
      // descriptors: polling it again at once would spin the loop.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        PauseAccept(port);
      }
      return;  // EAGAIN, or an error on that one connection
    }
    std::shared_ptr<WsPipe> pipe = WsPipe::Accepted(this, port);
    lws_adopt_desc_t desc{};
    desc.vh = server_vhost_;
    desc.type = LWS_ADOPT_SOCKET;  // no LWS_ADOPT_HTTP: a raw socket
    desc.fd.sockfd = fd;
    desc.vh_prot_name = kProtocolName;
    desc.opaque = pipe.get();
    lws* wsi = lws_adopt_descriptor_vhost_via_info(&desc);
    if (wsi == nullptr) {  // lws closed fd
      pipe->OnClosed();
      continue;
    }
    pipe->Adopted(wsi);
  }
}

void WsHost::Unlisten(WsPort* port, const std::string& path) {
  port->paths.erase(path);
  CloseIfUnused(port);
}

void WsHost::CloseIfUnused(WsPort* port) {
  for (auto it = port->paths.begin(); it != port->paths.end();) {
    it = it->second.expired() ? port->paths.erase(it) : std::next(it);
  }
  if (!port->paths.empty() || !port->mounts.empty()) return;
  // Connections still in their upgrade have nobody to serve them now.
  for (WsPipe* p : port->pending) {
    p->ForgetPort();
    p->Close(absl::CancelledError("ws: the listener closed"));
  }
  port->pending.clear();
  uv_poll_stop(port->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(port->poll),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  if (port->accept_retry != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(port->accept_retry),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  close(port->listen_fd);
  ports_.erase(port->key);
}

std::shared_ptr<PipeHost> WsHost::Find(WsPort* port, const std::string& path) {
  auto it = port->paths.find(path);
  return it == port->paths.end() ? nullptr : it->second.lock();
}

std::shared_ptr<PipeHost> WsHost::AnySocket(WsPort* port) {
  for (auto& [path, weak] : port->paths) {
    if (auto core = weak.lock()) return core;
  }
  return nullptr;
}

int WsHost::Callback(lws* wsi, int reason, void* /*user*/, void* in,
                     size_t len) {
  auto* pipe = static_cast<WsPipe*>(lws_get_opaque_user_data(wsi));
  switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT:
      if (pipe == nullptr) return -1;  // not one of ours
      pipe->Adopted(wsi);
      return 0;
    case LWS_CALLBACK_RAW_CONNECTED:
      if (pipe != nullptr) pipe->OnConnected();
      return 0;
    case LWS_CALLBACK_RAW_RX:
      if (pipe == nullptr) return -1;
      return pipe->OnReceive(static_cast<const char*>(in), len);
    case LWS_CALLBACK_RAW_WRITEABLE:
      return pipe == nullptr ? -1 : pipe->OnWriteable();
    case LWS_CALLBACK_TIMER:
      return pipe == nullptr ? -1 : pipe->OnTimer();
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (pipe != nullptr) {
        pipe->OnConnectError(in != nullptr
                                 ? std::string(static_cast<const char*>(in))
                                 : "connection failed");
      }
      return 0;
    case LWS_CALLBACK_RAW_CLOSE:
    case LWS_CALLBACK_WSI_DESTROY:
      if (pipe != nullptr) {
        lws_set_opaque_user_data(wsi, nullptr);
        pipe->OnClosed();
      }
      return 0;
    default:
      return 0;
  }
}

}  // namespace msock::internal
