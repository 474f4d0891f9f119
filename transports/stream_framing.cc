// SP stream mapping: connection header and length-prefixed frames (see
// stream_framing.h).
#include "transports/stream_framing.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "absl/strings/str_format.h"

namespace msock::internal {

namespace {

void PutU64(uint64_t v, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

void EncodeHello(uint16_t self_id, uint8_t out[kHelloSize]) {
  out[0] = 0x00;
  out[1] = 'S';
  out[2] = 'P';
  out[3] = 0x00;
  out[4] = static_cast<uint8_t>(self_id >> 8);
  out[5] = static_cast<uint8_t>(self_id & 0xff);
  out[6] = 0x00;
  out[7] = 0x00;
}

absl::Status CheckHello(const uint8_t in[kHelloSize],
                        uint16_t expected_peer_id) {
  if (in[0] != 0x00 || in[1] != 'S' || in[2] != 'P' || in[3] != 0x00 ||
      in[6] != 0x00 || in[7] != 0x00) {
    return absl::DataLossError(absl::StrFormat(
        "bad SP connection header %02x %02x %02x %02x %02x %02x %02x %02x (not "
        "an SP peer?)",
        in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]));
  }
  uint16_t peer = static_cast<uint16_t>((in[4] << 8) | in[5]);
  if (peer != expected_peer_id) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "peer speaks SP protocol 0x%04x, this socket accepts only 0x%04x", peer,
        expected_peer_id));
  }
  return absl::OkStatus();
}

void AppendFramePrefix(const Message& msg, bool ipc, std::string* out) {
  size_t at = out->size();
  out->resize(at + FramePrefixSize(msg, ipc));
  char* p = out->data() + at;
  if (ipc) *p++ = static_cast<char>(kIpcMessageType);
  PutU64(msg.size() + msg.header_size(), p);
  WriteHeaderWords(msg, p + 8);
}

void WriteHeaderWords(const Message& msg, char* out) {
  for (uint32_t w : msg.header()) {
    out[0] = static_cast<char>(w >> 24);
    out[1] = static_cast<char>(w >> 16);
    out[2] = static_cast<char>(w >> 8);
    out[3] = static_cast<char>(w);
    out += 4;
  }
}

void AppendFrame(const Message& msg, bool ipc, std::string* out) {
  AppendFramePrefix(msg, ipc, out);
  out->append(msg.data(), msg.size());
}

absl::Status StreamDecoder::Feed(const char* data, size_t size,
                                 std::vector<Message>* out) {
  if (!failed_.ok()) return failed_;
  const size_t prefix_len = ipc_ ? 9 : 8;
  while (size > 0) {
    if (body_needed_ > 0) {
      size_t n = std::min(size, body_needed_ - body_filled_);
      if (body_filled_ + n > partial_.size() && !Grow(body_filled_ + n)) {
        return failed_;
      }
      std::memcpy(partial_.mutable_data() + body_filled_, data, n);
      body_filled_ += n;
      data += n;
      size -= n;
      if (body_filled_ == body_needed_) Complete(out);
      continue;
    }
    // Fast path: the whole prefix sits in the input and is read there.
    const uint8_t* prefix = reinterpret_cast<const uint8_t*>(data);
    if (have_ == 0 && size >= prefix_len) {
      data += prefix_len;
      size -= prefix_len;
    } else {
      size_t n = std::min(size, prefix_len - have_);
      std::memcpy(prefix_ + have_, data, n);
      have_ += n;
      data += n;
      size -= n;
      if (have_ < prefix_len) break;
      prefix = prefix_;
    }
    have_ = 0;
    if (ipc_ && prefix[0] != kIpcMessageType) {
      failed_ = absl::DataLossError(absl::StrFormat(
          "bad ipc message type 0x%02x (expected 0x01)", prefix[0]));
      return failed_;
    }
    uint64_t len;  // big-endian on the wire
    std::memcpy(&len, prefix + (ipc_ ? 1 : 0), sizeof(len));
    if constexpr (std::endian::native == std::endian::little) {
      len = __builtin_bswap64(len);
    }
    if ((max_size_ > 0 && len > max_size_) || len > (uint64_t{1} << 40)) {
      failed_ = absl::ResourceExhaustedError(absl::StrFormat(
          "incoming message of %u bytes exceeds the limit of %u bytes", len,
          max_size_));
      return failed_;
    }
    if (len == 0) {
      out->push_back(Message());
      continue;
    }
    if (size >= len) {
      out->push_back(Message(std::string_view(data, len)));
      data += len;
      size -= len;
      continue;
    }
    // The message continues in later reads: a first buffer of a few times
    // what came with the prefix, not what the prefix claims.
    body_needed_ = len;
    body_filled_ = 0;
    if (!Grow(std::min<size_t>(len, std::max(kFirstPartial, 4 * size)))) {
      return failed_;
    }
  }
  return absl::OkStatus();
}

bool StreamDecoder::Grow(size_t need) {
  size_t cap = std::max(need, 4 * partial_.size());
  cap = std::min(cap, body_needed_);
  if (!held_.Set(cap)) {
    over_budget_ = true;
    failed_ = absl::ResourceExhaustedError(absl::StrFormat(
        "unfinished messages would hold more than the socket's limit "
        "(max-unfinished-bytes; this one needs %u bytes)",
        cap));
    Release();
    return false;
  }
  Message bigger;
  try {
    bigger = Message::WithSize(cap);
  } catch (const std::bad_alloc&) {
    failed_ = absl::ResourceExhaustedError(absl::StrFormat(
        "cannot allocate %u bytes for an incoming message", cap));
    Release();
    return false;
  }
  if (body_filled_ > 0) {
    std::memcpy(bigger.mutable_data(), partial_.data(), body_filled_);
  }
  partial_ = std::move(bigger);
  return true;
}

void StreamDecoder::Complete(std::vector<Message>* out) {
  out->push_back(std::move(partial_));
  partial_ = Message();
  body_needed_ = body_filled_ = 0;
  held_.Release();
}

void StreamDecoder::Release() {
  partial_ = Message();
  body_needed_ = body_filled_ = 0;
  held_.Release();
}

char* StreamDecoder::direct_buffer(size_t* len) {
  if (body_needed_ == 0 || !failed_.ok() || body_filled_ >= partial_.size()) {
    *len = 0;
    return nullptr;
  }
  *len = partial_.size() - body_filled_;
  return partial_.mutable_data() + body_filled_;
}

void StreamDecoder::CommitDirect(size_t n, std::vector<Message>* out) {
  body_filled_ += n;
  if (body_filled_ == body_needed_) Complete(out);
}

}  // namespace msock::internal
