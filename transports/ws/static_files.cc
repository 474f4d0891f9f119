// StaticFiles (msock/static_files.h): a mount of a directory on a ws:// or
// wss:// port;
// the files themselves are served by WsPipe::ServeFile.
#include "msock/static_files.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/sync.h"
#include "msock/url.h"
#include "transports/ws/ws_host.h"

namespace msock {

using internal::WsHost;
using internal::WsPort;

absl::StatusOr<std::unique_ptr<StaticFiles>> StaticFiles::Serve(
    std::string_view url, std::string dir, Context& ctx) {
  absl::StatusOr<Url> u = ParseUrl(url);
  if (!u.ok()) return u.status();
  if (u->scheme != "ws" && u->scheme != "wss") {
    return absl::InvalidArgumentError(absl::StrCat(
        "serve files at ", std::string(url), ": give a ws:// or wss:// URL"));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("serve files: '", dir, "' is not a directory"));
  }
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  // The port lives on the loop thread: mount there and wait.
  absl::StatusOr<WsPort*> port;
  internal::Event done;
  ctx.Post([&] {
    absl::StatusOr<WsHost*> host = WsHost::Get(ctx);
    port = host.ok() ? (*host)->Mount(*u, dir)
                     : absl::StatusOr<WsPort*>(host.status());
    done.Notify();
  });
  done.Wait();
  if (!port.ok()) return port.status();
  std::string path = u->path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/") path.clear();
  const std::string host = u->host.empty() ? "127.0.0.1" : u->host;
  std::string http = absl::StrCat(u->scheme == "wss" ? "https://" : "http://",
                                  host, ":", (*port)->port, path, "/");
  return std::unique_ptr<StaticFiles>(
      new StaticFiles(ctx, *port, std::move(path), std::move(http)));
}

StaticFiles::~StaticFiles() {
  internal::Event done;
  auto* port = static_cast<WsPort*>(port_);
  ctx_.Post([&] {
    port->host_->Unmount(port, path_);
    done.Notify();
  });
  done.Wait();
}

}  // namespace msock
