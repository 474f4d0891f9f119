// Topic changes: effect, preconditions and inverse of every change type, on
// google.protobuf.Value (the JSON data model). Positions in strings count
// Unicode code points (what a browser's Array.from(str) counts); negative list
// positions count from the end (-1 = after the last element for insert, the
// last element for pop and set_at).
#include "protocols/topics/change.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace msock::internal::topics {

namespace {

constexpr double kMaxSafeInt = 9007199254740992.0;  // 2^53

struct TypeEntry {
  TopicType type;
  std::string_view name;
};
constexpr TypeEntry kTypes[] = {
    {TopicType::kGeneric, "generic"}, {TopicType::kString, "string"},
    {TopicType::kInt, "int"},         {TopicType::kFloat, "float"},
    {TopicType::kBool, "bool"},       {TopicType::kSet, "set"},
    {TopicType::kList, "list"},       {TopicType::kDict, "dict"},
    {TopicType::kEvent, "event"}};

bool IsInt(const Value& v) {
  return v.kind_case() == Value::kNumberValue &&
         std::floor(v.number_value()) == v.number_value() &&
         std::fabs(v.number_value()) <= kMaxSafeInt;
}

absl::Status Bad(const pb::Change& c, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(c.type(), ": ", std::string(why)));
}

// How deep `v` nests (0 for a scalar), counted up to `limit` + 1 at most so
// that the recursion stays bounded.
int Nesting(const Value& v, int limit) {
  if (limit < 0) return 0;
  int deepest = 0;
  if (v.kind_case() == Value::kListValue) {
    for (const Value& item : v.list_value().values()) {
      deepest = std::max(deepest, Nesting(item, limit - 1));
    }
  } else if (v.kind_case() == Value::kStructValue) {
    for (const auto& [key, item] : v.struct_value().fields()) {
      deepest = std::max(deepest, Nesting(item, limit - 1));
    }
  } else {
    return 0;
  }
  return deepest + 1;
}

// Byte offset of code point `cp` in UTF-8 `s`, or npos past the end.
size_t ByteOffset(const std::string& s, int64_t cp) {
  size_t i = 0;
  for (int64_t n = 0; n < cp; ++n) {
    if (i >= s.size()) return std::string::npos;
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) {
      ++i;
    }
  }
  return i;
}

