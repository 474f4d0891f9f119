// libFuzzer target: a wss:// listener's TLS session (transports/ws/ws_tls.h)
// fed the input as ciphertext from the network, through TlsSession::Receive
// and OpenSSL's memory BIOs. The first byte picks the listener (plain, or one
// asking for client certificates, which TLS 1.2 sends unencrypted), the chunk
// size and how often the stream repeats; the rest is the stream. Asserts that
// Receive only ever answers OK, kDataLoss or kCancelled, that no input
// completes a handshake or yields plaintext (the client cannot know our
// random), that bytes that cannot start a TLS record are refused at once, and
// that a session holds bounded memory and output whatever it is fed.
// Contexts (with an EC key and a self-signed certificate made in memory) are
// built once; each input gets a fresh session.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "msock/options.h"
#include "transports/ws/ws_tls.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/allocator_interface.h>
#define MSOCK_FUZZ_HEAP_BYTES() __sanitizer_get_current_allocated_bytes()
#endif
#endif
#ifndef MSOCK_FUZZ_HEAP_BYTES
#define MSOCK_FUZZ_HEAP_BYTES() \
  size_t { 0 }
#endif

namespace {

using msock::internal::TlsConfig;
using msock::internal::TlsSession;

// What one session may hold (its SSL object, record buffers, a ClientHello of
// OpenSSL's largest accepted size) and write (our first flight, an alert).
constexpr size_t kMaxHeld = 1024 * 1024;
constexpr size_t kMaxOut = 64 * 1024;
constexpr size_t kChunks[8] = {0, 1, 5, 16, 100, 517, 4096, 16389};

void Require(bool ok) {
  if (!ok) std::abort();
}

std::string Pem(const std::function<int(BIO*)>& write) {
  BIO* bio = BIO_new(BIO_s_mem());
  Require(bio != nullptr && write(bio) == 1);
  char* text = nullptr;
  const long n = BIO_get_mem_data(bio, &text);
  std::string out(text, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

// An EC P-256 key and a self-signed certificate for "localhost", as PEM.
void MakeCertificate(std::string* cert, std::string* key) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  Require(pkey != nullptr && x != nullptr);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, pkey);
  Require(X509_sign(x, pkey, EVP_sha256()) > 0);
  *cert = Pem([x](BIO* b) { return PEM_write_bio_X509(b, x); });
  *key = Pem([pkey](BIO* b) {
    return PEM_write_bio_PrivateKey(b, pkey, nullptr, nullptr, 0, nullptr,
                                    nullptr);
  });
  X509_free(x);
  EVP_PKEY_free(pkey);
}

struct Listeners {
  std::shared_ptr<TlsConfig> plain;
  std::shared_ptr<TlsConfig> verifying;  // asks for a client certificate
};

const Listeners& Configs() {
  static const Listeners* configs = [] {
    msock::SocketOptions o;
    MakeCertificate(&o.tls_cert, &o.tls_key);
    auto* c = new Listeners;
    c->plain = TlsConfig::ForListener(o).value();
    o.tls_ca = o.tls_cert;
    o.tls_verify_peer = true;
    c->verifying = TlsConfig::ForListener(o).value();
    return c;
  }();
  return *configs;
}

// True if the stream cannot be TLS once its first 5 bytes are in: the
// record's major version is not 3, and it is no SSLv2-style ClientHello.
bool NotTls(std::string_view s) {
  return s.size() >= 5 && static_cast<uint8_t>(s[1]) != 3 &&
         !((static_cast<uint8_t>(s[0]) & 0x80) != 0 && s[2] == 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Listeners& configs = Configs();
  const uint8_t how = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1),
                                size - 1);
  const size_t chunk = kChunks[(how >> 1) & 7] == 0 ? stream.size() + 1
                                                    : kChunks[(how >> 1) & 7];
  const int passes = 1 + ((how >> 4) & 3);

  const size_t heap_before = MSOCK_FUZZ_HEAP_BYTES();
  {
    TlsSession session((how & 1) ? configs.verifying : configs.plain, "");
    std::string plain;
    size_t fed = 0;
    absl::Status s;
    for (int pass = 0; pass < passes && s.ok(); ++pass) {
      for (size_t at = 0; at < stream.size() && s.ok(); at += chunk) {
        const std::string_view piece = stream.substr(at, chunk);
        s = session.Receive(piece, &plain);
        fed += piece.size();
        if (fed >= 5 && NotTls(stream)) Require(!s.ok());
        Require(s.ok() || s.code() == absl::StatusCode::kDataLoss ||
                s.code() == absl::StatusCode::kCancelled);
        Require(!session.established() && plain.empty());
        Require(session.out().size() <= kMaxOut);
        const size_t heap_now = MSOCK_FUZZ_HEAP_BYTES();
        Require(heap_now < heap_before || heap_now - heap_before <= kMaxHeld);
        session.out().clear();  // as if written to the network
      }
    }
    // Nothing established: PeerSubject has nothing to show, Send only keeps.
    Require(session.PeerSubject().empty());
    Require(session.Send("after").ok() && session.out().empty());
    session.Shutdown();
  }
  return 0;
}
