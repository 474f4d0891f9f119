// msock/static_files.h: serves a directory over plain HTTP on the port of
// msock's ws:// sockets, so that a web page and the sockets it talks to come
// from one origin (one URL, no second server).
//
// Example (a page at http://127.0.0.1:8080/app/index.html whose script dials
// ws://127.0.0.1:8080/rep):
//   msock::Rep rep;
//   rep.Listen("ws://127.0.0.1:8080/rep").IgnoreError();
//   absl::StatusOr<std::unique_ptr<msock::StaticFiles>> files =
//       msock::StaticFiles::Serve("ws://127.0.0.1:8080/app", "./www");
//   // files.value()->url() == "http://127.0.0.1:8080/app/"
//
// On a wss:// port the files are served over https: listen with a wss:// socket
// (which carries the certificate options) first, then call Serve with a wss://
// URL of the same address.
//
// GET and HEAD requests under the mount path get the file at the same relative
// path under the directory ("/app/" and "/app" give index.html); anything
// else under it gets 404 (no directory listings, no ".." or "%2F" tricks,
// files up to 64 MiB, read on the I/O thread: keep them small). Content types
// come from the file extension. An error answer (404, 400 bad path, 405 not
// GET/HEAD) counts in stats().rejected_http of a socket listening on the same
// port, if there is one. Thread-safe; destroying the object stops serving (and
// frees the port if no socket listens on it).
#ifndef MSOCK_STATIC_FILES_H_
#define MSOCK_STATIC_FILES_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "msock/context.h"
#include "msock/export.h"

namespace msock {

class MSOCK_EXPORT StaticFiles {
 public:
  // Serves `dir` at the path of `url` (a ws:// or wss:// URL naming the
  // address and the mount path; ws:// port 0 picks a free port). Errors:
  // kInvalidArgument (bad URL, not ws:// or wss://, `dir` not a directory, no
  // wss:// socket listening there yet), kAlreadyExists (that path is already
  // served, or the address serves the other scheme), kUnavailable (cannot
  // bind).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<StaticFiles>> Serve(
      std::string_view url, std::string dir, Context& ctx = Context::Default());
  ~StaticFiles();
  StaticFiles(const StaticFiles&) = delete;
  StaticFiles& operator=(const StaticFiles&) = delete;

  // "http://host:port/path/" (https for wss): where the files are.
  const std::string& url() const { return url_; }

 private:
  StaticFiles(Context& ctx, void* port, std::string path, std::string url)
      : ctx_(ctx), port_(port), path_(std::move(path)), url_(std::move(url)) {}

  Context& ctx_;
  void* port_;  // the transport's listening port
  std::string path_;
  std::string url_;
};

}  // namespace msock

#endif  // MSOCK_STATIC_FILES_H_
