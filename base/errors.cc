// libuv error code -> absl::Status, with the operation named in the message.
#include "base/errors.h"

#include <uv.h>

#include "absl/strings/str_cat.h"

namespace msock::internal {

absl::Status UvError(int uv_err, std::string_view what) {
  std::string msg = absl::StrCat(std::string(what), ": ", uv_strerror(uv_err));
  switch (uv_err) {
    case UV_EADDRINUSE:
      return absl::AlreadyExistsError(msg);
    case UV_EINVAL:
    case UV_EAI_NONAME:
    case UV_EAI_FAMILY:
    case UV_ENAMETOOLONG:
    case UV_EAFNOSUPPORT:
      return absl::InvalidArgumentError(msg);
    case UV_ECANCELED:
      return absl::CancelledError(msg);
    case UV_ETIMEDOUT:
      return absl::DeadlineExceededError(msg);
    case UV_ENOMEM:
    case UV_ENOBUFS:
    case UV_EMFILE:
    case UV_ENFILE:
      return absl::ResourceExhaustedError(msg);
    case UV_EACCES:
    case UV_EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      // Refused, reset, unreachable, EOF, broken pipe...: the peer is not (or
      // no longer) there.
      return absl::UnavailableError(msg);
  }
}

}  // namespace msock::internal
