// QueueServer requests that read or edit a user's data: aliases,
// distribution lists, dead letters and the pending ids of a node.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "protocols/queue/server_impl.h"
#include "protocols/topics/change.h"

namespace msock {

using internal::SystemCall;
using internal::queue::Reply;
namespace tp = internal::topics;

void QueueServer::Impl::OnAliases(SystemCall call, const q::NodeKey& node) {
  qpb::Aliases req;
  if (!Decode(call, &req)) return;
  absl::Status st;
  if (static_cast<size_t>(req.aliases_size()) > opts.max_aliases) {
    call.reply(absl::ResourceExhaustedError(
        absl::StrCat("queue: ", req.aliases_size(), " aliases (limit ",
                     opts.max_aliases, ")")));
    return;
  }
  std::vector<std::string> aliases;
  for (const std::string& a : req.aliases()) {
    if (st.ok()) st = CheckName("alias", a);
    aliases.push_back(a);
  }
  if (!st.ok()) {
    call.reply(st);
    return;
  }
  store->SetAliases(node.first, std::move(aliases),
                    [call](absl::StatusOr<std::vector<std::string>> r) {
                      if (!r.ok()) return call.reply(r.status());
                      qpb::Aliases out;
                      for (std::string& a : *r) out.add_aliases(std::move(a));
                      Reply(call, out);
                    });
}

void QueueServer::Impl::OnList(SystemCall call, const q::NodeKey& node) {
  qpb::ListEdit req;
  if (!Decode(call, &req)) return;
  absl::Status st = CheckName("list", req.list());
  if (st.ok() && req.op() != "get") st = CheckName("member", req.member());
  if (st.ok() && req.op() != "add" && req.op() != "remove" &&
      req.op() != "get") {
    st = absl::InvalidArgumentError(
        absl::StrCat("queue: unknown list op \"", req.op(), "\""));
  }
  if (!st.ok()) {
    call.reply(st);
    return;
  }
  std::shared_ptr<Impl> self = shared_from_this();
  store->EditList(node.first, req.list(), req.op(), req.member(), q::NowMs(),
                  [self, call](absl::StatusOr<q::ListOutcome> out) {
                    if (!out.ok()) return call.reply(out.status());
                    qpb::ListMembers m;
                    for (const std::string& u : out->members) {
                      m.add_members(u);
                    }
                    Reply(call, m);
                    if (out->notice.msg) self->Distribute(out->notice);
                  });
}

void QueueServer::Impl::OnQuery(SystemCall call, const q::NodeKey& node) {
  qpb::Query req;
  if (!Decode(call, &req)) return;
  const size_t limit =
      req.limit() == 0 ? 1000 : std::min<size_t>(req.limit(), 10000);
  if (call.ev.name == "_q/pending") {
    store->Pending(node, limit,
                   [call](absl::StatusOr<std::vector<uint64_t>> ids) {
                     if (!ids.ok()) return call.reply(ids.status());
                     qpb::Messages m;
                     for (uint64_t id : *ids) m.add_messages()->set_id(id);
                     Reply(call, m);
                   });
    return;
  }
  store->DeadLetters(node.first, req.purge(), limit,
                     [call](absl::StatusOr<std::vector<q::DeadLetter>> d) {
                       if (!d.ok()) return call.reply(d.status());
                       qpb::Messages m;
                       for (const q::DeadLetter& l : *d) {
                         *m.add_messages() = q::ToDeliver(l.msg, 0);
                         m.add_reasons(l.reason);
                       }
                       Reply(call, m);
                     });
}

}  // namespace msock
