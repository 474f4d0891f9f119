// The frame half of the WebSocket codec (ws_codec.h): RFC 6455 data and
// control frames, masking, and the resumable FrameDecoder. The HTTP half is in
// ws_http.cc.
//
// Decisions worth knowing:
//   - FrameDecoder accepts non-minimal length encodings (RFC 6455 asks senders
//     for minimal ones; refusing them gains nothing).
//   - Its errors are kResourceExhausted for 1009 and kDataLoss for the rest.
//   - Once the peer's close frame has been reported, further input is ignored
//     (Feed returns OK): the owner answers the close and drops the connection.
//   - A single-frame message that arrives whole is built straight from the
//     input (one copy); otherwise fragments collect in message_, whose buffer
//     grows as bytes come (never reserved from a header's length) and is
//     taken from the socket's unfinished-bytes budget.
#include "transports/ws/ws_codec.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"

namespace msock::internal::ws {

namespace {

bool IsControl(uint8_t opcode) { return (opcode & 0x8) != 0; }

bool IsValidCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, at most
// U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

// XORs `n` bytes at `p` with the mask key, starting at key position `pos`.
void ApplyMask(char* p, size_t n, const uint8_t mask[4], uint64_t pos) {
  uint8_t k[8];
  for (int i = 0; i < 8; ++i) k[i] = mask[(pos + i) & 3];
  uint64_t k8;
  std::memcpy(&k8, k, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= k8;
    std::memcpy(p + i, &w, 8);
  }
  for (; i < n; ++i) p[i] ^= static_cast<char>(k[i & 7]);
}

size_t FrameHeaderSize(uint64_t len, bool masked) {
  return 2 + (len <= 125 ? 0 : len <= 0xFFFF ? 2 : 8) + (masked ? 4 : 0);
}

// Writes a frame header for `len` payload bytes at `out`.
void WriteFrameHeader(char* out, uint8_t opcode, bool fin, bool masked,
                      uint32_t mask, uint64_t len) {
  *out++ = static_cast<char>((fin ? 0x80 : 0) | opcode);
  const char m = masked ? static_cast<char>(0x80) : 0;
  if (len <= 125) {
    *out++ = static_cast<char>(m | static_cast<char>(len));
  } else if (len <= 0xFFFF) {
    *out++ = static_cast<char>(m | 126);
    *out++ = static_cast<char>(len >> 8);
    *out++ = static_cast<char>(len);
  } else {
    *out++ = static_cast<char>(m | 127);
    for (int i = 7; i >= 0; --i) *out++ = static_cast<char>(len >> (8 * i));
  }
  if (masked) {
    for (int i = 3; i >= 0; --i) *out++ = static_cast<char>(mask >> (8 * i));
  }
}

void MaskKeyBytes(uint32_t mask, uint8_t out[4]) {
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<uint8_t>(mask >> (24 - 8 * i));
  }
}

// A broken rule: the close code to answer with and what was wrong. code 0 =
// no violation.
struct Violation {
  uint16_t code = 0;
  std::string why;
};

// Checks a frame's first two bytes (RFC 6455 5.2-5.6) against the decoder's
// options and whether a fragmented message is open.
Violation CheckFrameStart(uint8_t b0, uint8_t b1, bool in_message,
                          const FrameDecoder::Options& o) {
  const uint8_t op = b0 & 0x0F;
  const bool fin = (b0 & 0x80) != 0;
  const bool masked = (b1 & 0x80) != 0;
  if ((b0 & 0x70) != 0) {
    return {kCloseProtocolError, "RSV bits set (no extension agreed)"};
  }
  if (op != kContinuation && op != kText && op != kBinary && op != kClose &&
      op != kPing && op != kPong) {
    return {kCloseProtocolError,
            absl::StrFormat("unknown opcode 0x%x", unsigned{op})};
  }
  if (IsControl(op) && (!fin || (b1 & 0x7F) > 125)) {
    return {kCloseProtocolError, "control frame fragmented or over 125 bytes"};
  }
  if (op == kContinuation && !in_message) {
    return {kCloseProtocolError, "continuation frame outside a message"};
  }
  if ((op == kText || op == kBinary) && in_message) {
    return {kCloseProtocolError, "new data frame inside a fragmented message"};
  }
  if (op == kText && !o.allow_text) {
    return {kCloseUnsupportedData, "text frames are not accepted"};
  }
  if (masked != o.expect_masked) {
    return {kCloseProtocolError, o.expect_masked
                                     ? "unmasked frame from a client"
                                     : "masked frame from a server"};
  }
  return {};
}

// Bytes of header a frame whose second byte is `b1` has.
size_t HeaderSizeFromSecondByte(uint8_t b1) {
  const uint8_t len7 = b1 & 0x7F;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
}

// The payload length of a complete frame header.
uint64_t PayloadLength(std::string_view header) {
  const uint8_t len7 = static_cast<uint8_t>(header[1]) & 0x7F;
  if (len7 <= 125) return len7;
  uint64_t len = 0;
  for (size_t i = 2; i < (len7 == 126 ? 4u : 10u); ++i) {
    len = (len << 8) | static_cast<uint8_t>(header[i]);
  }
  return len;
}

// Splits a close frame's payload (RFC 6455 5.5.1, 7.4) into code and reason.
Violation ParseClose(std::string_view payload, uint16_t* code,
                     std::string_view* reason) {
  *code = 1005;  // "no status code was present"
  *reason = {};
  if (payload.empty()) return {};
  if (payload.size() == 1) {
    return {kCloseProtocolError, "close frame with a 1-byte payload"};
  }
  *code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                static_cast<uint8_t>(payload[1]));
  *reason = payload.substr(2);
  if (!IsValidCloseCode(*code)) {
    return {kCloseProtocolError,
            absl::StrFormat("invalid close code %d", *code)};
  }
  if (!IsValidUtf8(*reason)) {
    return {kCloseInvalidPayload, "close reason is not valid UTF-8"};
  }
  return {};
}

}  // namespace

