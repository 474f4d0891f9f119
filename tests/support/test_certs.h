// Certificates for wss:// tests, made at run time with the openssl command
// (nothing secret is committed): a test CA, a server certificate for
// localhost / 127.0.0.1 / ::1 signed by it (usable as a client certificate
// too), an unrelated CA with a certificate of the same names, and a
// certificate of the test CA for another name. EC P-256 keys: quick to make.
#ifndef MSOCK_TESTS_SUPPORT_TEST_CERTS_H_
#define MSOCK_TESTS_SUPPORT_TEST_CERTS_H_

#include <string>

#include "msock/socket.h"

namespace msock::test {

struct TestCerts {
  std::string ca;                     // the test CA's certificate (PEM file)
  std::string cert, key;              // localhost, 127.0.0.1, ::1; by `ca`
  std::string other_ca;               // an unrelated CA
  std::string other_cert, other_key;  // the same names, by `other_ca`
  std::string elsewhere_cert, elsewhere_key;  // "elsewhere.example", by `ca`
};

// Made once per process in the scratch directory; aborts (with openssl's
// output) if they cannot be made.
const TestCerts& Certs();

// Sets kTlsCert, kTlsKey and kTlsCa of `s` to Certs().cert, .key and .ca: a
// listener then requires clients to show a certificate of the test CA, and a
// dialer shows one and checks the listener's.
void UseTestTls(Socket& s);

}  // namespace msock::test

#endif  // MSOCK_TESTS_SUPPORT_TEST_CERTS_H_
