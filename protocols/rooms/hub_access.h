// HubAccess: what the hub's built-in services (topics, services) reach inside
// a Hub or RoomsClient beyond its public calls: system events handled with a
// deferred answer, disconnect listeners, and emits on behalf of a client.
//
// System events are those whose name starts with a registered prefix (say
// "_topics/"). They skip the middleware and the user's handlers; the system
// handler runs on the handler thread of the sending client, in order with its
// other events, and answers through `reply` now or later from any thread
// (exactly once counts; later calls are ignored; a call without an ack id
// answers nobody). Registering a prefix again replaces it; a null handler
// removes it.
#ifndef MSOCK_PROTOCOLS_ROOMS_HUB_ACCESS_H_
#define MSOCK_PROTOCOLS_ROOMS_HUB_ACCESS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/protocols/rooms.h"

namespace msock::internal {

using Responder = std::function<void(absl::StatusOr<std::string> answer)>;

struct SystemCall {
  RoomEvent ev;     // ev.client: the sender
  uint32_t pipe;    // its connection
  bool json;        // it speaks JSON
  Responder reply;  // safe to copy; the first call answers
};
using SystemHandler = std::function<void(SystemCall call)>;

class HubAccess {
 public:
  static void SetSystemHandler(Hub& hub, std::string prefix,
                               SystemHandler handler);
  // Runs on the hub's callback thread after `client` is gone (after the
  // user's OnDisconnect hook). Returns a key for RemoveDisconnectListener.
  static uint64_t AddDisconnectListener(
      Hub& hub, std::function<void(const std::string& client)> fn);
  static void RemoveDisconnectListener(Hub& hub, uint64_t key);
  // Runs `fn` on the hub's callback thread at `when` (dropped if the hub
  // closes first).
  static void After(Hub& hub, absl::Time when, std::function<void()> fn);
  // Hub::ToRoom with a payload per encoding: payload_for(json) runs at most
  // once per encoding in use among the members (binary and JSON clients).
  [[nodiscard]] static absl::StatusOr<size_t> ToRoomEach(
      Hub& hub, std::string_view room, std::string_view event,
      std::string_view ns,
      const std::function<std::string(bool json)>& payload_for,
      std::vector<uint32_t>* full = nullptr);
  // Sends an event to one connection without waiting: kDeadlineExceeded if
  // its queue is full, kUnavailable if it is gone (or not welcomed).
  [[nodiscard]] static absl::Status SendToPipe(
      Hub& hub, uint32_t pipe, std::string_view event,
      const std::function<std::string(bool json)>& payload_for);
  // `n` events to one connection, encoded with payload_for(i, json), queued
  // together and written together (SocketAccess::SendManyTo). Never waits:
  // returns how many were queued, the first ones (fewer when its queue
  // fills); kUnavailable if it is gone (or not welcomed).
  [[nodiscard]] static absl::StatusOr<size_t> SendManyToPipe(
      Hub& hub, uint32_t pipe, std::string_view event, size_t n,
      absl::FunctionRef<std::string(size_t i, bool json)> payload_for);
  // Hub::EmitAsync with Event.from = `from` (the receiver's RoomEvent.client).
  [[nodiscard]] static absl::Status EmitFor(Hub& hub, std::string_view from,
                                            std::string_view client,
                                            std::string_view event,
                                            std::string_view payload,
                                            absl::Time deadline,
                                            AckCallback done);
};

}  // namespace msock::internal

#endif  // MSOCK_PROTOCOLS_ROOMS_HUB_ACCESS_H_
