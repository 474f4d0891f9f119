// Implementation of Marry, PrepareFor and FastRedial (tests/support/marry.h):
// listen, dial, wait on both sides, each failure named by its step.
#include "tests/support/marry.h"

#include "absl/strings/str_cat.h"
#include "msock/options.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_support.h"

namespace msock::test {

void PrepareFor(Socket& s, std::string_view scheme) {
  if (scheme == "wss") UseTestTls(s);
}

absl::Status FastRedial(Socket& s) {
  absl::Status st = s.Set(opt::kReconnectMin, absl::Milliseconds(10));
  if (st.ok()) st = s.Set(opt::kReconnectMax, absl::Milliseconds(200));
  return st;
}

namespace {

absl::Status Step(const absl::Status& s, std::string_view what) {
  if (s.ok()) return s;
  return absl::Status(
      s.code(), absl::StrCat("Marry: ", std::string(what), ": ", s.message()));
}

}  // namespace

absl::StatusOr<std::string> MarrySockets(Socket& listener, Socket& dialer,
                                         std::string_view where,
                                         absl::Time deadline) {
  const bool is_url = where.find("://") != std::string_view::npos;
  const std::string listen_url =
      is_url ? std::string(where) : ListenUrlFor(where);
  absl::StatusOr<std::string> url = listener.Listen(listen_url);
  if (!url.ok()) return Step(url.status(), "listen on " + listen_url);
  absl::Status s = Step(FastRedial(dialer), "set the re-dial interval");
  if (s.ok()) s = Step(dialer.Dial(*url), "dial " + *url);
  if (s.ok()) s = Step(dialer.WaitForPeers(1, deadline), "dialer's peer");
  if (s.ok()) s = Step(listener.WaitForPeers(1, deadline), "listener's peer");
  if (!s.ok()) return s;
  return url;
}

}  // namespace msock::test
