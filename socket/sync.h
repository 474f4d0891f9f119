// Locking for the socket core: std::mutex and std::condition_variable (pthread
// underneath, so ThreadSanitizer sees them; Debian's Abseil is not built for
// TSan, which would make absl::Mutex invisible to it), plus deadline waits in
// absl::Time.
#ifndef MSOCK_SOCKET_SYNC_H_
#define MSOCK_SOCKET_SYNC_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace msock::internal {

using Lock = std::unique_lock<std::mutex>;

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

#endif  // MSOCK_SOCKET_SYNC_H_
