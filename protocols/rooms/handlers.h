// Handlers: the event handlers and middleware chain of a Hub or RoomsClient.
// Registration swaps in a new immutable table (copy on write), so dispatching
// takes the lock only to copy one pointer and runs user code with no lock.
#ifndef MSOCK_PROTOCOLS_ROOMS_HANDLERS_H_
#define MSOCK_PROTOCOLS_ROOMS_HANDLERS_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "msock/protocols/rooms.h"

namespace msock::internal::rooms {

class Handlers {
 public:
  void On(std::string_view name, EventHandler handler);
  void Otherwise(EventHandler handler);
  void Use(Middleware middleware);

  // Runs the middleware chain, then the handler of ev.name (looked up after
  // the middleware, which may rename the event), and returns the ack value. A
  // callback that throws gives kInternal "handler threw: <what>"; no handler
  // gives kUnimplemented.
  absl::StatusOr<std::string> Dispatch(RoomEvent& ev) const;

 private:
  struct Table {
    absl::flat_hash_map<std::string, EventHandler> on;
    EventHandler otherwise;
    std::vector<Middleware> chain;
  };
  std::shared_ptr<const Table> Snapshot() const;
  // Applies `change` to a copy of the table and publishes it.
  template <typename Fn>
  void Update(Fn change);

  mutable std::mutex mu_;
  std::shared_ptr<const Table> table_ = std::make_shared<Table>();
};

}  // namespace msock::internal::rooms

#endif  // MSOCK_PROTOCOLS_ROOMS_HANDLERS_H_
