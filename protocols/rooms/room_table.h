// RoomTable: the hub's membership, namespace -> room -> client ids, and the
// reverse index client -> (namespace, room). Plain data, not thread-safe: the
// Hub guards it with its own mutex. Empty rooms and namespaces are removed.
#ifndef MSOCK_PROTOCOLS_ROOMS_ROOM_TABLE_H_
#define MSOCK_PROTOCOLS_ROOMS_ROOM_TABLE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"

namespace msock::internal::rooms {

class RoomTable {
 public:
  using RoomKey = std::pair<std::string, std::string>;  // (namespace, room)
  using Members = absl::flat_hash_set<std::string>;

  // Adds `client` to the room. kResourceExhausted if it is already in
  // `max_rooms` rooms; joining a room twice is OK.
  absl::Status Join(const std::string& client, const std::string& ns,
                    const std::string& room, size_t max_rooms);
  // Removes `client` from the room (no-op if it was not in it).
  void Leave(const std::string& client, const std::string& ns,
             const std::string& room);
  // Removes `client` from every room.
  void LeaveAll(const std::string& client);

  // Null for an unknown room.
  const Members* Find(std::string_view ns, std::string_view room) const;
  std::vector<std::string> Rooms(std::string_view ns) const;
  std::vector<RoomKey> RoomsOf(std::string_view client) const;
  size_t room_count() const;

 private:
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, Members>>
      spaces_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<RoomKey>> of_client_;
};

}  // namespace msock::internal::rooms

#endif  // MSOCK_PROTOCOLS_ROOMS_ROOM_TABLE_H_
