// Fast JSON writers for topic values and changes (the hot path: every
// snapshot, change callback and validator). Canonical output: object keys
// sorted, numbers in their shortest round-trip form, strings as UTF-8 with
// only '"', '\' and control characters escaped. Parsing stays with
// protobuf's JSON mapping (protocols/topics/change.cc).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "protocols/topics/change.h"

namespace msock::internal::topics {

namespace {

void Quote(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (u < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(ch);
    }
  }
  out->push_back('"');
}

void Number(double d, std::string* out) {
  if (!std::isfinite(d)) {  // not JSON; Apply never makes one
    out->append("null");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out->append(buf, ec == std::errc() ? end : buf);
}

void Write(const Value& v, std::string* out) {
  switch (v.kind_case()) {
    case Value::kNumberValue:
      Number(v.number_value(), out);
      return;
    case Value::kStringValue:
      Quote(v.string_value(), out);
      return;
    case Value::kBoolValue:
      out->append(v.bool_value() ? "true" : "false");
      return;
    case Value::kListValue: {
      out->push_back('[');
      const auto& l = v.list_value();
      for (int i = 0; i < l.values_size(); ++i) {
        if (i > 0) out->push_back(',');
        Write(l.values(i), out);
      }
      out->push_back(']');
      return;
    }
    case Value::kStructValue: {
      const auto& fields = v.struct_value().fields();
      std::vector<const std::string*> keys;
      keys.reserve(fields.size());
      for (const auto& [k, unused] : fields) keys.push_back(&k);
      std::sort(
          keys.begin(), keys.end(),
          [](const std::string* a, const std::string* b) { return *a < *b; });
      out->push_back('{');
      for (size_t i = 0; i < keys.size(); ++i) {
        if (i > 0) out->push_back(',');
        Quote(*keys[i], out);
        out->push_back(':');
        Write(fields.at(*keys[i]), out);
      }
      out->push_back('}');
      return;
    }
    default:
      out->append("null");
  }
}

void Field(std::string_view name, std::string* out) {
  if (out->back() != '{') out->push_back(',');
  Quote(name, out);
  out->push_back(':');
}

}  // namespace

std::string ToJson(const Value& v) {
  std::string out;
  Write(v, &out);
  return out;
}

std::string ChangeJson(const pb::Change& c) {
  std::string out = "{";
  if (!c.topic().empty()) Field("topic", &out), Quote(c.topic(), &out);
  Field("type", &out);
  Quote(c.type(), &out);
  if (c.has_value()) Field("value", &out), Write(c.value(), &out);
  if (c.has_old_value()) Field("oldValue", &out), Write(c.old_value(), &out);
  if (c.has_item()) Field("item", &out), Write(c.item(), &out);
  if (c.has_position()) {
    Field("position", &out);
    out.append(std::to_string(c.position()));
  }
  if (!c.key().empty()) Field("key", &out), Quote(c.key(), &out);
  if (!c.text().empty()) Field("text", &out), Quote(c.text(), &out);
  if (!c.id().empty()) Field("id", &out), Quote(c.id(), &out);
  out.push_back('}');
  return out;
}

}  // namespace msock::internal::topics
