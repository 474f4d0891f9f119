// MemoryTopicStore: the topics' records in a sorted map, in this process.
#include "protocols/topics/store.h"

#include "absl/strings/str_cat.h"

namespace msock::internal::topics {

namespace {
absl::Status Missing(std::string_view name) {
  return absl::NotFoundError(
      absl::StrCat("no topic \"", std::string(name), "\""));
}
}  // namespace

absl::StatusOr<TopicRecord> MemoryTopicStore::Get(std::string_view name) const {
  auto it = records_.find(name);
  if (it == records_.end()) return Missing(name);
  return it->second;
}

bool MemoryTopicStore::Contains(std::string_view name) const {
  return records_.find(name) != records_.end();
}

absl::Status MemoryTopicStore::Insert(std::string_view name,
                                      TopicRecord record) {
  auto [it, fresh] = records_.try_emplace(std::string(name), std::move(record));
  if (!fresh) {
    return absl::AlreadyExistsError(
        absl::StrCat("topic \"", std::string(name), "\" exists"));
  }
  return absl::OkStatus();
}

absl::Status MemoryTopicStore::Erase(std::string_view name) {
  auto it = records_.find(name);
  if (it == records_.end()) return Missing(name);
  records_.erase(it);
  return absl::OkStatus();
}

absl::Status MemoryTopicStore::Commit(
    std::vector<std::pair<std::string, TopicRecord>> writes) {
  for (const auto& [name, record] : writes) {
    if (!Contains(name)) return Missing(name);
  }
  for (auto& [name, record] : writes) {
    records_.find(name)->second = std::move(record);
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, TopicRecord>> MemoryTopicStore::List()
    const {
  std::vector<std::pair<std::string, TopicRecord>> out;
  out.reserve(records_.size());
  for (const auto& [name, record] : records_) {
    TopicRecord meta;
    meta.type = record.type;
    meta.version = record.version;
    out.emplace_back(name, std::move(meta));
  }
  return out;
}

}  // namespace msock::internal::topics
