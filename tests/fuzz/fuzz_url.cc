// libFuzzer target: ParseUrl (msock/url.h) on arbitrary strings. Must not
// crash; an accepted URL must have a known scheme, a port in range, and survive
// a ToString / ParseUrl round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "msock/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<msock::Url> u = msock::ParseUrl(text);
  if (!u.ok()) {
    if (u.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (u->scheme != "inproc" && u->scheme != "ipc" && u->scheme != "tcp" &&
      u->scheme != "ws" && u->scheme != "wss") {
    std::abort();
  }
  if (u->port < 0 || u->port > 65535) std::abort();
  if (u->scheme != "tcp" && u->path.empty()) std::abort();
  if ((u->scheme == "ws" || u->scheme == "wss") && u->path[0] != '/')
    std::abort();
  absl::StatusOr<msock::Url> again = msock::ParseUrl(u->ToString());
  if (!again.ok()) std::abort();
  if (again->scheme != u->scheme || again->host != u->host ||
      again->port != u->port || again->path != u->path) {
    std::abort();
  }
  return 0;
}