void AppendFrame(std::string* out, Opcode opcode, bool fin, bool masked,
                 uint32_t mask, const std::vector<std::string_view>& parts) {
  uint64_t len = 0;
  for (std::string_view p : parts) len += p.size();
  char header[kMaxFrameHeader];
  WriteFrameHeader(header, opcode, fin, masked, mask, len);
  out->reserve(out->size() + FrameHeaderSize(len, masked) + len);
  out->append(header, FrameHeaderSize(len, masked));
  const size_t payload_at = out->size();
  for (std::string_view part : parts) out->append(part);
  if (masked) {
    uint8_t key[4];
    MaskKeyBytes(mask, key);
    ApplyMask(out->data() + payload_at, len, key, 0);
  }
}

void AppendMessage(std::string* out, const Message& msg, bool text,
                   size_t max_frame, bool masked,
                   const std::function<uint32_t()>& next_mask) {
  // The payload is the header words (big-endian) then the body.
  std::string words(msg.header_size(), '\0');
  for (size_t i = 0; i < msg.header().size(); ++i) {
    const uint32_t w = msg.header()[i];
    for (int b = 0; b < 4; ++b) {
      words[4 * i + b] = static_cast<char>(w >> (24 - 8 * b));
    }
  }
  const std::string_view segs[2] = {words, msg.body()};
  const size_t total = words.size() + msg.size();
  if (max_frame == 0) max_frame = total;  // 0: no fragmentation
  size_t sent = 0;
  bool first = true;
  do {
    const size_t n = std::min(max_frame, total - sent);
    // This frame's slice of the two segments.
    std::vector<std::string_view> parts;
    size_t skip = sent, want = n;
    for (std::string_view seg : segs) {
      if (skip >= seg.size()) {
        skip -= seg.size();
        continue;
      }
      const std::string_view piece = seg.substr(skip, want);
      skip = 0;
      want -= piece.size();
      parts.push_back(piece);
      if (want == 0) break;
    }
    const Opcode op = !first ? kContinuation : text ? kText : kBinary;
    const uint32_t mask = masked && next_mask ? next_mask() : 0;
    sent += n;
    AppendFrame(out, op, sent == total, masked, mask, parts);
    first = false;
  } while (sent < total);
}

std::string ClosePayload(uint16_t code, std::string_view reason) {
  // A control payload holds at most 125 bytes; cut the reason on a UTF-8
  // character boundary.
  size_t n = std::min<size_t>(reason.size(), 123);
  while (n > 0 && n < reason.size() &&
         (static_cast<uint8_t>(reason[n]) & 0xC0) == 0x80) {
    --n;
  }
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xff));
  out.append(reason.substr(0, n));
  return out;
}

