// libFuzzer target: the durable queue's request and delivery payloads
// (protocols/proto/queue.proto as protocols/queue/server.cc and client.cc
// decode them: binary protobuf, or JSON when the payload starts with '{').
// The first byte picks the message; the rest is the payload. Checks that
// nothing crashes and that a payload that decodes survives a round trip
// through both encodings unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "google/protobuf/util/message_differencer.h"
#include "protocols/proto/queue.pb.h"
#include "protocols/topics/change.h"

namespace {

namespace tp = msock::internal::topics;
namespace qpb = msock::queue;

void Require(bool ok) {
  if (!ok) std::abort();
}

std::unique_ptr<google::protobuf::Message> Pick(uint8_t b) {
  switch (b % 9) {
    case 0:
      return std::make_unique<qpb::Register>();
    case 1:
      return std::make_unique<qpb::Login>();
    case 2:
      return std::make_unique<qpb::Post>();
    case 3:
      return std::make_unique<qpb::Ack>();
    case 4:
      return std::make_unique<qpb::Aliases>();
    case 5:
      return std::make_unique<qpb::ListEdit>();
    case 6:
      return std::make_unique<qpb::Query>();
    case 7:
      return std::make_unique<qpb::Deliver>();
    default:
      return std::make_unique<qpb::Messages>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view payload(reinterpret_cast<const char*>(data + 1),
                                 size - 1);
  std::unique_ptr<google::protobuf::Message> m = Pick(data[0]);
  if (!tp::DecodePayload(payload, m.get()).ok()) return 0;
  // Unknown fields are kept by the binary parser but not by JSON: not ours.
  m->DiscardUnknownFields();
  for (bool json : {false, true}) {
    std::unique_ptr<google::protobuf::Message> again = Pick(data[0]);
    Require(tp::DecodePayload(tp::EncodeFor(*m, json), again.get()).ok());
    Require(google::protobuf::util::MessageDifferencer::Equals(*m, *again));
  }
  return 0;
}
