// ClientAccess: reconnect listeners of a RoomsClient, for the built-in
// services.
#include "protocols/rooms/client_access.h"

#include <mutex>
#include <utility>

#include "protocols/rooms/client_impl.h"

namespace msock::internal {

uint64_t ClientAccess::AddReconnectListener(
    RoomsClient& client,
    std::function<void(const std::string& id, bool same_id)> fn) {
  std::lock_guard<std::mutex> lock(client.impl_->hooks_mu);
  const uint64_t key = client.impl_->next_listener++;
  client.impl_->reconnect_listeners[key] = std::move(fn);
  return key;
}

void ClientAccess::RemoveReconnectListener(RoomsClient& client, uint64_t key) {
  std::lock_guard<std::mutex> lock(client.impl_->hooks_mu);
  client.impl_->reconnect_listeners.erase(key);
}

}  // namespace msock::internal
