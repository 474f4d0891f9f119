// msock::changes: builders of change records (JSON) for TopicsClient::Apply
// and TopicHost::Apply. A builder given JSON that does not parse still builds
// the record; the hub (or the local preview) then refuses it with the reason.
#include <string>

#include "absl/strings/str_cat.h"
#include "msock/protocols/topics.h"
#include "protocols/topics/change.h"

namespace msock {

std::string_view TopicTypeName(TopicType type) {
  return internal::topics::TypeName(type);
}

absl::StatusOr<TopicType> TopicTypeFromName(std::string_view name) {
  return internal::topics::ParseType(name);
}

namespace changes {

namespace {

std::string Quote(std::string_view s) {
  google::protobuf::Value v;
  v.set_string_value(std::string(s));
  return internal::topics::ToJson(v);
}

Change Make(std::string_view topic, std::string_view type,
            std::string_view fields) {
  return Change{
      std::string(topic),
      absl::StrCat("{\"type\":\"", std::string(type), "\"",
                   fields.empty() ? "" : ",", std::string(fields), "}")};
}

}  // namespace

Change Set(std::string_view topic, std::string_view value_json) {
  return Make(topic, "set",
              absl::StrCat("\"value\":", std::string(value_json)));
}
Change Add(std::string_view topic, double amount) {
  google::protobuf::Value v;
  v.set_number_value(amount);
  return Make(topic, "add",
              absl::StrCat("\"value\":", internal::topics::ToJson(v)));
}
Change InsertText(std::string_view topic, int position, std::string_view text) {
  return Make(
      topic, "insert",
      absl::StrCat("\"position\":", position, ",\"text\":", Quote(text)));
}
Change DeleteText(std::string_view topic, int position, std::string_view text) {
  return Make(
      topic, "delete",
      absl::StrCat("\"position\":", position, ",\"text\":", Quote(text)));
}
Change SetAdd(std::string_view topic, std::string_view item_json) {
  return Make(topic, "append",
              absl::StrCat("\"item\":", std::string(item_json)));
}
Change SetRemove(std::string_view topic, std::string_view item_json) {
  return Make(topic, "remove",
              absl::StrCat("\"item\":", std::string(item_json)));
}
Change ListInsert(std::string_view topic, int position,
                  std::string_view item_json) {
  return Make(topic, "insert",
              absl::StrCat("\"position\":", position,
                           ",\"item\":", std::string(item_json)));
}
Change ListPop(std::string_view topic, int position) {
  return Make(topic, "pop", absl::StrCat("\"position\":", position));
}
Change ListSet(std::string_view topic, int position,
               std::string_view item_json) {
  return Make(topic, "set_at",
              absl::StrCat("\"position\":", position,
                           ",\"item\":", std::string(item_json)));
}
Change DictAdd(std::string_view topic, std::string_view key,
               std::string_view value_json) {
  return Make(topic, "add",
              absl::StrCat("\"key\":", Quote(key),
                           ",\"value\":", std::string(value_json)));
}
Change DictPop(std::string_view topic, std::string_view key) {
  return Make(topic, "pop", absl::StrCat("\"key\":", Quote(key)));
}
Change DictChange(std::string_view topic, std::string_view key,
                  std::string_view value_json) {
  return Make(topic, "change_value",
              absl::StrCat("\"key\":", Quote(key),
                           ",\"value\":", std::string(value_json)));
}
Change Emit(std::string_view topic, std::string_view args_json) {
  return Make(topic, "emit",
              absl::StrCat("\"value\":", std::string(args_json)));
}

}  // namespace changes
}  // namespace msock
