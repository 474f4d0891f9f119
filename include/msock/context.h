// msock/context.h: the I/O loop every socket's pipes run on.
//
// A Context owns one libuv loop and the thread that runs it, or several
// (`io_threads`, as ZeroMQ's I/O threads). Every libuv handle of msock lives on
// one of them. Most programs never name a Context: sockets use
// Context::Default(), created on first use with one loop and kept for the
// life of the process.
//
// With several loops each socket is placed on one when it is made, in turn
// (round robin); its listeners, dialers and pipes all stay on that loop, so
// that a socket's work is never split across threads. Independent sockets then
// use the cores side by side. What is shared between loops: nothing but this
// object (inproc names are process-wide anyway). Limits: sockets that share
// one ws/wss port (several paths on one listener) must be on the same loop,
// so give them a one-loop Context; Post runs on the first loop.
//
// Example:
//   msock::Context ctx;     // a private loop thread
//   msock::Push push(ctx);  // sockets on it (declared after: closed first)
//   ctx.Post([] { /* runs on the loop thread */ });
//   msock::Context wide(2);  // two loop threads
//   msock::Pull a(wide);     // on the first loop
//   msock::Pull b(wide);     // on the second
//
// Thread-safety: every member is thread-safe. A Context must outlive the
// sockets made on it; its destructor stops and joins the loop threads.
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
  // `io_threads` loops, each on its own thread (values below 1 mean 1, above
  // kMaxIoThreads mean kMaxIoThreads). One is fastest for a few busy sockets
  // on a small machine; more let many independent sockets use more cores.
  explicit Context(int io_threads);
  ~Context();
  static constexpr int kMaxIoThreads = 64;

  // How many loops this context runs.
  int io_threads() const;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // The process-wide context, created on first call and never destroyed.
  static Context& Default();

  // Runs `fn` on the loop thread, soon. Posts made between two wake-ups of the
  // loop run together, in order, after one wake-up. Work posted after the
  // destructor started is dropped.
  void Post(absl::AnyInvocable<void()> fn);

  // True when called from this context's (first) loop thread.
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
