// Rooms wire codec: one msock::rooms::Envelope per message body, binary
// protobuf or protobuf's JSON mapping (told apart by the first byte: '{' is
// JSON; a binary Envelope never starts with it, see rooms.proto). In JSON a
// UTF-8 payload travels in `text`, other bytes in `payload` (base64).
#ifndef MSOCK_PROTOCOLS_ROOMS_CODEC_H_
#define MSOCK_PROTOCOLS_ROOMS_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "msock/message.h"
#include "msock/protocols/rooms.h"
#include "protocols/proto/rooms.pb.h"
#include "protocols/rooms/json_depth.h"

namespace msock::internal::rooms {

enum class Encoding : uint8_t { kBinary, kJson };

// Parses `body` into *env and reports its encoding. kDataLoss if it is not a
// valid Envelope in either encoding, or has no kind set. kInvalidArgument
// (naming kMaxJsonDepth) for JSON nested deeper than that, not parsed: then
// *too_deep (if not null) says what the sender may be answered.
absl::Status Decode(std::string_view body, msock::rooms::Envelope* env,
                    Encoding* enc, TooDeep* too_deep = nullptr);

// A cheap guess of an envelope's kind from its first bytes, without parsing
// it (the receive filters use it to pick the few messages they handle on the
// I/O thread): the first field tag of a binary body, the first key of a JSON
// one. KIND_NOT_SET when it cannot tell; Decode has the last word.
msock::rooms::Envelope::KindCase PeekKind(std::string_view body);

// Serializes `env`. For JSON, Event and Ack payloads that are valid UTF-8 move
// to `text`. kResourceExhausted when the body would exceed `max_size` (0: no
// limit), kInternal if protobuf fails.
absl::StatusOr<Message> Encode(const msock::rooms::Envelope& env, Encoding enc,
                               size_t max_size);

// The payload bytes of an Event or Ack, whichever field carries them.
std::string TakePayload(msock::rooms::Event* ev);
std::string TakePayload(msock::rooms::Ack* ack);

bool IsUtf8(std::string_view s);
// `s` itself if UTF-8, else with every byte >= 0x80 written as \xNN.
std::string Utf8Lossy(std::string_view s);

// Checks a name (id, room, namespace, event) before it goes on the wire:
// kInvalidArgument if empty (when !allow_empty), longer than max_size, or not
// UTF-8 (proto3 strings must be).
absl::Status CheckName(std::string_view what, std::string_view name,
                       size_t max_size, bool allow_empty = false);

// Debian's Abseil has its own string_view type (not std::string_view): its
// containers' heterogeneous lookup and Status::message() use that one.
inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view AsStd(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

// "" -> "/".
inline std::string NamespaceOrDefault(std::string_view ns) {
  return ns.empty() ? std::string("/") : std::string(ns);
}

// Builders.
msock::rooms::Envelope MakeEvent(std::string_view name,
                                 std::string_view payload, std::string_view ns,
                                 std::string_view room, uint32_t ack);
// `env` with the event's timeout_ms set from `deadline` (when it asks for an
// ack and the deadline is finite).
msock::rooms::Envelope WithTimeout(msock::rooms::Envelope env,
                                   absl::Time deadline);
msock::rooms::Envelope MakeAck(uint32_t id,
                               const absl::StatusOr<std::string>& result);
// The RoomEvent a handler sees for `event` (moves the payload out), from
// `client` ("" on the client side).
RoomEvent ToRoomEvent(msock::rooms::Event* event, std::string client);
// The result an Ack carries (moves the payload out).
absl::StatusOr<std::string> AckResult(msock::rooms::Ack* ack);

}  // namespace msock::internal::rooms

#endif  // MSOCK_PROTOCOLS_ROOMS_CODEC_H_
