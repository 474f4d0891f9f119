// NetnsLink: two throw-away network namespaces joined by a veth pair, for
// partition tests. Cut() drops every packet between them without telling
// either end (no RST, no ICMP: TCP just sees silence); Heal() lets them through
// again. Contexts made with NewContextIn run their loop thread (and so every
// socket they open) inside one of the namespaces.
#ifndef MSOCK_TESTS_RELIABILITY_NETNS_H_
#define MSOCK_TESTS_RELIABILITY_NETNS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "msock/context.h"

namespace msock::test {

class NetnsLink {
 public:
  // Makes namespaces "msrel-<pid>-a" / "-b" with 10.213.0.1/30 and
  // 10.213.0.2/30 on the two ends (namespaces isolate addresses, so parallel
  // runs do not clash), after deleting the namespaces of earlier runs whose
  // process is gone. kUnavailable when this machine cannot (not root, no
  // `ip`): callers skip.
  static absl::StatusOr<std::unique_ptr<NetnsLink>> Create();
  ~NetnsLink();  // deletes both namespaces (and so the veth pair)

  const std::string& ns(int side) const { return ns_[side]; }
  // "10.213.0.1" (side 0) or "10.213.0.2" (side 1).
  std::string addr(int side) const;

  // Drops every IPv4 packet in both directions (ARP passes, as across a dead
  // router): a classic-BPF "drop" filter in
  // direct-action mode on the ingress of each veth end (tc clsact + cls_bpf,
  // no action module needed), or, if the kernel has no cls_bpf, blackhole
  // routes (which make a new connect() fail at once with EINVAL instead of
  // hanging: method() says which).
  absl::Status Cut();
  absl::Status Heal();
  // "tc-bpf-drop" or "blackhole-route".
  const std::string& method() const { return method_; }

 private:
  NetnsLink() = default;
  std::string ns_[2];
  std::string dev_[2];
  std::string method_;
  bool cut_ = false;
};

// A Context whose loop thread lives in network namespace `ns`: a helper thread
// enters the namespace (setns) and constructs the Context, whose loop thread
// inherits it. Null (with the reason in *error) if setns fails.
std::unique_ptr<Context> NewContextIn(const std::string& ns,
                                      std::string* error);

// Runs a shell command; its output (stdout and stderr) goes to *out when not
// null. Returns the exit status (-1 if it could not run).
int RunCommand(const std::string& cmd, std::string* out = nullptr);

}  // namespace msock::test

#endif  // MSOCK_TESTS_RELIABILITY_NETNS_H_
