// TlsConfig and TlsSession: OpenSSL contexts built from socket options, and one
// TLS connection driven through memory BIOs (ws_tls.h).
#include "transports/ws/ws_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace msock::internal {

namespace {

constexpr size_t kReadChunk = 16 * 1024;

// The newest OpenSSL error in words, and the queue emptied.
std::string OpenSslError() {
  unsigned long last = 0;
  while (unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof(buf));
  return buf;
}

bool IsPem(const std::string& v) { return v.rfind("-----BEGIN", 0) == 0; }

// A value is either PEM text or the name of a PEM file.
absl::Status LoadCertificate(SSL_CTX* ctx, const std::string& v) {
  if (!IsPem(v)) {
    if (SSL_CTX_use_certificate_chain_file(ctx, v.c_str()) == 1) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "tls-cert: cannot load certificate file '", v, "': ", OpenSslError()));
  }
  BIO* bio = BIO_new_mem_buf(v.data(), static_cast<int>(v.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  bool ok = cert != nullptr && SSL_CTX_use_certificate(ctx, cert) == 1;
  X509_free(cert);
  // The rest of a chain, if any.
  while (ok) {
    X509* extra = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (extra == nullptr) break;
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      ok = false;
    }
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the chain reads as an error
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "tls-cert: the PEM text holds no usable certificate");
}

absl::Status LoadKey(SSL_CTX* ctx, const std::string& v) {
  BIO* bio = IsPem(v) ? BIO_new_mem_buf(v.data(), static_cast<int>(v.size()))
                      : BIO_new_file(v.c_str(), "r");
  EVP_PKEY* key = bio == nullptr
                      ? nullptr
                      : PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls-key: cannot load the private key",
        IsPem(v) ? "" : absl::StrCat(" file '", v, "'"), ": ", OpenSslError()));
  }
  const bool ok = SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
                  SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls-key: the key does not match the certificate: ", OpenSslError()));
  }
  return absl::OkStatus();
}

absl::Status LoadCa(SSL_CTX* ctx, const std::string& v) {
  if (!IsPem(v)) {
    if (SSL_CTX_load_verify_locations(ctx, v.c_str(), nullptr) == 1) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "tls-ca: cannot load CA file '", v, "': ", OpenSslError()));
  }
  BIO* bio = BIO_new_mem_buf(v.data(), static_cast<int>(v.size()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int n = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++n;
    X509_free(cert);
  }
  BIO_free(bio);
  ERR_clear_error();
  if (n > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "tls-ca: the PEM text holds no certificate");
}

}  // namespace

void InitOpenSsl() {
  // No clean-up at exit: OpenSSL's atexit handler would free its locks while
  // an I/O thread (the default Context's lives until exit) may still hold
  // TLS state. The first initialisation decides, so this runs before lws'
  // context is made (WsHost::Start) and before any TLS use.
  static const bool done =
      OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_SSL_STRINGS |
                           OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                       nullptr);
  (void)done;
}

absl::StatusOr<std::shared_ptr<TlsConfig>> TlsConfig::ForListener(
    const SocketOptions& o) {
  InitOpenSsl();
  if (o.tls_cert.empty() || o.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "wss:// listen needs a certificate and its key: set the tls-cert and "
        "tls-key options");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    return absl::InternalError(
        absl::StrCat("tls: cannot create a context: ", OpenSslError()));
  }
  const bool verify = !o.tls_ca.empty() && o.tls_verify_peer;
  std::shared_ptr<TlsConfig> config(new TlsConfig(ctx, true, verify));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  absl::Status s = LoadCertificate(ctx, o.tls_cert);
  if (s.ok()) s = LoadKey(ctx, o.tls_key);
  if (s.ok() && !o.tls_ca.empty()) s = LoadCa(ctx, o.tls_ca);
  if (s.ok() && verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       nullptr);
  }
  if (!s.ok()) return s;
  return config;
}

absl::StatusOr<std::shared_ptr<TlsConfig>> TlsConfig::ForDialer(
    const SocketOptions& o) {
  InitOpenSsl();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return absl::InternalError(
        absl::StrCat("tls: cannot create a context: ", OpenSslError()));
  }
  const bool verify = o.tls_verify_peer;
  std::shared_ptr<TlsConfig> config(new TlsConfig(ctx, false, verify));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  absl::Status s;
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    if (o.tls_cert.empty() || o.tls_key.empty()) {
      return absl::InvalidArgumentError(
          "tls: a client certificate needs both tls-cert and tls-key");
    }
    s = LoadCertificate(ctx, o.tls_cert);
    if (s.ok()) s = LoadKey(ctx, o.tls_key);
  }
  if (s.ok() && verify) {
    if (!o.tls_ca.empty()) {
      s = LoadCa(ctx, o.tls_ca);
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      s = absl::InvalidArgumentError(absl::StrCat(
          "tls: cannot load the system's CA certificates: ", OpenSslError()));
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!s.ok()) return s;
  return config;
}

