// Executor: sharded handler threads with bounded queues, plus timers on thread
// 0. Locking pattern: take the worker's mutex, move the task out, unlock, run.
#include "protocols/rooms/executor.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "base/sync.h"

namespace msock::internal::rooms {

namespace {
thread_local const Executor* current_executor = nullptr;
}  // namespace

Executor::Executor(int threads, size_t queue_limit)
    : queue_limit_(std::max<size_t>(queue_limit, 1)) {
  threads = std::max(threads, 1);
  for (int i = 0; i < threads; ++i)
    workers_.push_back(std::make_unique<Worker>());
  for (int i = 0; i < threads; ++i)
    workers_[i]->thread = std::thread([this, i] {
      NameThisThread("msock-handler");
      Run(i);
    });
}

Executor::~Executor() {
  Stop();
  Join();
}

bool Executor::OnThread() const { return current_executor == this; }

bool Executor::Post(uint64_t key, Task task, bool essential) {
  Worker& w = *workers_[key % workers_.size()];
  Lock lock(w.mu);
  if (!essential) {
    while (w.ordinary >= queue_limit_ && !stopping_.load()) {
      ++w.space_waiters;
      w.space_cv.wait(lock);
      --w.space_waiters;
    }
  }
  if (stopping_.load()) return false;
  w.tasks.push_back(Item{std::move(task), essential});
  if (!essential) ++w.ordinary;
  if (w.tasks.size() == 1) w.work_cv.notify_one();
  return true;
}

uint64_t Executor::After(absl::Time when, Task fn) {
  Worker& w = *workers_[0];
  Lock lock(w.mu);
  if (stopping_.load()) return 0;
  const uint64_t id = next_timer_++;
  const bool earliest = timers_.empty() || when < timers_.begin()->first.first;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  timer_index_[id] = when;
  if (earliest) w.work_cv.notify_one();
  return id;
}

void Executor::Cancel(uint64_t timer) {
  if (timer == 0) return;
  Task dropped;  // destroyed after unlocking: it may own anything
  Worker& w = *workers_[0];
  Lock lock(w.mu);
  auto it = timer_index_.find(timer);
  if (it == timer_index_.end()) return;
  auto t = timers_.find(std::make_pair(it->second, timer));
  if (t != timers_.end()) {
    dropped = std::move(t->second);
    timers_.erase(t);
  }
  timer_index_.erase(it);
}

void Executor::Stop() {
  stopping_.store(true);
  for (auto& w : workers_) {
    Lock lock(w->mu);
    w->work_cv.notify_all();
    w->space_cv.notify_all();
  }
}

void Executor::Join() {
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void Executor::Run(int index) {
  current_executor = this;
  Worker& w = *workers_[index];
  Lock lock(w.mu);
  for (;;) {
    Task fn;
    if (stopping_.load()) {
      // Run what must run (completions), drop the rest.
      if (w.tasks.empty()) break;
      Item item = std::move(w.tasks.front());
      w.tasks.pop_front();
      if (!item.essential) {
        --w.ordinary;
        lock.unlock();
        item.fn = nullptr;  // destroyed without the lock held
        lock.lock();
        continue;
      }
      fn = std::move(item.fn);
    } else if (index == 0 && !timers_.empty() &&
               timers_.begin()->first.first <= absl::Now()) {
      auto it = timers_.begin();
      fn = std::move(it->second);
      timer_index_.erase(it->first.second);
      timers_.erase(it);
    } else if (!w.tasks.empty()) {
      Item item = std::move(w.tasks.front());
      w.tasks.pop_front();
      if (!item.essential) {
        --w.ordinary;
        if (w.space_waiters > 0) w.space_cv.notify_one();
      }
      fn = std::move(item.fn);
    } else {
      const absl::Time next = (index == 0 && !timers_.empty())
                                  ? timers_.begin()->first.first
                                  : absl::InfiniteFuture();
      WaitUntil(w.work_cv, lock, next);
      continue;
    }
    lock.unlock();
    fn();
    fn = nullptr;
    lock.lock();
  }
  // Stopped: timers are dropped (outside the lock: they may own anything).
  if (index == 0) {
    auto timers = std::move(timers_);
    timer_index_.clear();
    lock.unlock();
    timers.clear();
  }
}

}  // namespace msock::internal::rooms
