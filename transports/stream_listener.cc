// StreamListener and stream connection attempts: the accepting and dialing
// side of the SP stream mapping (tcp and ipc). Each accepted or connected
// handle becomes a StreamPipe, which exchanges SP headers before it is
// attached to the host.
#include <sys/socket.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/errors.h"
#include "transports/stream_pipe.h"

namespace msock::internal {

namespace {

// "tcp://host:port" of one end of a connected tcp handle (getsockname or
// getpeername).
std::string TcpAddress(const uv_tcp_t* tcp,
                       int (*get)(const uv_tcp_t*, sockaddr*, int*)) {
  sockaddr_storage ss;
  int len = sizeof(ss);
  char host[64] = "";
  if (get(tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    uv_ip4_name(a, host, sizeof(host));
    return absl::StrCat("tcp://", host, ":", ntohs(a->sin_port));
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
  uv_ip6_name(a, host, sizeof(host));
  return absl::StrCat("tcp://[", host, "]:", ntohs(a->sin6_port));
}

// ipc: the peer process's credentials, for the admission hook (left -1 if the
// kernel does not say).
void ReadPeerCredentials(StreamPipe* pipe) {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(pipe->unix_pipe()), &fd) != 0) {
    return;
  }
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return;
  pipe->peer.uid = cred.uid;
  pipe->peer.gid = cred.gid;
  pipe->peer.pid = cred.pid;
}

}  // namespace

StreamListener::StreamListener(std::shared_ptr<PipeHost> core, bool ipc,
                               uv_stream_t* server, std::string url,
                               std::string unlink_path)
    : core_(std::move(core)),
      ipc_(ipc),
      server_(server),
      url_(std::move(url)),
      unlink_path_(std::move(unlink_path)) {
  server_->data = this;
}

StreamListener::~StreamListener() = default;

absl::Status StreamListener::Start() {
  int rc = uv_listen(server_, 4096, &StreamListener::OnConnection);
  if (rc < 0) return UvError(rc, absl::StrCat("listen ", url_));
  return absl::OkStatus();
}

void StreamListener::OnConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<StreamListener*>(server->data);
  if (status < 0) return;  // e.g. EMFILE: libuv retries on the next connection
  std::shared_ptr<StreamPipe> pipe =
      StreamPipe::Create(self->core_, self->ipc_);
  if (uv_accept(server, pipe->stream()) != 0) {
    pipe->Close(absl::UnavailableError("accept failed"));
    return;
  }
  if (self->ipc_) {
    pipe->local_address = self->url_;
    pipe->remote_address = self->url_;
    ReadPeerCredentials(pipe.get());
  } else {
    pipe->remote_address = TcpAddress(pipe->tcp(), uv_tcp_getpeername);
    pipe->local_address = self->url_;
  }
  std::weak_ptr<StreamPipe> weak = pipe;
  std::shared_ptr<PipeHost> core = self->core_;
  pipe->Start([weak, core](absl::Status s) {
    auto p = weak.lock();
    if (!s.ok() || !p) return;
    if (!core->AttachPipe(p)) {
      p->Close(absl::ResourceExhaustedError(
          "socket refused the pipe (closed or at its limit)"));
    }
  });
}

void StreamListener::Close(absl::AnyInvocable<void()> done) {
  done_ = std::move(done);
  if (!unlink_path_.empty()) unlink(unlink_path_.c_str());
  uv_close(reinterpret_cast<uv_handle_t*>(server_), [](uv_handle_t* h) {
    auto* self = static_cast<StreamListener*>(h->data);
    delete reinterpret_cast<uv_any_handle*>(h);
    auto done = std::move(self->done_);
    done();  // may delete self
  });
}

ConnectRequest* NewConnectRequest(std::shared_ptr<PipeHost> core, bool ipc,
                                  const Url& url, ConnectDone done) {
  const absl::Duration timeout = core->options().connect_timeout;
  auto* cr = new ConnectRequest;
  cr->req.data = cr;
  cr->remote = url.ToString();
  cr->done = std::move(done);
  cr->pipe = StreamPipe::Create(std::move(core), ipc);
  cr->pipe->peer.dialed = true;
  if (ipc) cr->pipe->local_address = cr->remote;  // tcp: set once connected
  // Covers name resolution too (tcp resolves before connecting).
  cr->pipe->StartConnectTimer(timeout);
  return cr;
}

void OnStreamConnected(uv_connect_t* req, int status) {
  std::unique_ptr<ConnectRequest> cr(static_cast<ConnectRequest*>(req->data));
  if (status < 0) {
    absl::Status why = UvError(status, absl::StrCat("connect ", cr->remote));
    if (const absl::Status& timeout = cr->pipe->connect_timeout_error();
        !timeout.ok()) {
      why = absl::DeadlineExceededError(
          absl::StrCat("connect ", cr->remote, ": ", timeout.message()));
    }
    cr->pipe->Close(why);
    cr->done(why);
    return;
  }
  std::shared_ptr<StreamPipe> pipe = cr->pipe;
  pipe->remote_address = cr->remote;
  if (pipe->local_address.empty()) {
    // tcp: the address the kernel picked for us.
    pipe->local_address = TcpAddress(pipe->tcp(), uv_tcp_getsockname);
  } else {
    ReadPeerCredentials(pipe.get());  // ipc
  }
  auto done = std::make_shared<ConnectDone>(std::move(cr->done));
  std::weak_ptr<StreamPipe> weak = pipe;
  pipe->Start([weak, done](absl::Status s) {
    if (!s.ok()) {
      (*done)(s);
      return;
    }
    auto p = weak.lock();
    if (!p) {
      (*done)(absl::UnavailableError("pipe closed during handshake"));
      return;
    }
    (*done)(std::static_pointer_cast<Pipe>(p));
  });
}

}  // namespace msock::internal
