// Executor: the handler threads of a Hub or RoomsClient. Tasks are sharded by
// a key (a pipe id), so one peer's tasks run in order on one thread; each
// thread has a bounded queue. Thread 0 also runs timers (ack deadlines, idle
// connection checks). No lock is held while a task runs.
#ifndef MSOCK_PROTOCOLS_ROOMS_EXECUTOR_H_
#define MSOCK_PROTOCOLS_ROOMS_EXECUTOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace msock::internal::rooms {

class Executor {
 public:
  using Task = std::function<void()>;

  // Starts `threads` (>= 1) threads, each with a queue of `queue_limit`
  // ordinary tasks.
  Executor(int threads, size_t queue_limit);
  ~Executor();  // Stop() + Join()
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task` on thread key % threads. An ordinary task waits while that
  // queue is full (back-pressure on the caller); an essential one (a
  // completion: its number is bounded elsewhere) never waits and still runs
  // when the executor stops. False (task dropped) once Stop was called.
  bool Post(uint64_t key, Task task, bool essential = false);

  // Runs `fn` on thread 0 at `when`. Returns an id for Cancel; 0 if stopped.
  uint64_t After(absl::Time when, Task fn);
  // Forgets a timer that has not run yet (no-op otherwise).
  void Cancel(uint64_t timer);

  // Stops taking tasks: Post returns false, queued ordinary tasks and timers
  // are dropped, queued essential tasks still run. Wakes a Post that waits.
  // Does not wait.
  void Stop();
  // Waits for every thread to finish (after Stop). Must not run on one of
  // them.
  void Join();
  // True on one of this executor's threads.
  bool OnThread() const;

 private:
  struct Item {
    Task fn;
    bool essential;
  };
  struct Worker {
    std::mutex mu;
    std::condition_variable work_cv;   // tasks, due timers or stop
    std::condition_variable space_cv;  // room in the queue
    std::deque<Item> tasks;            // guarded by mu
    size_t ordinary = 0;               // ordinary tasks in `tasks`
    int space_waiters = 0;
    std::thread thread;
  };

  void Run(int index);

  const size_t queue_limit_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  // Timers, guarded by workers_[0]->mu: (when, id) -> fn, and id -> when.
  std::map<std::pair<absl::Time, uint64_t>, Task> timers_;
  absl::flat_hash_map<uint64_t, absl::Time> timer_index_;
  uint64_t next_timer_ = 1;
};

}  // namespace msock::internal::rooms

#endif  // MSOCK_PROTOCOLS_ROOMS_EXECUTOR_H_
