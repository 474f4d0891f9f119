// Rooms wire codec: binary protobuf or its JSON mapping, detected per message;
// UTF-8 payloads go in `text` when writing JSON so that browsers read them.
#include "protocols/rooms/codec.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace msock::internal::rooms {

namespace pb = ::msock::rooms;

absl::Status Decode(std::string_view body, pb::Envelope* env, Encoding* enc,
                    TooDeep* too_deep) {
  if (!body.empty() && body.front() == '{') {
    *enc = Encoding::kJson;
    if (std::optional<TooDeep> deep = ScanJsonDepth(body)) {
      if (too_deep != nullptr) *too_deep = *deep;
      return absl::InvalidArgumentError(absl::StrCat(
          "rooms: JSON nested deeper than ", kMaxJsonDepth, " levels"));
    }
    google::protobuf::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = true;  // newer peers may add fields
    auto st = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(body.data(), body.size()), env, opts);
    if (!st.ok()) {
      return absl::DataLossError(
          absl::StrCat("rooms: bad JSON envelope: ", st.ToString()));
    }
  } else {
    *enc = Encoding::kBinary;
    if (!env->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return absl::DataLossError("rooms: bad binary envelope");
    }
  }
  if (env->kind_case() == pb::Envelope::KIND_NOT_SET) {
    return absl::DataLossError("rooms: envelope of no known kind");
  }
  return absl::OkStatus();
}

pb::Envelope::KindCase PeekKind(std::string_view body) {
  if (body.empty()) return pb::Envelope::KIND_NOT_SET;
  if (body.front() != '{') {
    // A one-byte tag: field number 1..15, wire type 2 (length-delimited).
    const auto tag = static_cast<unsigned char>(body.front());
    const int field = tag >> 3;
    if ((tag & 0x87) != 0x02 || field < pb::Envelope::kHello ||
        field > pb::Envelope::kAck) {
      return pb::Envelope::KIND_NOT_SET;
    }
    return static_cast<pb::Envelope::KindCase>(field);
  }
  size_t i = 1;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\t' ||
                             body[i] == '\n' || body[i] == '\r')) {
    ++i;
  }
  const std::string_view rest = body.substr(i);
  static constexpr std::pair<std::string_view, pb::Envelope::KindCase> kKeys[] =
      {{"\"ack\"", pb::Envelope::kAck},
       {"\"event\"", pb::Envelope::kEvent},
       {"\"welcome\"", pb::Envelope::kWelcome},
       {"\"refused\"", pb::Envelope::kRefused},
       {"\"hello\"", pb::Envelope::kHello},
       {"\"join\"", pb::Envelope::kJoin},
       {"\"leave\"", pb::Envelope::kLeave}};
  for (const auto& [key, kind] : kKeys) {
    if (rest.substr(0, key.size()) == key) return kind;
  }
  return pb::Envelope::KIND_NOT_SET;
}

namespace {

// JSON only: a readable payload goes in `text`.
template <typename T>
void PreferText(T* m) {
  if (m->body_case() == T::kPayload && IsUtf8(m->payload())) {
    std::string bytes = std::move(*m->mutable_payload());
    m->set_text(std::move(bytes));
  }
}

}  // namespace

absl::StatusOr<Message> Encode(const pb::Envelope& env, Encoding enc,
                               size_t max_size) {
  if (enc == Encoding::kBinary) {
    const size_t n = env.ByteSizeLong();
    if (max_size != 0 && n > max_size) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "rooms: message of ", n, " bytes is over the limit of ", max_size));
    }
    Message m = Message::WithSize(n);
    if (n > 0 && !env.SerializeWithCachedSizesToArray(
                     reinterpret_cast<uint8_t*>(m.mutable_data()))) {
      return absl::InternalError("rooms: protobuf serialization failed");
    }
    return m;
  }
  const pb::Envelope* out = &env;
  pb::Envelope readable;  // a copy only when a payload moves to `text`
  if ((env.has_event() && env.event().body_case() == pb::Event::kPayload &&
       IsUtf8(env.event().payload())) ||
      (env.has_ack() && env.ack().body_case() == pb::Ack::kPayload &&
       IsUtf8(env.ack().payload()))) {
    readable = env;
    if (readable.has_event()) PreferText(readable.mutable_event());
    if (readable.has_ack()) PreferText(readable.mutable_ack());
    out = &readable;
  }
  std::string json;
  auto st = google::protobuf::util::MessageToJsonString(*out, &json);
  if (!st.ok()) {
    return absl::InternalError(
        absl::StrCat("rooms: JSON encoding failed: ", st.ToString()));
  }
  if (max_size != 0 && json.size() > max_size) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rooms: message of ", json.size(),
                     " bytes is over the limit of ", max_size));
  }
  return Message(json);
}

