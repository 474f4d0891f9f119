// Context: one libuv loop on its own thread, and Post() to run work there; a
// Context with several loops owns one-loop Contexts for the others and deals
// them out to new sockets in turn.
// Posted work is appended to a mutex-guarded vector; one uv_async_send wakes
// the loop, which swaps the vector out and runs it whole (libuv coalesces
// wake-ups, so this batches them). Also internal::ContextAccess, the loop
// plumbing for transports (base/context_access.h).
#include "msock/context.h"

#include <signal.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "base/context_access.h"
#include "base/sync.h"

namespace msock {

struct Context::Impl {
  uv_loop_t loop;
  uv_async_t wake;
  std::thread thread;
  std::atomic<std::thread::id> thread_id;
  std::mutex mu;  // guards the three below
  std::vector<absl::AnyInvocable<void()>> posted;
  bool wake_sent = false;
  bool stopping = false;
  // Loop thread only: the AtStop hooks, and how many have not called done yet.
  std::vector<absl::AnyInvocable<void(absl::AnyInvocable<void()>)>> at_stop;
  int stops_pending = -1;  // -1: the hooks have not run yet
  // The other loops (io_threads > 1), and which loop the next socket gets.
  std::vector<std::unique_ptr<Context>> more;
  std::atomic<unsigned> next_socket{0};

  // Closes every handle left so that uv_run returns.
  void CloseAll() {
    uv_close(reinterpret_cast<uv_handle_t*>(&wake), nullptr);
    // Any handle still open belongs to a socket that outlived us; close them
    // so the loop ends.
    uv_walk(
        &loop,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
  }

  static void OnWake(uv_async_t* handle) {
    auto* self = static_cast<Impl*>(handle->data);
    std::vector<absl::AnyInvocable<void()>> batch;
    bool stop;
    // Run until the queue is empty: work may post more work.
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(self->mu);
        batch.swap(self->posted);
        self->wake_sent = false;
        stop = self->stopping;
      }
      if (batch.empty()) break;
      for (auto& fn : batch) fn();
      batch.clear();
    }
    if (stop && self->stops_pending == -1) {
      // First the services with handles of their own (they need the loop to
      // run while they close), then everything else.
      self->stops_pending = static_cast<int>(self->at_stop.size()) + 1;
      auto one_done = [self] {
        if (--self->stops_pending == 0) self->CloseAll();
      };
      auto hooks = std::move(self->at_stop);
      for (auto& hook : hooks) hook(one_done);
      one_done();
    }
  }
};

Context::Context() : impl_(std::make_unique<Impl>()) {
  // A write to a closed connection must give EPIPE, not kill the process.
  signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&impl_->loop);
  uv_async_init(&impl_->loop, &impl_->wake, &Impl::OnWake);
  impl_->wake.data = impl_.get();
  internal::Event started;
  impl_->thread = std::thread([this, &started] {
    impl_->thread_id = std::this_thread::get_id();
    internal::NameThisThread("msock-io");
    started.Notify();
    uv_run(&impl_->loop, UV_RUN_DEFAULT);
  });
  started.Wait();
}

Context::Context(int io_threads) : Context() {
  const int n = io_threads < 1 ? 1 : std::min(io_threads, kMaxIoThreads);
  for (int i = 1; i < n; ++i)
    impl_->more.push_back(std::make_unique<Context>());
}

Context::~Context() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  uv_async_send(&impl_->wake);
  impl_->thread.join();
  uv_loop_close(&impl_->loop);
}

Context& Context::Default() {
  static Context* ctx =
      new Context();  // never destroyed: sockets may outlive main()
  return *ctx;
}

void Context::Post(absl::AnyInvocable<void()> fn) {
  bool send;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->posted.push_back(std::move(fn));
    send = !impl_->wake_sent;
    impl_->wake_sent = true;
  }
  if (send) uv_async_send(&impl_->wake);
}

int Context::io_threads() const {
  return 1 + static_cast<int>(impl_->more.size());
}

bool Context::IsLoopThread() const {
  return std::this_thread::get_id() == impl_->thread_id;
}

uv_loop_s* Context::loop() { return &impl_->loop; }

void Context::AtStop(
    absl::AnyInvocable<void(absl::AnyInvocable<void()> done)> stop) {
  impl_->at_stop.push_back(std::move(stop));
}

namespace internal {

uv_loop_s* ContextAccess::Loop(Context& ctx) { return ctx.loop(); }

Context& ContextAccess::ForSocket(Context& ctx) {
  auto& more = ctx.impl_->more;
  if (more.empty()) return ctx;
  const unsigned i =
      ctx.impl_->next_socket.fetch_add(1, std::memory_order_relaxed) %
      (more.size() + 1);
  return i == 0 ? ctx : *more[i - 1];
}

void ContextAccess::AtStop(
    Context& ctx,
    absl::AnyInvocable<void(absl::AnyInvocable<void()> done)> stop) {
  ctx.AtStop(std::move(stop));
}

}  // namespace internal

}  // namespace msock
