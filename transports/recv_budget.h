// UnfinishedBudget: the bytes a socket holds for partly received messages,
// summed over all its pipes, against the kMaxUnfinishedBytes limit. The socket
// owns one; each decoder holds a HeldBytes share, grown before it enlarges the
// buffer of an unfinished message and given back when the message completes
// or the decoder goes away. Lock-free; any thread.
#ifndef MSOCK_TRANSPORTS_RECV_BUDGET_H_
#define MSOCK_TRANSPORTS_RECV_BUDGET_H_

#include <atomic>
#include <cstddef>

namespace msock::internal {

class UnfinishedBudget {
 public:
  // 0 = no limit. Applies to the next Take.
  void set_limit(size_t limit) {
    limit_.store(limit, std::memory_order_relaxed);
  }
  // Takes n more bytes. False (nothing taken) when that would pass the limit.
  bool Take(size_t n) {
    const size_t limit = limit_.load(std::memory_order_relaxed);
    const size_t now = held_.fetch_add(n, std::memory_order_relaxed) + n;
    if (limit != 0 && now > limit) {
      held_.fetch_sub(n, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void Give(size_t n) { held_.fetch_sub(n, std::memory_order_relaxed); }
  size_t held() const { return held_.load(std::memory_order_relaxed); }

 private:
  std::atomic<size_t> held_{0};
  std::atomic<size_t> limit_{0};
};

// One decoder's share of a budget (or of none: then every grow succeeds).
// Gives everything back when destroyed. One thread at a time.
class HeldBytes {
 public:
  explicit HeldBytes(UnfinishedBudget* budget) : budget_(budget) {}
  HeldBytes(HeldBytes&& o) noexcept : budget_(o.budget_), held_(o.held_) {
    o.held_ = 0;
  }
  HeldBytes& operator=(HeldBytes&&) = delete;
  HeldBytes(const HeldBytes&) = delete;
  ~HeldBytes() { Release(); }

  // Makes the share `total` bytes. False (share unchanged) when growing it
  // would pass the budget's limit.
  bool Set(size_t total) {
    if (budget_ == nullptr) return true;
    if (total > held_ && !budget_->Take(total - held_)) return false;
    if (total < held_) budget_->Give(held_ - total);
    held_ = total;
    return true;
  }
  void Release() { Set(0); }
  size_t held() const { return held_; }

 private:
  UnfinishedBudget* budget_;
  size_t held_ = 0;
};

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_RECV_BUDGET_H_
