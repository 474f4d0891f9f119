// Locking for msock: Mutex and MutexLock, thin wrappers over std::mutex that
// carry Abseil's thread-safety attributes (clang -Wthread-safety checks every
// ABSL_GUARDED_BY member; pthread underneath, so ThreadSanitizer sees them,
// which it would not for Debian's uninstrumented absl::Mutex), deadline waits
// in absl::Time, and a one-shot Event.
#ifndef MSOCK_BASE_SYNC_H_
#define MSOCK_BASE_SYNC_H_

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace msock::internal {

// Names the calling thread (seen in top -H, gdb, perf; at most 15
// characters are kept), so that a user can tell msock's threads apart.
inline void NameThisThread(const char* name) {
  char buf[16] = {};
  for (size_t i = 0; i < sizeof(buf) - 1 && name[i] != '\0'; ++i)
    buf[i] = name[i];
  pthread_setname_np(pthread_self(), buf);
}

// Plain std::mutex locks, for code that has not moved to Mutex yet.
using Lock = std::unique_lock<std::mutex>;

// A std::mutex that clang's thread-safety analysis can reason about.
class ABSL_LOCKABLE Mutex {
 public:
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return mu_.try_lock();
  }
  std::mutex& native() ABSL_LOCK_RETURNED(this) { return mu_; }

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope; may be released and re-taken inside it (waits
// on a std::condition_variable go through native()).
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu)
      : lock_(mu.native()) {}
  // Adopts a Mutex the caller already holds (after a successful try_lock).
  MutexLock(Mutex& mu, std::adopt_lock_t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu)
      : lock_(mu.native(), std::adopt_lock) {}
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void unlock() ABSL_UNLOCK_FUNCTION() { lock_.unlock(); }
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { lock_.lock(); }
  std::unique_lock<std::mutex>& native() { return lock_; }

 private:
  std::unique_lock<std::mutex> lock_;
};

// Waits on `cv` until notified (or spuriously woken) or `deadline`. True if the
// deadline passed.
inline bool WaitUntil(std::condition_variable& cv, Lock& lock,
                      absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) {
    cv.wait(lock);
    return false;
  }
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return true;
  // steady clock: immune to wall-clock jumps while we wait.
  return cv.wait_for(lock, absl::ToChronoNanoseconds(left)) ==
         std::cv_status::timeout;
}
inline bool WaitUntil(std::condition_variable& cv, MutexLock& lock,
                      absl::Time deadline) {
  return WaitUntil(cv, lock.native(), deadline);
}

// A one-shot event: Notify once, Wait for it.
class Event {
 public:
  void Notify() {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
    cv_.notify_all();
  }
  void Wait() {
    Lock l(mu_);
    cv_.wait(l, [this] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace msock::internal

#endif  // MSOCK_BASE_SYNC_H_
