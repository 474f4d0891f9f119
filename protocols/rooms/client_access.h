// ClientAccess: what the built-in services (ServicesClient) reach inside a
// RoomsClient beyond its public calls: reconnect listeners, which run after
// each welcome but the first, beside the user's one OnReconnected hook.
#ifndef MSOCK_PROTOCOLS_ROOMS_CLIENT_ACCESS_H_
#define MSOCK_PROTOCOLS_ROOMS_CLIENT_ACCESS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "msock/protocols/rooms.h"

namespace msock::internal {

class ClientAccess {
 public:
  // `fn` runs on the client's callback thread after each welcome but the
  // first (after the user's OnReconnected hook), with the hook's arguments.
  // Returns a key for RemoveReconnectListener.
  static uint64_t AddReconnectListener(
      RoomsClient& client,
      std::function<void(const std::string& id, bool same_id)> fn);
  // After it returns `fn` is not started again (a run already posted may
  // still be going on).
  static void RemoveReconnectListener(RoomsClient& client, uint64_t key);
};

}  // namespace msock::internal

#endif  // MSOCK_PROTOCOLS_ROOMS_CLIENT_ACCESS_H_
