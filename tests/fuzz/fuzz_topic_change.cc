// libFuzzer target: the topics change decoder and engine
// (protocols/topics/change.h). The first byte picks a topic type and a start
// value; the rest is a change record as JSON. Checks that nothing crashes,
// that a refused change leaves the value as it was, and that an accepted one
// is undone exactly by its inverse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocols/topics/change.h"

namespace {

namespace tp = msock::internal::topics;
using msock::TopicType;

void Require(bool ok) {
  if (!ok) std::abort();
}

constexpr TopicType kTypes[] = {
    TopicType::kGeneric, TopicType::kString, TopicType::kInt,
    TopicType::kFloat,   TopicType::kBool,   TopicType::kSet,
    TopicType::kList,    TopicType::kDict,   TopicType::kEvent};
constexpr const char* kStarts[] = {"null",    "\"héllo\"", "7",
                                   "0.5",     "true",      "[1,\"a\"]",
                                   "[1,2,3]", "{\"k\":1}", "null"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t pick = data[0] % 9;
  const std::string_view json(reinterpret_cast<const char*>(data + 1),
                              size - 1);
  absl::StatusOr<tp::pb::Change> change = tp::ParseChange(json);
  if (!change.ok()) return 0;
  const TopicType type = kTypes[pick];
  tp::Value value = tp::ParseJson(kStarts[pick]).value();
  const tp::Value before = value;
  if (!tp::Apply(type, value, *change).ok()) {
    Require(tp::Equal(value, before));
    return 0;
  }
  tp::pb::Change inverse = tp::Inverse(type, *change);
  Require(tp::Apply(type, value, inverse).ok());
  Require(tp::Equal(value, before));
  (void)tp::ToJson(value);
  return 0;
}
