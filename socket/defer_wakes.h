// DeferWakes: condition-variable wakes held back until the calling thread has
// let go of a lock. A receive filter runs under the socket's lock; when it
// answers a waiting request (PendingTable::Match), the thread it wakes goes
// on to send its next request, which needs that same lock: woken at once, it
// would run, block on the lock and sleep again (two more context switches and
// futex calls per round trip). SocketCore::Deliver opens a DeferWakes scope
// around its locked part, so such wakes run just after the lock is released.
//
// Contract
//   Threads: the scope and its queue are per thread (thread_local). Scopes
//     nest; the wakes run when the outermost one closes, in the order queued.
//   Ownership: a queued wake holds a shared_ptr to its condition variable, so
//     the waiter may finish and drop its entry before the wake runs.
//   Never block (wait for another thread) inside a scope: a wake that thread
//     needs may be queued behind you.
//
// Example:
//   {
//     internal::DeferWakes defer;
//     MutexLock lock(mu);
//     ... state changed under mu ...
//     internal::DeferWakes::NotifyAll(cv);  // runs after `lock` is released
//   }
#ifndef MSOCK_SOCKET_DEFER_WAKES_H_
#define MSOCK_SOCKET_DEFER_WAKES_H_

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace msock::internal {

class DeferWakes {
 public:
  DeferWakes() { ++Local().depth; }
  ~DeferWakes() {
    Queue& q = Local();
    if (--q.depth > 0) return;
    // notify_all never re-enters: nothing is added while this runs.
    for (auto& cv : q.cvs) cv->notify_all();
    q.cvs.clear();  // keeps the capacity for the next scope
  }
  DeferWakes(const DeferWakes&) = delete;
  DeferWakes& operator=(const DeferWakes&) = delete;

  // Wakes every waiter of `cv`: now if no scope is open on this thread,
  // otherwise when the outermost scope closes. The caller need not hold the
  // mutex the waiters use (it changed their state under it before).
  static void NotifyAll(std::shared_ptr<std::condition_variable> cv) {
    Queue& q = Local();
    if (q.depth == 0) {
      cv->notify_all();
      return;
    }
    q.cvs.push_back(std::move(cv));
  }

  // Wakes queued on this thread and not yet run (for tests).
  static size_t queued() { return Local().cvs.size(); }

 private:
  struct Queue {
    int depth = 0;
    std::vector<std::shared_ptr<std::condition_variable>> cvs;
  };
  static Queue& Local() {
    thread_local Queue q;
    return q;
  }
};

}  // namespace msock::internal

#endif  // MSOCK_SOCKET_DEFER_WAKES_H_
