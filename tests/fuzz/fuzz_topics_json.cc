// libFuzzer target: the topics JSON parser and writer (ParseJson in
// protocols/topics/json_parse.cc, ToJson in json.cc), which read the topic
// values and change records given as JSON text. Asserts that ParseJson
// accepts or answers kInvalidArgument, that what it accepts nests within its
// depth limit, that ToJson writes UTF-8 JSON that parses back (in msock and in
// protobuf's JSON mapping) to an equal value and to the same text, and that a
// value CheckValue lets a topic hold survives an update to binary and JSON
// subscribers.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "google/protobuf/util/json_util.h"
#include "protocols/rooms/codec.h"
#include "protocols/topics/change.h"

namespace {

namespace tp = msock::internal::topics;

// json_parse.cc takes values at depth 0..kMaxValueDepth + 1 (a change record
// holds a whole value), so containers nest one more level when the innermost
// is empty.
constexpr int kMaxNesting = tp::kMaxValueDepth + 2;

void Require(bool ok) {
  if (!ok) std::abort();
}

// How deep the brackets outside strings nest (in valid JSON).
int Nesting(std::string_view j) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : j) {
    if (in_string) {
      in_string = escaped || c != '"';
      escaped = !escaped && c == '\\';
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<tp::Value> v = tp::ParseJson(in);
  if (!v.ok()) {
    Require(v.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  Require(Nesting(in) <= kMaxNesting);
  const std::string text = tp::ToJson(*v);
  Require(msock::internal::rooms::IsUtf8(text));
  Require(tp::JsonSize(*v) == text.size());

  absl::StatusOr<tp::Value> back = tp::ParseJson(text);
  Require(back.ok() && tp::Equal(*v, *back) && tp::ToJson(*back) == text);

  tp::Value by_protobuf;
  Require(google::protobuf::util::JsonStringToMessage(text, &by_protobuf).ok());
  Require(tp::Equal(*v, by_protobuf));

  // A value a topic may hold (CheckValue: nesting within kMaxValueDepth)
  // reaches binary and JSON subscribers in an update: protobuf's parsers and
  // its JSON writer refuse deep nesting.
  const bool holdable = Nesting(in) <= tp::kMaxValueDepth;
  Require(tp::CheckValue(msock::TopicType::kGeneric, *v).ok() == holdable);
  if (!holdable) return 0;
  tp::pb::Update update;
  update.set_topic("t");
  *update.add_changes()->mutable_value() = *v;
  for (bool json : {false, true}) {
    tp::pb::Update received;
    Require(tp::DecodePayload(tp::EncodeFor(update, json), &received).ok());
    Require(received.changes_size() == 1 &&
            tp::Equal(received.changes(0).value(), *v));
  }
  return 0;
}
