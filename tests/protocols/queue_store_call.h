// A synchronous face on the queue store's asynchronous operations, for the
// store's tests (queue_store_test_util.h) and its benchmark
// (bench/queue_store_bench.cc): submit, then wait for `done` with a deadline
// (never a sleep). No GoogleTest here, so that the benchmark can use it.
#ifndef MSOCK_TESTS_PROTOCOLS_QUEUE_STORE_CALL_H_
#define MSOCK_TESTS_PROTOCOLS_QUEUE_STORE_CALL_H_

#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace msock::internal::queue::test {

inline constexpr auto kAnswerWithin = std::chrono::seconds(10);

// Submits with `submit(done)` and waits for `done`; kDeadlineExceeded if it
// does not come within kAnswerWithin. `done` may run on any thread, also
// after a timeout (it owns its promise).
template <typename T, typename F>
absl::StatusOr<T> Call(F&& submit) {
  auto p = std::make_shared<std::promise<absl::StatusOr<T>>>();
  std::future<absl::StatusOr<T>> f = p->get_future();
  submit([p](absl::StatusOr<T> r) { p->set_value(std::move(r)); });
  if (f.wait_for(kAnswerWithin) != std::future_status::ready) {
    return absl::DeadlineExceededError("the store did not answer in time");
  }
  return f.get();
}

}  // namespace msock::internal::queue::test

#endif  // MSOCK_TESTS_PROTOCOLS_QUEUE_STORE_CALL_H_
