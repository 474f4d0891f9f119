// libFuzzer target: CheckHello (transports/stream_framing.h) on arbitrary
// 8-byte headers and expected ids. Checks it never crashes and agrees with a
// plain restatement of the rules.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "transports/stream_framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < msock::internal::kHelloSize + 2) return 0;
  uint8_t hello[msock::internal::kHelloSize];
  std::memcpy(hello, data, sizeof(hello));
  const uint16_t expected = static_cast<uint16_t>(data[8] << 8 | data[9]);
  absl::Status s = msock::internal::CheckHello(hello, expected);

  const bool well_formed = hello[0] == 0 && hello[1] == 'S' &&
                           hello[2] == 'P' && hello[3] == 0 && hello[6] == 0 &&
                           hello[7] == 0;
  const uint16_t id = static_cast<uint16_t>(hello[4] << 8 | hello[5]);
  if (!well_formed) {
    if (s.code() != absl::StatusCode::kDataLoss) std::abort();
  } else if (id != expected) {
    if (s.code() != absl::StatusCode::kFailedPrecondition) std::abort();
  } else if (!s.ok()) {
    std::abort();
  }
  // EncodeHello must produce a header CheckHello accepts.
  uint8_t mine[msock::internal::kHelloSize];
  msock::internal::EncodeHello(expected, mine);
  if (!msock::internal::CheckHello(mine, expected).ok()) std::abort();
  return 0;
}
