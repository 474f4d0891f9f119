// msock/status.h: the error type of every public call, and two helper macros.
//
// msock reports failures as absl::Status / absl::StatusOr<T>; no exception
// crosses the API, and every call returning one is [[nodiscard]]. The codes
// follow one table (see README.md, "Errors"):
//   kCancelled           interrupted by Close
//   kFailedPrecondition  used after Close, wrong state, peer protocol mismatch
//   kDeadlineExceeded    a deadline passed
//   kUnavailable         would block with a zero deadline, connection
//                        refused, peer gone
//   kInvalidArgument     bad URL, unknown scheme, bad option value
//   kAlreadyExists       address in use
//   kResourceExhausted   message over the size limit
//   kDataLoss            malformed frame or handshake
//
// Example (at namespace scope):
//   absl::Status Run(msock::Push& push) {
//     MSOCK_RETURN_IF_ERROR(push.Dial("tcp://127.0.0.1:5555"));
//     MSOCK_ASSIGN_OR_RETURN(std::string url,
//                            push.Listen("ipc:///tmp/x.sock"));
//     return push.Send("listening on " + url, absl::Now() + absl::Seconds(1));
//   }
#ifndef MSOCK_STATUS_H_
#define MSOCK_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MSOCK_STATUS_CONCAT_INNER_(a, b) a##b
#define MSOCK_STATUS_CONCAT_(a, b) MSOCK_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status); returns it from the enclosing function
// if not OK.
#define MSOCK_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status msock_status_ = (expr);         \
    if (!msock_status_.ok()) return msock_status_; \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, else
// moves the value into `lhs` (a declaration such as `auto x` or an existing
// variable).
#define MSOCK_ASSIGN_OR_RETURN(lhs, rexpr) \
  MSOCK_ASSIGN_OR_RETURN_IMPL_(            \
      MSOCK_STATUS_CONCAT_(msock_statusor_, __LINE__), lhs, rexpr)
#define MSOCK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#endif  // MSOCK_STATUS_H_
