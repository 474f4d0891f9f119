// ipc:// transport: SP over AF_UNIX stream sockets (sp-wire.md section 4: type
// byte 0x01 per message), on StreamPipe / StreamListener. A stale socket file
// (nobody answers on it) is removed before binding; a live one gives
// kAlreadyExists.
#include "transports/ipc/ipc.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/context_access.h"
#include "base/errors.h"
#include "transports/stream_pipe.h"

namespace msock::internal {
namespace {

// True if a process accepts connections on the unix socket at `path`.
bool SomeoneListens(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
  bool live = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 ||
              errno == EAGAIN;
  close(fd);
  return live;
}

class IpcTransport : public Transport {
 public:
  absl::Status PrepareListen(Url& url) override {
    struct stat st;
    if (lstat(url.path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
      return absl::OkStatus();
    if (SomeoneListens(url.path)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "listen ", url.ToString(), ": a live socket is already there"));
    }
    unlink(url.path.c_str());  // stale: left by a process that died
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Listener>> Listen(
      const Url& url, std::shared_ptr<PipeHost> core) override {
    auto* any = new uv_any_handle;  // the listener frees it as a uv_any_handle
    uv_pipe_t* server = &any->pipe;
    uv_pipe_init(ContextAccess::Loop(core->context()), server, 0);
    std::string what = absl::StrCat("listen ", url.ToString());
    int rc = uv_pipe_bind(server, url.path.c_str());
    if (rc < 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(server), [](uv_handle_t* h) {
        delete reinterpret_cast<uv_any_handle*>(h);
      });
      return UvError(rc, what);
    }
    auto l = std::make_unique<StreamListener>(
        std::move(core), true, reinterpret_cast<uv_stream_t*>(server),
        url.ToString(), url.path);
    if (absl::Status s = l->Start(); !s.ok()) {
      StreamListener* raw = l.release();
      raw->Close([raw] { delete raw; });
      return s;
    }
    return std::unique_ptr<Listener>(std::move(l));
  }

  void Connect(const Url& url, std::shared_ptr<PipeHost> core,
               ConnectDone done) override {
    ConnectRequest* cr =
        NewConnectRequest(std::move(core), true, url, std::move(done));
    uv_pipe_connect(&cr->req, cr->pipe->unix_pipe(), url.path.c_str(),
                    &OnStreamConnected);
  }
};

}  // namespace

Transport* IpcTransportInstance() {
  static IpcTransport* t = new IpcTransport;
  return t;
}

}  // namespace msock::internal
