// libFuzzer target: the rooms wire decoder (protocols/rooms/codec.h) on
// arbitrary bytes, binary protobuf or JSON. Checks that Decode and PeekKind
// never crash, and that whatever decodes can be encoded again in both
// encodings, decodes to the same kind and payload, and that PeekKind guesses
// the kind of what msock encodes (the receive filters route by that guess; on
// a peer's odd input, say two kinds where the last wins, the guess may be
// wrong and Decode has the last word).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocols/rooms/codec.h"

namespace {

namespace rooms = msock::internal::rooms;
using Envelope = msock::rooms::Envelope;

void Require(bool ok) {
  if (!ok) std::abort();
}

// The payload an Event or Ack carries, whichever field holds it.
std::string PayloadOf(Envelope env) {
  if (env.has_event()) return rooms::TakePayload(env.mutable_event());
  if (env.has_ack()) return rooms::TakePayload(env.mutable_ack());
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)rooms::PeekKind(body);
  Envelope env;
  rooms::Encoding enc;
  if (!rooms::Decode(body, &env, &enc).ok()) return 0;
  Require(env.kind_case() != Envelope::KIND_NOT_SET);
  Require((enc == rooms::Encoding::kJson) == (!body.empty() && body[0] == '{'));
  const std::string payload = PayloadOf(env);
  for (rooms::Encoding out :
       {rooms::Encoding::kBinary, rooms::Encoding::kJson}) {
    absl::StatusOr<msock::Message> again = rooms::Encode(env, out, 0);
    if (!again.ok()) continue;  // say a string that is not UTF-8 in JSON
    Require(rooms::PeekKind(again->body()) == env.kind_case());
    Envelope back;
    rooms::Encoding back_enc;
    Require(rooms::Decode(again->body(), &back, &back_enc).ok());
    Require(back_enc == out);
    Require(back.kind_case() == env.kind_case());
    Require(PayloadOf(back) == payload);
  }
  return 0;
}
