// The keys of the RFC 6455 opening handshake (ws_codec.h): Sec-WebSocket-Key
// and Sec-WebSocket-Accept. SHA-1 and base64 are written here so that the
// codec needs no libwebsockets.
#include <sys/random.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "transports/ws/ws_codec.h"

namespace msock::internal::ws {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// ---- SHA-1 (FIPS 180-4), only for Sec-WebSocket-Accept ----

uint32_t Rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

std::array<uint8_t, 20> Sha1(std::string_view data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  // Message, 0x80, zeros, 64-bit bit length: a whole number of 64-byte blocks.
  std::string m(data);
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  m.push_back(static_cast<char>(0x80));
  while (m.size() % 64 != 56) m.push_back('\0');
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<char>(bits >> (i * 8)));
  for (size_t block = 0; block < m.size(); block += 64) {
    uint32_t w[80];
    for (int t = 0; t < 16; ++t) {
      const auto* p =
          reinterpret_cast<const uint8_t*>(m.data() + block + 4 * t);
      w[t] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
             (uint32_t{p[2]} << 8) | p[3];
    }
    for (int t = 16; t < 80; ++t) {
      w[t] = Rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; ++t) {
      uint32_t f, k;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const uint32_t tmp = Rotl(a, 5) + f + e + k + w[t];
      e = d;
      d = c;
      c = Rotl(b, 30);
      b = a;
      a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::array<uint8_t, 20> out;
  for (int i = 0; i < 20; ++i) {
    out[i] = static_cast<uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
  }
  return out;
}

std::string Base64(const uint8_t* p, size_t n) {
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) |
                       (i + 1 < n ? uint32_t{p[i + 1]} << 8 : 0) |
                       (i + 2 < n ? uint32_t{p[i + 2]} : 0);
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(i + 1 < n ? kBase64[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < n ? kBase64[v & 63] : '=');
  }
  return out;
}

}  // namespace

// True if `key` is base64 of exactly 16 bytes: 22 alphabet characters, "==".
bool IsKeyOf16Bytes(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (char c : key.substr(0, 22)) {
    if (kBase64.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::string AcceptKey(std::string_view client_key) {
  const std::array<uint8_t, 20> digest =
      Sha1(std::string(client_key).append(kGuid));
  return Base64(digest.data(), digest.size());
}

std::string NewClientKey() {
  uint8_t b[16];
  size_t got = 0;
  while (got < sizeof(b)) {
    const ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
    if (n <= 0) break;  // EINTR or no getrandom: finish below
    got += static_cast<size_t>(n);
  }
  if (got < sizeof(b)) {
    std::random_device rd;
    for (size_t i = got; i < sizeof(b); ++i) b[i] = static_cast<uint8_t>(rd());
  }
  return Base64(b, sizeof(b));
}

}  // namespace msock::internal::ws
