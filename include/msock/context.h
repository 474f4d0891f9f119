// msock/context.h: the I/O loop every socket's pipes run on.
//
// A Context owns one libuv loop and the thread that runs it. Every libuv handle
// of msock lives on that thread. Most programs never name a Context: sockets
// use Context::Default(), created on first use and kept for the life of the
// process.
//
// Example:
//   msock::Context ctx;     // a private loop thread
//   msock::Push push(ctx);  // sockets on it (declared after: closed first)
//   ctx.Post([] { /* runs on the loop thread */ });
//
// Thread-safety: every member is thread-safe. A Context must outlive the
// sockets made on it; its destructor stops and joins the loop thread.
#ifndef MSOCK_CONTEXT_H_
#define MSOCK_CONTEXT_H_

#include <memory>

#include "absl/functional/any_invocable.h"
#include "msock/export.h"

struct uv_loop_s;

namespace msock {

class MSOCK_EXPORT Context {
 public:
  Context();
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // The process-wide context, created on first call and never destroyed.
  static Context& Default();

  // Runs `fn` on the loop thread, soon. Posts made between two wake-ups of the
  // loop run together, in order, after one wake-up. Work posted after the
  // destructor started is dropped.
  void Post(absl::AnyInvocable<void()> fn);

  // True when called from this context's loop thread.
  bool IsLoopThread() const;

  // Not for users: transport plumbing, still public because transports/*
  // call it directly. TODO(issue 12 step 3): move loop() and AtStop() to an
  // internal accessor (as internal::SocketAccess) once the transports
  // split has landed.
  //
  // The libuv loop; only to be used on the loop thread (transports).
  uv_loop_s* loop();

  // For transports with state of their own on the loop (the WebSocket
  // library): `stop` runs on the loop thread when the context is destroyed,
  // before the loop's remaining handles are closed, and must call `done` (on
  // the loop thread, at once or later) when it has closed its handles. Call on
  // the loop thread.
  void AtStop(absl::AnyInvocable<void(absl::AnyInvocable<void()> done)> stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace msock

#endif  // MSOCK_CONTEXT_H_
