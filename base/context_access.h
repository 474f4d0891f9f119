// internal::ContextAccess: the loop plumbing of a Context (its libuv loop and
// its stop hooks), kept out of the public API (msock/context.h). Transports
// and the socket's connector include this header; users cannot reach the loop
// and so cannot touch a handle off the loop thread.
#ifndef MSOCK_BASE_CONTEXT_ACCESS_H_
#define MSOCK_BASE_CONTEXT_ACCESS_H_

#include "absl/functional/any_invocable.h"
#include "msock/context.h"

namespace msock::internal {

class ContextAccess {
 public:
  // The libuv loop of `ctx`; only to be used on its loop thread.
  static uv_loop_s* Loop(Context& ctx);

  // The one-loop context a new socket made on `ctx` runs on: `ctx` itself if
  // it has one loop, else each of its loops in turn. Thread-safe.
  static Context& ForSocket(Context& ctx);

  // For transports with state of their own on the loop (the WebSocket
  // library): `stop` runs on the loop thread when `ctx` is destroyed, before
  // the loop's remaining handles are closed, and must call `done` (on the loop
  // thread, at once or later) when it has closed its handles. Call on the loop
  // thread.
  static void AtStop(
      Context& ctx,
      absl::AnyInvocable<void(absl::AnyInvocable<void()> done)> stop);
};

}  // namespace msock::internal

#endif  // MSOCK_BASE_CONTEXT_ACCESS_H_
