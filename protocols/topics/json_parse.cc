// A small, strict JSON parser for topic values and change records (the hot
// path of every Apply), with a depth limit so that hostile nesting is refused
// rather than overflowing the stack. Protobuf's JSON mapping (much slower)
// still parses the other topics messages (protocols/topics/change.cc).
#include <charconv>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "protocols/rooms/codec.h"
#include "protocols/topics/change.h"

namespace msock::internal::topics {

namespace {

// Values at depth 0..kMaxDepth: a change record (an object) holds a value of
// kMaxValueDepth levels with scalars inside; CheckValue and Apply judge the
// value itself.
constexpr int kMaxDepth = kMaxValueDepth + 1;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  absl::Status Parse(Value* out) {
    MSOCK_RETURN_IF_ERROR(ParseValue(out, 0));
    Skip();
    if (i_ != s_.size()) return Error("trailing characters");
    return absl::OkStatus();
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("topics: bad JSON at byte ", i_, ": ", std::string(what)));
  }
  void Skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                              s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool Eat(char c) {
    Skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool Word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  absl::Status ParseValue(Value* out, int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    Skip();
    if (i_ >= s_.size()) return Error("unexpected end");
    const char c = s_[i_];
    if (c == '{') return ParseObject(out, depth);
    if (c == '[') return ParseArray(out, depth);
    if (c == '"') return ParseString(out->mutable_string_value());
    if (Word("true")) {
      out->set_bool_value(true);
    } else if (Word("false")) {
      out->set_bool_value(false);
    } else if (Word("null")) {
      out->set_null_value(google::protobuf::NULL_VALUE);
    } else {
      return ParseNumber(out);
    }
    return absl::OkStatus();
  }

  absl::Status ParseObject(Value* out, int depth) {
    ++i_;
    auto* fields = out->mutable_struct_value()->mutable_fields();
    if (Eat('}')) return absl::OkStatus();
    do {
      Skip();
      if (i_ >= s_.size() || s_[i_] != '"') return Error("expected a key");
      std::string key;
      MSOCK_RETURN_IF_ERROR(ParseString(&key));
      if (!Eat(':')) return Error("expected ':'");
      Value v;
      MSOCK_RETURN_IF_ERROR(ParseValue(&v, depth + 1));
      (*fields)[key] = std::move(v);
    } while (Eat(','));
    if (!Eat('}')) return Error("expected ',' or '}'");
    return absl::OkStatus();
  }

  absl::Status ParseArray(Value* out, int depth) {
    ++i_;
    auto* list = out->mutable_list_value();
    if (Eat(']')) return absl::OkStatus();
    do {
      MSOCK_RETURN_IF_ERROR(ParseValue(list->add_values(), depth + 1));
    } while (Eat(','));
    if (!Eat(']')) return Error("expected ',' or ']'");
    return absl::OkStatus();
  }

  static void Utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool Hex4(uint32_t* cp) {
    if (i_ + 4 > s_.size()) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= h - '0';
      } else if (h >= 'a' && h <= 'f') {
        v |= h - 'a' + 10;
      } else if (h >= 'A' && h <= 'F') {
        v |= h - 'A' + 10;
      } else {
        return false;
      }
    }
    *cp = v;
    return true;
  }

  absl::Status ParseString(std::string* out) {
    ++i_;  // the opening quote
    const size_t start = out->size();
    while (i_ < s_.size() && s_[i_] != '"') {
      const char c = s_[i_++];
      if (static_cast<unsigned char>(c) < 0x20) {
        return Error("control character in a string");
      }
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) break;
      const char e = s_[i_++];
      static constexpr std::string_view kFrom = "\"\\/bfnrt";
      static constexpr std::string_view kTo = "\"\\/\b\f\n\r\t";
      if (const size_t k = kFrom.find(e); k != std::string_view::npos) {
        out->push_back(kTo[k]);
        continue;
      }
      uint32_t cp;
      if (e != 'u' || !Hex4(&cp)) return Error("bad escape");
      if (cp >= 0xD800 && cp < 0xDC00 && Word("\\u")) {  // a surrogate pair
        uint32_t lo;
        if (!Hex4(&lo)) return Error("bad escape");
        cp = (lo >= 0xDC00 && lo < 0xE000)
                 ? 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                 : 0xFFFD;
      } else if (cp >= 0xD800 && cp < 0xE000) {
        cp = 0xFFFD;  // a lone surrogate
      }
      Utf8(cp, out);
    }
    if (i_ >= s_.size()) return Error("unterminated string");
    ++i_;
    if (!rooms::IsUtf8(std::string_view(*out).substr(start))) {
      return Error("a string is not UTF-8");
    }
    return absl::OkStatus();
  }

  absl::Status ParseNumber(Value* out) {
    const size_t start = i_;
    auto digits = [&] {
      const size_t from = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ > from;
    };
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    const size_t int_start = i_;
    if (!digits()) return Error("expected a value");
    // JSON numbers have no leading zeros ("0", "0.5", not "01").
    if (i_ - int_start > 1 && s_[int_start] == '0') {
      return Error("leading zero in a number");
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return Error("bad number");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return Error("bad number");
    }
    double d = 0;
    auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + i_, d);
    if (ec != std::errc() || !std::isfinite(d)) return Error("bad number");
    out->set_number_value(d);
    return absl::OkStatus();
  }

  std::string_view s_;
  size_t i_ = 0;
};

