// One mapping from libuv / errno error codes to absl::Status, used by every
// transport.
#ifndef MSOCK_BASE_ERRORS_H_
#define MSOCK_BASE_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"

namespace msock::internal {

// `what` names the operation and address ("listen tcp://127.0.0.1:5"), uv_err
// is a libuv code.
absl::Status UvError(int uv_err, std::string_view what);

}  // namespace msock::internal

#endif  // MSOCK_BASE_ERRORS_H_
