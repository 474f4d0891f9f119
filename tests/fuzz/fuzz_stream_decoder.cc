// libFuzzer target: arbitrary bytes fed in random-sized chunks to the tcp / ipc
// StreamDecoder (transports/stream_framing.h). It must never crash, never
// deliver a message over the size limit, and must stay failed once it reported
// an error.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "transports/stream_framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const bool ipc = in.ConsumeBool();
  // Small limits make the oversize path reachable. Not 0 ("no limit"): then the
  // decoder may legitimately allocate whatever length a frame declares (see
  // HugeLengthWithoutLimit in tests/transports/stream_framing_test.cc for that
  // case).
  const size_t max_size = in.ConsumeIntegralInRange<size_t>(1, 4096);
  msock::internal::StreamDecoder decoder(ipc, max_size);
  std::vector<msock::Message> out;
  bool failed = false;
  while (in.remaining_bytes() > 0) {
    const size_t chunk = in.ConsumeIntegralInRange<size_t>(1, 64);
    std::string bytes = in.ConsumeBytesAsString(chunk);
    const size_t before = out.size();
    absl::Status s = decoder.Feed(bytes.data(), bytes.size(), &out);
    // A failed decoder must stay failed and decode nothing more.
    if (failed && (s.ok() || out.size() != before)) std::abort();
    if (!s.ok()) {
      if (s.code() != absl::StatusCode::kResourceExhausted &&
          s.code() != absl::StatusCode::kDataLoss) {
        std::abort();
      }
      if (s.code() == absl::StatusCode::kDataLoss && !ipc)
        std::abort();  // tcp has no type byte
      failed = true;
    }
    for (size_t i = before; i < out.size(); ++i) {
      const msock::Message& m = out[i];
      if (m.size() > max_size) std::abort();
      if (!m.header().empty() || !m.source().empty()) std::abort();
      // Touch every byte so ASan sees any out-of-bounds body.
      volatile uint8_t sink = 0;
      for (char c : m.body()) sink = sink ^ static_cast<uint8_t>(c);
      (void)sink;
    }
    if (out.size() > 1024) out.clear();
  }
  return 0;
}
