// libFuzzer target: the protocol header parsers that run on every received
// message (rep/respondent backtrace, the raw sockets' hop filters). Input: one
// byte choosing the parser and the TTL, then the message payload. Checks that
// each parser either rejects the message or leaves a consistent split: header
// words + remaining body = the payload, within the TTL.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "msock/message.h"
#include "protocols/backtrace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int which = data[0] & 3;
  const int ttl = 1 + ((data[0] >> 2) & 15) % 15;  // 1..15, as the option
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  msock::Message m(payload);
  m.source().push_back(7);
  msock::internal::RecvVerdict v;
  switch (which) {
    case 0:
      v = msock::internal::TakeBacktrace(m, ttl);
      break;
    case 1:
      v = msock::internal::PushHop(m, ttl);
      break;
    case 2:
      v = msock::internal::TakeHop(m, ttl);
      break;
    default:
      v = msock::internal::CountHop(m, ttl);
      break;
  }
  if (v != msock::internal::RecvVerdict::kKeep) return 0;
  // Kept: the header words plus the body are exactly what arrived (PushHop
  // adds the pipe id word in front, CountHop adds one to the count).
  size_t consumed = m.header().size() * 4 - (which == 1 ? 4 : 0);
  if (consumed + m.size() != payload.size()) std::abort();
  if (which != 3 && m.header().size() > static_cast<size_t>(ttl)) std::abort();
  if (which <= 1 && (m.header().back() & msock::internal::kLastWord) == 0)
    std::abort();
  return 0;
}