int64_t CodePoints(std::string_view s) {
  int64_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

int FindItem(const google::protobuf::ListValue& list, const Value& item) {
  for (int i = 0; i < list.values_size(); ++i) {
    if (Equal(list.values(i), item)) return i;
  }
  return -1;
}

// A list index for pop / set_at: -1 is the last element.
absl::StatusOr<int> ElementIndex(const pb::Change& c, int size) {
  if (!c.has_position()) return Bad(c, "needs a position");
  int64_t p = c.position();
  if (p < 0) p += size;
  if (p < 0 || p >= size) {
    return absl::OutOfRangeError(absl::StrCat(
        c.type(), ": position ", c.position(), " outside a list of ", size));
  }
  return static_cast<int>(p);
}

absl::Status ApplyString(Value& v, pb::Change& c) {
  std::string& s = *v.mutable_string_value();
  const int64_t len = CodePoints(s);
  if (!c.has_position() || c.position() < 0 || c.position() > len) {
    return absl::OutOfRangeError(absl::StrCat(
        c.type(), ": position outside 0..", len, " of the string"));
  }
  const size_t at = ByteOffset(s, c.position());
  if (c.type() == "insert") {
    s.insert(at, c.text());
    return absl::OkStatus();
  }
  if (c.type() != "delete") return Bad(c, "not a change of a string topic");
  if (s.compare(at, c.text().size(), c.text()) != 0) {
    return absl::AbortedError("delete: the text at that position differs");
  }
  s.erase(at, c.text().size());
  return absl::OkStatus();
}

absl::Status ApplyNumber(TopicType type, Value& v, pb::Change& c) {
  if (c.type() != "add") return Bad(c, "not a change of a number topic");
  if (c.value().kind_case() != Value::kNumberValue) {
    return Bad(c, "value must be a number");
  }
  Value next;
  next.set_number_value(v.number_value() + c.value().number_value());
  if (!std::isfinite(next.number_value())) {
    return absl::OutOfRangeError("add: the sum is out of range");
  }
  if (type == TopicType::kInt && (!IsInt(c.value()) || !IsInt(next))) {
    return Bad(c, "an int topic must stay an integer within +-2^53");
  }
  // A float sum rounds (0.5 + 2.5e101 - 2.5e101 is 0): its inverse sets the
  // value it had. Integers within +-2^53 add exactly: theirs subtracts.
  if (type == TopicType::kFloat) *c.mutable_old_value() = v;
  v = std::move(next);
  return absl::OkStatus();
}

absl::Status ApplySet(Value& v, pb::Change& c) {
  auto* list = v.mutable_list_value();
  const int at = FindItem(*list, c.item());
  if (c.type() == "append") {
    if (at >= 0) return absl::AlreadyExistsError("append: item already in set");
    *list->add_values() = c.item();
    return absl::OkStatus();
  }
  if (c.type() != "remove") return Bad(c, "not a change of a set topic");
  if (at < 0) return absl::NotFoundError("remove: item not in set");
  list->mutable_values()->DeleteSubrange(at, 1);
  return absl::OkStatus();
}

absl::Status ApplyList(Value& v, pb::Change& c) {
  auto* list = v.mutable_list_value();
  const int size = list->values_size();
  if (c.type() == "insert") {
    if (!c.has_position()) return Bad(c, "needs a position");
    int64_t p = c.position();
    if (p < 0) p += size + 1;  // -1 appends
    if (p < 0 || p > size) {
      return absl::OutOfRangeError(absl::StrCat(
          "insert: position ", c.position(), " outside a list of ", size));
    }
    auto* values = list->mutable_values();
    *values->Add() = c.item();
    for (int i = size; i > p; --i) values->SwapElements(i, i - 1);
    c.set_position(static_cast<int32_t>(p));  // the position used
    return absl::OkStatus();
  }
  if (c.type() != "pop" && c.type() != "set_at") {
    return Bad(c, "not a change of a list topic");
  }
  absl::StatusOr<int> at = ElementIndex(c, size);
  if (!at.ok()) return at.status();
  c.set_position(*at);
  if (c.type() == "set_at") {
    *c.mutable_old_value() = list->values(*at);
    *list->mutable_values(*at) = c.item();
    return absl::OkStatus();
  }
  *c.mutable_item() = list->values(*at);
  list->mutable_values()->DeleteSubrange(*at, 1);
  return absl::OkStatus();
}

absl::Status ApplyDict(Value& v, pb::Change& c) {
  auto* fields = v.mutable_struct_value()->mutable_fields();
  auto it = fields->find(c.key());
  if (c.type() == "add") {
    if (it != fields->end()) {
      return absl::AlreadyExistsError(
          absl::StrCat("add: key \"", c.key(), "\" exists"));
    }
    (*fields)[c.key()] = c.value();
    return absl::OkStatus();
  }
  if (c.type() != "pop" && c.type() != "change_value") {
    return Bad(c, "not a change of a dict topic");
  }
  if (it == fields->end()) {
    return absl::NotFoundError(
        absl::StrCat(c.type(), ": no key \"", c.key(), "\""));
  }
  *c.mutable_old_value() = it->second;
  if (c.type() == "pop") {
    fields->erase(it);
  } else {
    it->second = c.value();
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view TypeName(TopicType type) {
  for (const TypeEntry& e : kTypes) {
    if (e.type == type) return e.name;
  }
  return "?";
}

absl::StatusOr<TopicType> ParseType(std::string_view name) {
  for (const TypeEntry& e : kTypes) {
    if (e.name == name) return e.type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown topic type \"", std::string(name),
                   "\" (generic, string, int, float, bool, set, list, dict, "
                   "event)"));
}

Value DefaultValue(TopicType type) {
  Value v;
  switch (type) {
    case TopicType::kString:
      v.set_string_value("");
      break;
    case TopicType::kInt:
    case TopicType::kFloat:
      v.set_number_value(0);
      break;
    case TopicType::kBool:
      v.set_bool_value(false);
      break;
    case TopicType::kSet:
    case TopicType::kList:
      v.mutable_list_value();
      break;
    case TopicType::kDict:
      v.mutable_struct_value();
      break;
    default:
      v.set_null_value(google::protobuf::NULL_VALUE);
  }
  return v;
}

absl::Status CheckValue(TopicType type, const Value& v) {
  auto want = [&](bool ok, std::string_view what) {
    return ok ? absl::OkStatus()
              : absl::InvalidArgumentError(
                    absl::StrCat("a ", std::string(TypeName(type)),
                                 " topic holds ", std::string(what)));
  };
  if (Nesting(v, kMaxValueDepth) > kMaxValueDepth) {
    return want(false, absl::StrCat("values nesting at most ", kMaxValueDepth,
                                    " levels"));
  }
  switch (type) {
    case TopicType::kString:
      return want(v.kind_case() == Value::kStringValue, "a string");
    case TopicType::kInt:
      return want(IsInt(v), "an integer within +-2^53");
    case TopicType::kFloat:
      return want(v.kind_case() == Value::kNumberValue, "a number");
    case TopicType::kBool:
      return want(v.kind_case() == Value::kBoolValue, "true or false");
    case TopicType::kList:
      return want(v.kind_case() == Value::kListValue, "a list");
    case TopicType::kDict:
      return want(v.kind_case() == Value::kStructValue, "an object");
    case TopicType::kEvent:
      return want(v.kind_case() == Value::kNullValue ||
                      v.kind_case() == Value::KIND_NOT_SET,
                  "no value");
    case TopicType::kSet: {
      if (v.kind_case() != Value::kListValue) return want(false, "a list");
      const auto& l = v.list_value();
      for (int i = 0; i < l.values_size(); ++i) {
        for (int j = 0; j < i; ++j) {
          if (Equal(l.values(i), l.values(j))) {
            return want(false, "a list of distinct items");
          }
        }
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status Apply(TopicType type, Value& value, pb::Change& c) {
  // Every value reaches subscribers within kMaxValueDepth levels: a topic's
  // new value or an event's arguments whole, the others inside the topic's
  // list or object, one level down.
  const int room = c.type() == "set" || c.type() == "emit" ? kMaxValueDepth
                                                           : kMaxValueDepth - 1;
  if (Nesting(c.value(), room) > room || Nesting(c.item(), room) > room) {
    return Bad(c, absl::StrCat("a value or item may nest ", room,
                               " levels at most here"));
  }
  if (c.type() == "set") {
    if (type == TopicType::kEvent) return Bad(c, "an event topic has no value");
    if (absl::Status st = CheckValue(type, c.value()); !st.ok()) return st;
    *c.mutable_old_value() = value;
    value = c.value();
    return absl::OkStatus();
  }
  if (c.type() == "emit") {
    return type == TopicType::kEvent ? absl::OkStatus()
                                     : Bad(c, "only event topics emit");
  }
  switch (type) {
    case TopicType::kString:
      return ApplyString(value, c);
    case TopicType::kInt:
    case TopicType::kFloat:
      return ApplyNumber(type, value, c);
    case TopicType::kSet:
      return ApplySet(value, c);
    case TopicType::kList:
      return ApplyList(value, c);
    case TopicType::kDict:
      return ApplyDict(value, c);
    default:
      return Bad(c, absl::StrCat("a ", std::string(TypeName(type)),
                                 " topic only takes set"));
  }
}

pb::Change Inverse(TopicType type, const pb::Change& c) {
  pb::Change inv = c;
  const std::string& t = c.type();
  if (t == "set" || t == "change_value") {
    inv.mutable_value()->Swap(inv.mutable_old_value());
  } else if (t == "set_at") {
    *inv.mutable_item() = c.old_value();
    *inv.mutable_old_value() = c.item();
  } else if (t == "add" && type == TopicType::kInt) {
    inv.mutable_value()->set_number_value(-c.value().number_value());
  } else if (t == "add" && type == TopicType::kFloat) {
    inv.set_type("set");
    *inv.mutable_value() = c.old_value();
    inv.clear_old_value();
  } else if (t == "insert") {
    inv.set_type(type == TopicType::kString ? "delete" : "pop");
  } else if (t == "delete") {
    inv.set_type("insert");
  } else if (t == "append") {
    inv.set_type("remove");
  } else if (t == "remove") {
    inv.set_type("append");
  } else if (t == "pop" && type == TopicType::kList) {
    inv.set_type("insert");
  } else if (t == "add") {  // dict
    inv.set_type("pop");
    *inv.mutable_old_value() = c.value();
  } else if (t == "pop") {  // dict
    inv.set_type("add");
    *inv.mutable_value() = c.old_value();
  }
  return inv;
}

bool Equal(const Value& a, const Value& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

std::string ToJson(const google::protobuf::Message& m) {
  // Protobuf's printer fails only on what msock's messages never hold (an Any
  // of an unknown type); if it ever does, the peer gets an empty object (all
  // defaults) rather than a truncated text that would not parse.
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out).ok()) return "{}";
  return out;
}

absl::Status FromJson(std::string_view json, google::protobuf::Message* m) {
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), m, opts);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("topics: bad JSON: ", st.message().as_string()));
  }
  return absl::OkStatus();
}

std::string EncodeFor(const google::protobuf::Message& m, bool json) {
  return json ? ToJson(m) : m.SerializeAsString();
}

absl::Status DecodePayload(std::string_view body,
                           google::protobuf::Message* m) {
  if (!body.empty() && body.front() == '{') return FromJson(body, m);
  if (!m->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("topics: payload is not a valid ", m->GetTypeName()));
  }
  return absl::OkStatus();
}

size_t JsonSize(const Value& v) { return ToJson(v).size(); }

}  // namespace msock::internal::topics
