// Topic changes (spec section 3): the value model (google.protobuf.Value, the
// JSON data model), the topic types, and for each change type its exact effect,
// its preconditions and its inverse. Pure functions, no locks, no I/O: the hub
// and the client replica both apply changes through here, so they agree.
#ifndef MSOCK_PROTOCOLS_TOPICS_CHANGE_H_
#define MSOCK_PROTOCOLS_TOPICS_CHANGE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "msock/protocols/topics.h"
#include "protocols/proto/topics.pb.h"

namespace msock::internal::topics {

using Value = google::protobuf::Value;

// Subscribers of topic T are the members of room T in this namespace.
inline constexpr std::string_view kNamespace = "_topics";
inline constexpr std::string_view kUpdateEvent = "_topics/update";
inline constexpr std::string_view kListTopic = "_sys/topics";
inline constexpr std::string_view kReserved = "_sys/";  // read-only names
namespace pb = ::msock::topics;

std::string_view TypeName(TopicType type);
// kInvalidArgument for an unknown name.
absl::StatusOr<TopicType> ParseType(std::string_view name);

// How deep a topic value may nest (lists and objects). Every value must reach
// JSON subscribers: protobuf's JSON writer stops at 64 message levels, two per
// nesting level, and the messages that carry a value (Update -> Change) take
// some; binary ones stop at 100 levels.
inline constexpr int kMaxValueDepth = 24;

// The value a new topic of `type` starts with (null, "", 0, 0.0, false, [],
// {}).
Value DefaultValue(TopicType type);
// kInvalidArgument unless `v` is a valid whole value of `type` (int: an
// integer within +-2^53; set: a list of distinct items; event: null) nesting
// at most kMaxValueDepth levels.
absl::Status CheckValue(TopicType type, const Value& v);

// Applies `change` to `value` (a topic of `type`). On success fills in what
// the inverse needs (old_value, the item popped, the list position used) and
// returns OK; on failure leaves `value` unchanged and returns why:
// kInvalidArgument (wrong change for the type, bad field, a value or item that
// would nest deeper than kMaxValueDepth in the topic or the event), kOutOfRange
// (position), kAlreadyExists / kNotFound (set item, dict key), kAborted (a
// string delete whose text does not match).
absl::Status Apply(TopicType type, Value& value, pb::Change& change);
// The change that undoes `change` once Apply has succeeded on it.
pb::Change Inverse(TopicType type, const pb::Change& change);

// JSON equality (object keys in any order; 1 == 1.0).
bool Equal(const Value& a, const Value& b);

// JSON text -> Value / Change (json_parse.cc: strict, depth-limited, fast);
// other messages through protobuf's JSON mapping.
absl::StatusOr<Value> ParseJson(std::string_view json);
// Canonical JSON (sorted keys; json.cc), fast.
std::string ToJson(const Value& v);
// A change record as JSON, in the WIRE.md field names.
std::string ChangeJson(const pb::Change& c);
absl::StatusOr<pb::Change> ParseChange(std::string_view json);
std::string ToJson(const google::protobuf::Message& m);
absl::Status FromJson(std::string_view json, google::protobuf::Message* m);

// A topics message as a rooms payload: binary protobuf, or JSON for clients
// that speak JSON (browsers).
std::string EncodeFor(const google::protobuf::Message& m, bool json);
// Parses a payload in either encoding (JSON if it starts with '{').
absl::Status DecodePayload(std::string_view body, google::protobuf::Message* m);

// Size in bytes of `v` as JSON (for limits).
size_t JsonSize(const Value& v);

}  // namespace msock::internal::topics

#endif  // MSOCK_PROTOCOLS_TOPICS_CHANGE_H_