absl::Status FrameDecoder::Feed(std::string_view data, const Events& events) {
  if (!failed_.ok()) return failed_;
  while (!data.empty()) {
    // A finished close frame leaves opcode_ == kClose outside a frame: the
    // peer has closed, so whatever follows is ignored.
    if (!in_frame_ && opcode_ == kClose) return absl::OkStatus();

    if (!in_frame_) {
      absl::Status s = ReadHeader(&data, events);
      if (!s.ok()) return s;
      // Still outside a frame: the header is incomplete (data is used up),
      // or it was a whole one-frame message, delivered.
      if (!in_frame_) continue;
    }

    // Payload bytes of the current frame.
    const size_t n = std::min<uint64_t>(payload_left_, data.size());
    if (!IsControl(opcode_)) {
      data_bytes_ += n;
      if (message_.size() + n > message_.capacity()) {
        absl::Status s = GrowMessage(message_.size() + n);
        if (!s.ok()) return s;
      }
    }
    std::string& dst = IsControl(opcode_) ? control_ : message_;
    const size_t at = dst.size();
    dst.append(data.substr(0, n));
    if (masked_) ApplyMask(dst.data() + at, n, mask_, mask_pos_);
    mask_pos_ += n;
    payload_left_ -= n;
    data.remove_prefix(n);
    if (payload_left_ > 0) return absl::OkStatus();

    in_frame_ = false;
    absl::Status s = EndFrame(events);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FrameDecoder::Fail(uint16_t code, std::string_view why) {
  const std::string text = "websocket: " + std::string(why);
  failed_ = code == kCloseTooBig ? absl::ResourceExhaustedError(text)
                                 : absl::DataLossError(text);
  close_code_ = code;
  header_.clear();
  control_.clear();
  DropMessage();
  return failed_;
}

absl::Status FrameDecoder::GrowMessage(size_t need) {
  // The final frame bounds the message; before it, only the size limit does.
  size_t bound = fin_ ? message_.size() + payload_left_ : SIZE_MAX;
  if (options_.max_message != 0) bound = std::min(bound, options_.max_message);
  size_t cap = std::max(
      need, std::min(bound, std::max(kFirstPartial, 4 * held_.held())));
  // Near the limit, doubling or growing by what is needed may still fit.
  if (!held_.Set(cap) &&
      !held_.Set(cap = std::max(need, std::min(cap, 2 * held_.held()))) &&
      !held_.Set(cap = need)) {
    return Fail(kCloseTryAgainLater,
                absl::StrFormat("unfinished messages would hold more than the "
                                "socket's limit (this one needs %d bytes)",
                                cap));
  }
  message_.reserve(cap);
  return absl::OkStatus();
}

void FrameDecoder::DropMessage() {
  std::string().swap(message_);
  held_.Release();
}

absl::Status FrameDecoder::Deliver(Message msg, bool text,
                                   const Events& events) {
  if (text && !IsValidUtf8(msg.body())) {
    return Fail(kCloseInvalidPayload, "text message is not valid UTF-8");
  }
  if (events.message) events.message(std::move(msg), text);
  return absl::OkStatus();
}

absl::Status FrameDecoder::ReadHeader(std::string_view* data,
                                      const Events& events) {
  // The header: the first two bytes, checked at once, then the extended
  // length and mask key.
  size_t want = header_.size() < 2 ? 2 : HeaderSizeFromSecondByte(header_[1]);
  size_t take = std::min(want - header_.size(), data->size());
  header_.append(data->substr(0, take));
  data->remove_prefix(take);
  if (header_.size() < 2) return absl::OkStatus();
  const auto b0 = static_cast<uint8_t>(header_[0]);
  const auto b1 = static_cast<uint8_t>(header_[1]);
  if (want == 2) {
    Violation v = CheckFrameStart(b0, b1, in_message_, options_);
    if (v.code != 0) return Fail(v.code, v.why);
    want = HeaderSizeFromSecondByte(b1);
    take = std::min(want - header_.size(), data->size());
    header_.append(data->substr(0, take));
    data->remove_prefix(take);
  }
  if (header_.size() < want) return absl::OkStatus();

  const uint64_t len = PayloadLength(header_);
  if (len >> 63) return Fail(kCloseProtocolError, "length over 2^63");
  const uint8_t op = b0 & 0x0F;
  if (!IsControl(op)) data_bytes_ += want;
  // The message limit is checked before any of the frame is buffered.
  if (!IsControl(op) && options_.max_message != 0 &&
      len > options_.max_message - message_.size()) {
    return Fail(kCloseTooBig,
                absl::StrFormat("message over %d bytes", options_.max_message));
  }
  for (int i = 0; i < 4; ++i) {
    mask_[i] = (b1 & 0x80) ? static_cast<uint8_t>(header_[want - 4 + i]) : 0;
  }
  header_.clear();
  in_frame_ = true;
  opcode_ = op;
  fin_ = (b0 & 0x80) != 0;
  masked_ = (b1 & 0x80) != 0;
  mask_pos_ = 0;
  payload_left_ = len;
  if (IsControl(op)) {
    control_.clear();
  } else if (op != kContinuation) {
    in_message_ = true;
    message_text_ = op == kText;
    if (fin_ && data->size() >= len) {
      // A whole one-frame message is here: build it without message_.
      Message msg = Message::WithSize(len);
      if (len > 0) {
        std::memcpy(msg.mutable_data(), data->data(), len);
        if (masked_) ApplyMask(msg.mutable_data(), len, mask_, 0);
      }
      data->remove_prefix(len);
      data_bytes_ += len;
      in_frame_ = false;
      in_message_ = false;
      return Deliver(std::move(msg), message_text_, events);
    }
    // The buffer grows as the payload comes (Feed), not from the header.
  }
  return absl::OkStatus();
}

absl::Status FrameDecoder::EndFrame(const Events& events) {
  if (opcode_ == kPing) {
    if (events.ping) events.ping(control_);
  } else if (opcode_ == kPong) {
    if (events.pong) events.pong(control_);
  } else if (opcode_ == kClose) {
    uint16_t code;
    std::string_view reason;
    Violation v = ParseClose(control_, &code, &reason);
    if (v.code != 0) return Fail(v.code, v.why);
    // A message still open is dropped: nothing can complete it now.
    DropMessage();
    in_message_ = false;
    if (events.close) events.close(code, reason);
  } else if (fin_) {
    in_message_ = false;
    Message msg(message_);
    // The buffer goes too: an idle pipe holds none of the budget.
    DropMessage();
    return Deliver(std::move(msg), message_text_, events);
  }
  return absl::OkStatus();
}

}  // namespace msock::internal::ws
