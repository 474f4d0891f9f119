// RoomTable: namespace -> room -> members with a reverse index, so that a
// disconnecting client leaves all its rooms in time proportional to them.
#include "protocols/rooms/room_table.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "protocols/rooms/codec.h"

namespace msock::internal::rooms {

absl::Status RoomTable::Join(const std::string& client, const std::string& ns,
                             const std::string& room, size_t max_rooms) {
  auto& mine = of_client_[client];
  RoomKey key(ns, room);
  if (mine.contains(key)) return absl::OkStatus();
  if (mine.size() >= max_rooms) {
    if (mine.empty()) of_client_.erase(client);
    return absl::ResourceExhaustedError(
        absl::StrCat("rooms: client is already in ", max_rooms, " rooms"));
  }
  mine.insert(std::move(key));
  spaces_[ns][room].insert(client);
  return absl::OkStatus();
}

void RoomTable::Leave(const std::string& client, const std::string& ns,
                      const std::string& room) {
  auto c = of_client_.find(client);
  if (c == of_client_.end() || c->second.erase(RoomKey(ns, room)) == 0) return;
  if (c->second.empty()) of_client_.erase(c);
  auto s = spaces_.find(ns);
  if (s == spaces_.end()) return;
  auto r = s->second.find(room);
  if (r == s->second.end()) return;
  r->second.erase(client);
  if (r->second.empty()) s->second.erase(r);
  if (s->second.empty()) spaces_.erase(s);
}

void RoomTable::LeaveAll(const std::string& client) {
  auto c = of_client_.find(client);
  if (c == of_client_.end()) return;
  const absl::flat_hash_set<RoomKey> rooms = std::move(c->second);
  of_client_.erase(c);
  for (const RoomKey& key : rooms) {
    auto s = spaces_.find(key.first);
    if (s == spaces_.end()) continue;
    auto r = s->second.find(key.second);
    if (r == s->second.end()) continue;
    r->second.erase(client);
    if (r->second.empty()) s->second.erase(r);
    if (s->second.empty()) spaces_.erase(s);
  }
}

const RoomTable::Members* RoomTable::Find(std::string_view ns,
                                          std::string_view room) const {
  auto s = spaces_.find(AsAbsl(ns));
  if (s == spaces_.end()) return nullptr;
  auto r = s->second.find(AsAbsl(room));
  return r == s->second.end() ? nullptr : &r->second;
}

std::vector<std::string> RoomTable::Rooms(std::string_view ns) const {
  std::vector<std::string> out;
  auto s = spaces_.find(AsAbsl(ns));
  if (s == spaces_.end()) return out;
  for (const auto& [room, members] : s->second) out.push_back(room);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<RoomTable::RoomKey> RoomTable::RoomsOf(
    std::string_view client) const {
  std::vector<RoomKey> out;
  auto c = of_client_.find(AsAbsl(client));
  if (c == of_client_.end()) return out;
  out.assign(c->second.begin(), c->second.end());
  std::sort(out.begin(), out.end());
  return out;
}

size_t RoomTable::room_count() const {
  size_t n = 0;
  for (const auto& [ns, rooms] : spaces_) n += rooms.size();
  return n;
}

}  // namespace msock::internal::rooms
