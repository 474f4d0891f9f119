// libFuzzer target: arbitrary bytes fed to the WebSocket FrameDecoder
// (transports/ws/ws_codec.h) in arbitrary splits. Checks that it never crashes,
// that split and whole input give the same events, that it honours its limits
// and stays failed, and that every decoded message re-encodes (AppendMessage)
// and decodes again to the same bytes.
//
// Input: byte 0 = options (bit 0 expect_masked, bit 1 allow_text, bits 2-3
// max_message, bits 4-5 re-encoding max_frame), byte 1 = split pattern (low 2
// bits pick the largest chunk: 1, 7, 64, 4096; the rest seed the sizes), then
// the wire bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "transports/ws/ws_codec.h"

namespace {

using msock::Message;
namespace ws = msock::internal::ws;

// What a decoder reported, in order, plus its final state.
struct Log {
  std::vector<std::string> events;
  std::vector<std::pair<std::string, bool>> messages;
  absl::Status status;
  uint16_t close_code = 0;
};

ws::FrameDecoder::Events Record(Log* log, const ws::FrameDecoder::Options& o) {
  ws::FrameDecoder::Events e;
  e.message = [log, o](Message m, bool text) {
    if (!m.header().empty() || !m.source().empty()) std::abort();
    if (o.max_message != 0 && m.size() > o.max_message) std::abort();
    if (text && !o.allow_text) std::abort();
    std::string body(m.body());  // touches every byte
    log->events.push_back((text ? "T:" : "B:") + body);
    log->messages.emplace_back(std::move(body), text);
  };
  e.ping = [log](std::string_view p) {
    if (p.size() > 125) std::abort();
    log->events.push_back("ping:" + std::string(p));
  };
  e.pong = [log](std::string_view p) {
    if (p.size() > 125) std::abort();
    log->events.push_back("pong:" + std::string(p));
  };
  e.close = [log](uint16_t code, std::string_view reason) {
    if (code < 1000 || code == 1004 || code == 1006 || code == 1015) {
      std::abort();
    }
    log->events.push_back("close:" + std::to_string(code) + ":" +
                          std::string(reason));
  };
  return e;
}

// Feeds `wire` in chunks of 1..max_chunk bytes drawn from `seed`, or whole if
// max_chunk is 0.
Log Decode(const ws::FrameDecoder::Options& o, std::string_view wire,
           size_t max_chunk, uint32_t seed) {
  Log log;
  ws::FrameDecoder d(o);
  const ws::FrameDecoder::Events events = Record(&log, o);
  uint32_t x = seed | 1;
  while (!wire.empty()) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const size_t n = max_chunk == 0
                         ? wire.size()
                         : std::min<size_t>(1 + x % max_chunk, wire.size());
    const size_t before = log.events.size();
    absl::Status s = d.Feed(wire.substr(0, n), events);
    wire.remove_prefix(n);
    if (!log.status.ok()) {
      // A failed decoder stays failed, with the same error, and is silent.
      if (s != log.status || log.events.size() != before) std::abort();
      continue;
    }
    if (!s.ok()) {
      const uint16_t c = d.close_code();
      if (c != ws::kCloseProtocolError && c != ws::kCloseUnsupportedData &&
          c != ws::kCloseInvalidPayload && c != ws::kCloseTooBig) {
        std::abort();
      }
      const absl::StatusCode want = c == ws::kCloseTooBig
                                        ? absl::StatusCode::kResourceExhausted
                                        : absl::StatusCode::kDataLoss;
      if (s.code() != want) std::abort();
      log.status = s;
      log.close_code = c;
    }
  }
  // Nothing follows the peer's close.
  for (size_t i = 0; i + 1 < log.events.size(); ++i) {
    if (log.events[i].rfind("close:", 0) == 0) std::abort();
  }
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const uint8_t split = data[1];
  const std::string_view wire(reinterpret_cast<const char*>(data) + 2,
                              size - 2);
  ws::FrameDecoder::Options o;
  o.expect_masked = (flags & 1) != 0;
  o.allow_text = (flags & 2) != 0;
  static constexpr size_t kMaxMessage[4] = {0, 16, 300, 70000};
  o.max_message = kMaxMessage[(flags >> 2) & 3];
  static constexpr size_t kMaxFrame[4] = {0, 1, 125, 1000};
  const size_t max_frame = kMaxFrame[(flags >> 4) & 3];
  static constexpr size_t kMaxChunk[4] = {1, 7, 64, 4096};

  const Log whole = Decode(o, wire, 0, 0);
  const Log parts = Decode(o, wire, kMaxChunk[split & 3], split >> 2);
  // Resumable: the split does not change what is reported.
  if (whole.events != parts.events || whole.status != parts.status ||
      whole.close_code != parts.close_code) {
    std::abort();
  }

  // Every message re-encodes and decodes to itself.
  uint32_t mask = 0x12345678u ^ flags;
  for (const auto& [body, text] : whole.messages) {
    std::string again;
    ws::AppendMessage(&again, Message(body), text, max_frame, o.expect_masked,
                      [&] { return mask = mask * 1664525u + 1013904223u; });
    const Log round = Decode(o, again, 64, flags);
    if (!round.status.ok() || round.messages.size() != 1 ||
        round.messages[0].first != body || round.messages[0].second != text) {
      std::abort();
    }
  }
  return 0;
}
