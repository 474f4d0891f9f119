// StaticFiles (msock/static_files.h): a mount of a directory on a ws:// or
// wss:// port, and the plain HTTP answers to requests under a mount
// (WsPipe::ServeFile, on the loop thread), with the path guard DecodePath.
#include "msock/static_files.h"

#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/sync.h"
#include "msock/url.h"
#include "transports/ws/static_files.h"
#include "transports/ws/ws_host.h"
#include "transports/ws/ws_pipe.h"

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

namespace msock::internal {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view ContentType(std::string_view path) {
  const size_t dot = path.rfind('.');
  const std::string_view ext =
      dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "txt" || ext == "md") return "text/plain; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "wasm") return "application/wasm";
  return "application/octet-stream";
}

bool DecodePath(std::string_view in, std::string* out) {
  const size_t start = out->size();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      const int hi = i + 2 < in.size() ? HexDigit(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexDigit(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      if (c == '/') return false;  // would change which segments there are
      i += 2;
    }
    if (c == '\0' || c == '\\') return false;
    out->push_back(c);
  }
  // No ".." segment anywhere (decoded, so "%2e%2e" counts too).
  const std::string_view path = std::string_view(*out).substr(start);
  for (size_t seg = 0; seg <= path.size();) {
    size_t end = path.find('/', seg);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(seg, end - seg) == "..") return false;
    seg = end + 1;
  }
  return true;
}

bool WsPipe::ServeFile(const ws::HttpHead& head, const std::string& path) {
  if (port_ == nullptr) return false;
  // The longest mount that is a prefix of the path, on a segment boundary.
  const std::string* dir = nullptr;
  size_t prefix = 0;
  for (const auto& [mount, d] : port_->mounts) {
    if (path.compare(0, mount.size(), mount) == 0 &&
        (path.size() == mount.size() || path[mount.size()] == '/') &&
        (dir == nullptr || mount.size() > prefix)) {
      dir = &d;
      prefix = mount.size();
    }
  }
  if (dir == nullptr) return false;
  closing_ = true;
  close_after_write_ = true;
  if (head.method != "GET" && head.method != "HEAD") {
    raw_out_ += ws::ErrorResponse(405, "Method Not Allowed",
                                  "only GET and HEAD are served here");
    CountHttpRefusal();
    RequestWrite();
    return true;
  }
  std::string rel;
  if (!DecodePath(std::string_view(path).substr(prefix), &rel)) {
    raw_out_ += ws::ErrorResponse(400, "Bad Request", "bad path");
    CountHttpRefusal();
    RequestWrite();
    return true;
  }
  if (rel.empty() || rel.back() == '/') rel += "index.html";
  if (rel[0] != '/') rel.insert(rel.begin(), '/');
  const std::string file = *dir + rel;
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(file, ec);
  const uintmax_t size = regular ? std::filesystem::file_size(file, ec) : 0;
  if (!in || !regular || ec || size > kMaxFileSize) {
    raw_out_ +=
        ws::ErrorResponse(404, "Not Found", absl::StrCat("no file at ", path));
    CountHttpRefusal();
    RequestWrite();
    return true;
  }
  raw_out_ += ws::FileResponseHead(ContentType(rel), size);
  if (head.method == "GET") {
    const size_t at = raw_out_.size();
    raw_out_.resize(at + size);
    in.read(&raw_out_[at], static_cast<std::streamsize>(size));
  }
  RequestWrite();
  return true;
}

}  // namespace msock::internal
