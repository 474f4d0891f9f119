// Test certificates made with the openssl command (tests/support/test_certs.h).
#include "tests/support/test_certs.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "msock/options.h"
#include "tests/support/test_support.h"

namespace msock::test {

namespace {

constexpr char kScript[] = R"(set -e
cd "$1"
key='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
ca() {
  openssl req -x509 $key -days 3 -subj "/CN=$1" -keyout "$1.key" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {  # name, CA, subjectAltName, common name
  openssl req $key -subj "/CN=$4" -keyout "$1.key" -out "$1.csr"
  printf 'basicConstraints=CA:FALSE\nsubjectAltName=%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
    -CAcreateserial -days 3 -extfile "$1.ext" -out "$1.pem"
}
ca test-ca
ca other-ca
leaf server test-ca "DNS:localhost,IP:127.0.0.1,IP:::1" localhost
leaf other other-ca "DNS:localhost,IP:127.0.0.1,IP:::1" localhost
leaf elsewhere test-ca DNS:elsewhere.example elsewhere.example
)";

TestCerts Make() {
  const std::string dir = Scratch().NewPath("certs");
  const std::string script = absl::StrCat(dir, ".sh");
  const std::string log = absl::StrCat(dir, ".log");
  std::ofstream(script) << kScript;
  const std::string cmd = absl::StrCat("mkdir -p '", dir, "' && sh '", script,
                                       "' '", dir, "' >'", log, "' 2>&1");
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream in(log);
    std::string out((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
    std::fprintf(stderr, "cannot make test certificates (%s):\n%s\n",
                 cmd.c_str(), out.c_str());
    std::abort();
  }
  auto f = [&](const char* name) { return absl::StrCat(dir, "/", name); };
  return TestCerts{f("test-ca.pem"),   f("server.pem"),   f("server.key"),
                   f("other-ca.pem"),  f("other.pem"),    f("other.key"),
                   f("elsewhere.pem"), f("elsewhere.key")};
}

}  // namespace

const TestCerts& Certs() {
  static const TestCerts* certs = new TestCerts(Make());
  return *certs;
}

void UseTestTls(Socket& s) {
  const TestCerts& c = Certs();
  if (!s.Set(opt::kTlsCert, c.cert).ok() || !s.Set(opt::kTlsKey, c.key).ok() ||
      !s.Set(opt::kTlsCa, c.ca).ok()) {
    std::fprintf(stderr, "UseTestTls: the socket refused the options\n");
    std::abort();
  }
}

}  // namespace msock::test
