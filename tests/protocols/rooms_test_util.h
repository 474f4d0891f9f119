// Helpers of the rooms tests: an Inbox that records the events a client's
// handler saw (and can be waited on), a hub + clients setup per transport, and
// "did not get it" checks done with a marker event instead of a sleep: events
// on one connection arrive in order, so once a later marker has arrived an
// earlier event that was not there never will be.
#ifndef MSOCK_TESTS_PROTOCOLS_ROOMS_TEST_UTIL_H_
#define MSOCK_TESTS_PROTOCOLS_ROOMS_TEST_UTIL_H_

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "msock/protocols/rooms.h"
#include "tests/support/test_support.h"

namespace msock::test {

class Inbox {
 public:
  // A handler recording each event; acks with "got:<name>".
  EventHandler Handler() {
    return [this](const RoomEvent& ev) -> absl::StatusOr<std::string> {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(ev);
      cv_.notify_all();
      return "got:" + ev.name;
    };
  }
  // Waits until an event called `name` has arrived (true) or `timeout`.
  bool WaitFor(const std::string& name,
               absl::Duration timeout = absl::Seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
      return std::any_of(events_.begin(), events_.end(),
                         [&](const RoomEvent& e) { return e.name == name; });
    });
  }
  bool WaitForCount(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                        [&] { return events_.size() >= n; });
  }
  int Count(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(
        std::count_if(events_.begin(), events_.end(),
                      [&](const RoomEvent& e) { return e.name == name; }));
  }
  std::vector<RoomEvent> Events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  // The last event called `name` (empty event if none).
  RoomEvent Last(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
      if (it->name == name) return *it;
    }
    return RoomEvent();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RoomEvent> events_;
};

// A connected client with its inbox (declared first: it outlives the client).
struct TestClient {
  Inbox inbox;
  std::unique_ptr<RoomsClient> client;
  std::string id;
};

// Makes a client (fast re-dial), routes every event to its inbox, connects it.
// `prepare` (if any) runs on the client before it connects (options, say TLS).
inline std::unique_ptr<TestClient> ConnectClient(
    const std::string& url, RoomsClientOptions options = RoomsClientOptions(),
    Context& ctx = Context::Default(),
    const std::function<void(RoomsClient&)>& prepare = nullptr) {
  auto c = std::make_unique<TestClient>();
  c->client = std::make_unique<RoomsClient>(options, ctx);
  EXPECT_TRUE(c->client->Set(opt::kReconnectMin, absl::Milliseconds(10)).ok());
  if (prepare) prepare(*c->client);
  c->client->Otherwise(c->inbox.Handler());
  absl::StatusOr<std::string> id = c->client->Connect(url, Deadline(10));
  EXPECT_TRUE(id.ok()) << id.status();
  c->id = id.value_or("");
  return c;
}

// Broadcasts a marker and waits until every client in `clients` has it.
inline void SyncWithMarker(Hub& hub, const std::vector<TestClient*>& clients,
                           const std::string& marker) {
  absl::StatusOr<size_t> n = hub.Broadcast(marker, "");
  ASSERT_TRUE(n.ok()) << n.status();
  for (TestClient* c : clients) ASSERT_TRUE(c->inbox.WaitFor(marker)) << c->id;
}

}  // namespace msock::test

#endif  // MSOCK_TESTS_PROTOCOLS_ROOMS_TEST_UTIL_H_
