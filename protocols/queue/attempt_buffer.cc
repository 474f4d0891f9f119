// attempt_buffer.h: first delivery attempts held, later ones due at once.
#include "protocols/queue/attempt_buffer.h"

#include <utility>

namespace msock::internal::queue {

std::string AttemptBuffer::Key(const NodeKey& node, uint64_t id) {
  // "user" NUL "node" NUL and the id's bytes: NUL is in no name.
  std::string k;
  k.reserve(node.first.size() + node.second.size() + 2 + sizeof id);
  k.append(node.first).push_back('\0');
  k.append(node.second).push_back('\0');
  k.append(reinterpret_cast<const char*>(&id), sizeof id);
  return k;
}

bool AttemptBuffer::Add(NodeKey node, uint64_t id, uint32_t attempts,
                        Clock::time_point now) {
  if (due_.size() + held_.size() >= kMax) return false;
  if (attempts <= 1) {
    std::string key = Key(node, id);
    if (!live_.insert(key).second) return true;  // held already
    held_.push_back({std::move(key), {std::move(node), id, attempts}, now});
    return true;
  }
  if (!live_.empty()) live_.erase(Key(node, id));  // this count supersedes
  due_.push_back({std::move(node), id, attempts});
  return true;
}

void AttemptBuffer::Drop(const NodeKey& node,
                         const std::vector<uint64_t>& ids) {
  if (live_.empty()) return;
  for (uint64_t id : ids) live_.erase(Key(node, id));
}

std::vector<AttemptBuffer::Record> AttemptBuffer::TakeDue(Clock::time_point now,
                                                          bool all) {
  std::vector<Record> out;
  while (!held_.empty() && (all || held_.front().at + kHold <= now)) {
    HeldRecord& h = held_.front();
    if (live_.erase(h.key) != 0) out.push_back(std::move(h.record));
    held_.pop_front();
  }
  // A held first attempt is older than any due record of the same entry
  // (which would have superseded it), so the order of the two runs is free.
  for (Record& r : due_) out.push_back(std::move(r));
  due_.clear();
  return out;
}

}  // namespace msock::internal::queue
