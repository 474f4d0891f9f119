// TopicStore: where a TopicHost keeps the topics' records (type, value,
// version). An interface so that a later store can live outside the process
// (Redis, shared by several hubs); MemoryTopicStore is the in-process one.
//
// Contract: the TopicHost calls a store under its own lock, one call at a
// time, and treats each Commit as atomic (every write lands or none does). A
// store never calls back into the host.
#ifndef MSOCK_PROTOCOLS_TOPICS_STORE_H_
#define MSOCK_PROTOCOLS_TOPICS_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "msock/protocols/topics.h"

namespace msock::internal::topics {

struct TopicRecord {
  TopicType type = TopicType::kGeneric;
  google::protobuf::Value value;
  uint64_t version = 0;
};

class TopicStore {
 public:
  virtual ~TopicStore() = default;
  // A copy of the record. kNotFound.
  virtual absl::StatusOr<TopicRecord> Get(std::string_view name) const = 0;
  virtual bool Contains(std::string_view name) const = 0;
  // kAlreadyExists.
  virtual absl::Status Insert(std::string_view name, TopicRecord record) = 0;
  // kNotFound.
  virtual absl::Status Erase(std::string_view name) = 0;
  // Replaces the records of existing topics, all or none (kNotFound if one
  // is missing).
  virtual absl::Status Commit(
      std::vector<std::pair<std::string, TopicRecord>> writes) = 0;
  // Names, types and versions (values left empty), sorted by name.
  virtual std::vector<std::pair<std::string, TopicRecord>> List() const = 0;
  virtual size_t size() const = 0;
};

class MemoryTopicStore final : public TopicStore {
 public:
  absl::StatusOr<TopicRecord> Get(std::string_view name) const override;
  bool Contains(std::string_view name) const override;
  absl::Status Insert(std::string_view name, TopicRecord record) override;
  absl::Status Erase(std::string_view name) override;
  absl::Status Commit(
      std::vector<std::pair<std::string, TopicRecord>> writes) override;
  std::vector<std::pair<std::string, TopicRecord>> List() const override;
  size_t size() const override { return records_.size(); }

 private:
  std::map<std::string, TopicRecord, std::less<>> records_;
};

}  // namespace msock::internal::topics

#endif  // MSOCK_PROTOCOLS_TOPICS_STORE_H_
