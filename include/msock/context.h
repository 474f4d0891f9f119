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

namespace internal {
class ContextAccess;  // loop plumbing (base/context_access.h)
}  // namespace internal

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

 private:
  // The loop and the stop hooks, for transports (base/context_access.h).
  friend class internal::ContextAccess;

  uv_loop_s* loop();
  void AtStop(absl::AnyInvocable<void(absl::AnyInvocable<void()> done)> stop);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace msock

#endif  // MSOCK_CONTEXT_H_
