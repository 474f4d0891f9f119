// sub (SP pubsub, 0x21): keeps the messages whose body starts with a
// subscribed prefix. Subscriptions are local (SP never sends them to the
// publisher); the receive filter checks each message as it arrives, so
// unwanted messages never take room in the receive queue.
#include <algorithm>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "msock/protocols/pubsub.h"
#include "socket/socket_access.h"

namespace msock {

// The subscribed prefixes, shared with the receive filter. Lock order: the
// socket's lock (held while the filter runs), then mu.
struct Sub::Topics {
  mutable std::mutex mu;
  std::vector<std::string> prefixes;  // one entry per Subscribe call
  bool all = false;                   // "" is subscribed: skip the scan
  uint64_t filtered = 0;

  void Recount() {
    all = std::find(prefixes.begin(), prefixes.end(), std::string()) !=
          prefixes.end();
  }
  bool Matches(std::string_view body) const {
    if (all) return true;
    for (const std::string& p : prefixes) {
      if (body.size() >= p.size() && body.compare(0, p.size(), p) == 0)
        return true;
    }
    return false;
  }
};

Sub::Sub(Context& ctx)
    : Role(protocols::kSub, ctx), topics_(std::make_shared<Topics>()) {
  std::shared_ptr<Topics> t = topics_;
  internal::SocketAccess::SetRecvFilter(socket_, [t](Message& m, int /*ttl*/) {
    std::lock_guard<std::mutex> lock(t->mu);
    if (t->Matches(m.body())) return internal::RecvVerdict::kKeep;
    ++t->filtered;
    return internal::RecvVerdict::
        kConsumed;  // not a loss: the user did not ask for it
  });
}

Sub::~Sub() = default;

void Sub::Subscribe(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(topics_->mu);
  topics_->prefixes.emplace_back(prefix);
  topics_->Recount();
}

absl::Status Sub::Unsubscribe(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(topics_->mu);
  auto& v = topics_->prefixes;
  auto it = std::find(v.begin(), v.end(), prefix);
  if (it == v.end()) {
    return absl::NotFoundError(absl::StrCat("sub socket: not subscribed to \"",
                                            std::string(prefix), "\""));
  }
  v.erase(it);
  topics_->Recount();
  return absl::OkStatus();
}

std::vector<std::string> Sub::subscriptions() const {
  std::lock_guard<std::mutex> lock(topics_->mu);
  return topics_->prefixes;
}

uint64_t Sub::filtered_out() const {
  std::lock_guard<std::mutex> lock(topics_->mu);
  return topics_->filtered;
}

}  // namespace msock