namespace {

template <typename T>
std::string TakeBody(T* m) {
  std::string out;
  if (m->body_case() == T::kPayload) {
    out = std::move(*m->mutable_payload());
  } else if (m->body_case() == T::kText) {
    out = std::move(*m->mutable_text());
  }
  return out;
}

}  // namespace

std::string TakePayload(pb::Event* ev) { return TakeBody(ev); }
std::string TakePayload(pb::Ack* ack) { return TakeBody(ack); }

bool IsUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Fast path: 8 ASCII bytes at a time.
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += extra + 1;
  }
  return true;
}

absl::Status CheckName(std::string_view what, std::string_view name,
                       size_t max_size, bool allow_empty) {
  if (name.empty() && !allow_empty) {
    return absl::InvalidArgumentError(
        absl::StrCat("rooms: empty ", std::string(what)));
  }
  if (name.size() > max_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rooms: ", std::string(what), " longer than ", max_size, " bytes"));
  }
  if (!IsUtf8(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rooms: ", std::string(what), " is not UTF-8"));
  }
  return absl::OkStatus();
}

std::string Utf8Lossy(std::string_view s) {
  if (IsUtf8(s)) return std::string(s);
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

pb::Envelope MakeEvent(std::string_view name, std::string_view payload,
                       std::string_view ns, std::string_view room,
                       uint32_t ack) {
  pb::Envelope env;
  pb::Event* ev = env.mutable_event();
  ev->set_name(std::string(name));
  ev->set_payload(std::string(payload));
  if (ack != 0) ev->set_ack(ack);
  if (!ns.empty() && ns != "/") ev->set_ns(std::string(ns));
  if (!room.empty()) ev->set_room(std::string(room));
  return env;
}

pb::Envelope WithTimeout(pb::Envelope env, absl::Time deadline) {
  if (env.has_event() && env.event().ack() != 0 &&
      deadline != absl::InfiniteFuture()) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    env.mutable_event()->set_timeout_ms(
        static_cast<uint32_t>(std::clamp<int64_t>(ms, 1, UINT32_MAX)));
  }
  return env;
}

pb::Envelope MakeAck(uint32_t id, const absl::StatusOr<std::string>& result) {
  pb::Envelope env;
  pb::Ack* ack = env.mutable_ack();
  ack->set_id(id);
  if (result.ok()) {
    // An empty answer travels as no body at all (reads back as "").
    if (!result->empty()) ack->set_payload(*result);
  } else {
    ack->set_code(static_cast<int32_t>(result.status().code()));
    ack->set_error(Utf8Lossy(AsStd(result.status().message())));
  }
  return env;
}

RoomEvent ToRoomEvent(pb::Event* event, std::string client) {
  RoomEvent ev;
  ev.client = std::move(client);
  ev.ns = NamespaceOrDefault(event->ns());
  ev.name = event->name();
  ev.room = event->room();
  ev.payload = TakePayload(event);
  ev.wants_ack = event->ack() != 0;
  if (ev.wants_ack && event->timeout_ms() != 0) {
    ev.timeout = absl::Milliseconds(event->timeout_ms());
  }
  if (ev.client.empty()) ev.client = event->from();
  return ev;
}

absl::StatusOr<std::string> AckResult(pb::Ack* ack) {
  if (ack->code() != 0) {
    // Codes a newer peer may invent map to kUnknown.
    const int code = ack->code();
    const auto c = (code > 0 && code <= 16)
                       ? static_cast<absl::StatusCode>(code)
                       : absl::StatusCode::kUnknown;
    return absl::Status(c, ack->error());
  }
  return TakePayload(ack);
}

}  // namespace msock::internal::rooms