// A whole number from a JSON number or a numeric string (protobuf writes
// 64-bit integers as strings).
absl::StatusOr<double> Whole(const Value& v, std::string_view name) {
  double d = -1;
  if (v.kind_case() == Value::kNumberValue) {
    d = v.number_value();
  } else if (v.kind_case() == Value::kStringValue) {
    const std::string& s = v.string_value();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || end != s.data() + s.size()) d = 0.5;
  } else {
    d = 0.5;
  }
  if (std::floor(d) != d || std::fabs(d) > 9007199254740992.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("change: \"", std::string(name), "\" must be an integer"));
  }
  return d;
}

absl::Status Text(const Value& v, std::string_view name, std::string* out) {
  if (v.kind_case() != Value::kStringValue) {
    return absl::InvalidArgumentError(
        absl::StrCat("change: \"", std::string(name), "\" must be a string"));
  }
  *out = v.string_value();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Value> ParseJson(std::string_view json) {
  Value v;
  MSOCK_RETURN_IF_ERROR(Parser(json).Parse(&v));
  return v;
}

absl::StatusOr<pb::Change> ParseChange(std::string_view json) {
  MSOCK_ASSIGN_OR_RETURN(Value v, ParseJson(json));
  if (v.kind_case() != Value::kStructValue) {
    return absl::InvalidArgumentError("change: not a JSON object");
  }
  pb::Change c;
  for (auto& [key, field] : *v.mutable_struct_value()->mutable_fields()) {
    if (key == "topic") {
      MSOCK_RETURN_IF_ERROR(Text(field, key, c.mutable_topic()));
    } else if (key == "type") {
      MSOCK_RETURN_IF_ERROR(Text(field, key, c.mutable_type()));
    } else if (key == "value") {
      *c.mutable_value() = std::move(field);
    } else if (key == "oldValue" || key == "old_value") {
      *c.mutable_old_value() = std::move(field);
    } else if (key == "item") {
      *c.mutable_item() = std::move(field);
    } else if (key == "key") {
      MSOCK_RETURN_IF_ERROR(Text(field, key, c.mutable_key()));
    } else if (key == "text") {
      MSOCK_RETURN_IF_ERROR(Text(field, key, c.mutable_text()));
    } else if (key == "id") {
      MSOCK_RETURN_IF_ERROR(Text(field, key, c.mutable_id()));
    } else if (key == "position") {
      MSOCK_ASSIGN_OR_RETURN(double p, Whole(field, key));
      if (std::fabs(p) > 2147483647.0) {
        return absl::OutOfRangeError("change: position out of range");
      }
      c.set_position(static_cast<int32_t>(p));
    } else if (key == "base") {
      MSOCK_ASSIGN_OR_RETURN(double b, Whole(field, key));
      if (b < 0) return absl::InvalidArgumentError("change: negative base");
      c.set_base(static_cast<uint64_t>(b));
    }  // other fields: ignored, as protobuf's JSON mapping would
  }
  return c;
}

}  // namespace msock::internal::topics
