// A bounded look at a JSON rooms envelope before protobuf parses it: how deep
// it nests, and if too deep, what can still be answered (its kind and the id
// its sender waits on). protobuf's own parser refuses deep input only after
// work proportional to it, and its error says nothing the hub can answer.
#ifndef MSOCK_PROTOCOLS_ROOMS_JSON_DEPTH_H_
#define MSOCK_PROTOCOLS_ROOMS_JSON_DEPTH_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocols/proto/rooms.pb.h"

namespace msock::internal::rooms {

// The deepest nesting (objects and arrays) a JSON envelope may have. An
// envelope itself uses 2 levels; the rest leaves room for unknown fields of
// newer peers, well below protobuf's own limit (100).
inline constexpr int kMaxJsonDepth = 64;

// What is known of an envelope nested deeper than kMaxJsonDepth.
struct TooDeep {
  // Its first top-level key ("event", "ack", ...), KIND_NOT_SET if unknown.
  msock::rooms::Envelope::KindCase kind = msock::rooms::Envelope::KIND_NOT_SET;
  // event.ack, ack.id, join.id or leave.id when given as a number at the
  // envelope's second level (wherever it stands), else 0.
  uint32_t id = 0;
};

// One pass over `json` (no allocation, no recursion). nullopt when it nests
// at most kMaxJsonDepth levels (including malformed text: protobuf judges
// that). Strings may be in single quotes, which protobuf's parser accepts.
std::optional<TooDeep> ScanJsonDepth(std::string_view json);

}  // namespace msock::internal::rooms

#endif  // MSOCK_PROTOCOLS_ROOMS_JSON_DEPTH_H_