TlsConfig::~TlsConfig() { SSL_CTX_free(ctx_); }

TlsSession::TlsSession(std::shared_ptr<TlsConfig> config,
                       const std::string& server_name)
    : config_(std::move(config)) {
  ssl_ = SSL_new(config_->ctx());
  if (ssl_ == nullptr) return;  // Start / Receive report it
  // SSL owns both memory BIOs: network -> TLS (read) and TLS -> network.
  SSL_set_bio(ssl_, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  if (config_->server()) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (server_name.empty()) return;
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(server_name.c_str());
  if (ip != nullptr) {
    ASN1_OCTET_STRING_free(ip);
  } else {
    SSL_set_tlsext_host_name(ssl_, server_name.c_str());
  }
  // Checks a DNS name or an IP address against the certificate's names.
  if (config_->verify()) SSL_set1_host(ssl_, server_name.c_str());
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::DrainOut() {
  BIO* w = SSL_get_wbio(ssl_);
  while (BIO_ctrl_pending(w) > 0) {
    const size_t at = out_.size();
    const size_t n = BIO_ctrl_pending(w);
    out_.resize(at + n);
    const int got = BIO_read(w, &out_[at], static_cast<int>(n));
    out_.resize(at + (got > 0 ? static_cast<size_t>(got) : 0));
    if (got <= 0) break;
  }
}

absl::Status TlsSession::Fail(int ssl_result, const char* during) {
  const int e = SSL_get_error(ssl_, ssl_result);
  DrainOut();  // an alert for the peer
  if (e == SSL_ERROR_ZERO_RETURN) {
    return absl::CancelledError("tls: the peer closed the connection");
  }
  std::string why;
  if (!established_) {
    const long v = SSL_get_verify_result(ssl_);
    if (v != X509_V_OK) {
      why = absl::StrCat("certificate check failed: ",
                         X509_verify_cert_error_string(v));
      ERR_clear_error();
    }
  }
  if (why.empty()) {
    why =
        e == SSL_ERROR_SSL ? OpenSslError() : absl::StrCat("OpenSSL error ", e);
  }
  return absl::DataLossError(absl::StrCat("tls ", during, ": ", why));
}

absl::Status TlsSession::Start() {
  if (ssl_ == nullptr) return absl::InternalError("tls: SSL_new failed");
  const int r = SSL_do_handshake(ssl_);
  if (r != 1 && SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) {
    return Fail(r, "handshake");
  }
  DrainOut();
  return absl::OkStatus();
}

absl::Status TlsSession::FlushEarly() {
  std::string early = std::move(early_);
  early_.clear();
  return early.empty() ? absl::OkStatus() : Send(early);
}

absl::Status TlsSession::Receive(std::string_view cipher, std::string* plain) {
  if (ssl_ == nullptr) return absl::InternalError("tls: SSL_new failed");
  if (!cipher.empty() && BIO_write(SSL_get_rbio(ssl_), cipher.data(),
                                   static_cast<int>(cipher.size())) !=
                             static_cast<int>(cipher.size())) {
    return absl::InternalError("tls: cannot buffer received bytes");
  }
  if (!established_) {
    const int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      if (SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ) {
        DrainOut();
        return absl::OkStatus();
      }
      return Fail(r, "handshake");
    }
    established_ = true;
    DrainOut();
    if (absl::Status s = FlushEarly(); !s.ok()) return s;
  }
  for (;;) {
    const size_t at = plain->size();
    plain->resize(at + kReadChunk);
    const int n = SSL_read(ssl_, &(*plain)[at], static_cast<int>(kReadChunk));
    plain->resize(at + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) continue;
    if (SSL_get_error(ssl_, n) == SSL_ERROR_WANT_READ) break;
    return Fail(n, "read");
  }
  DrainOut();  // reading may answer (key updates, session tickets)
  return absl::OkStatus();
}

absl::Status TlsSession::Send(std::string_view plain) {
  if (plain.empty()) return absl::OkStatus();
  if (!established_) {
    early_.append(plain);
    return absl::OkStatus();
  }
  while (!plain.empty()) {
    const int n = SSL_write(ssl_, plain.data(), static_cast<int>(plain.size()));
    if (n <= 0) return Fail(n, "write");
    plain.remove_prefix(static_cast<size_t>(n));
  }
  DrainOut();
  return absl::OkStatus();
}

std::string TlsSession::PeerSubject() const {
  if (ssl_ == nullptr || !established_) return "";
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  X509* cert = SSL_get1_peer_certificate(ssl_);  // a reference: freed below
#else
  X509* cert = SSL_get_peer_certificate(ssl_);
#endif
  if (cert == nullptr) return "";
  std::string out;
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio != nullptr && X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
                                           XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  X509_free(cert);
  return out;
}

void TlsSession::Shutdown() {
  if (shut_ || ssl_ == nullptr || !established_) return;
  shut_ = true;
  SSL_shutdown(ssl_);
  DrainOut();
}

}  // namespace msock::internal
