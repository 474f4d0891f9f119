// QueueClient: a node's side of the durable queue, on a RoomsClient. Requests
// are "_q/..." emits answered by the server's acks; deliveries ("_q/deliver")
// go to a bounded buffer for Receive (or to the OnMessage callback). After a
// reconnect the client logs in again with the last Login's arguments; after
// "_q/kicked" (another connection took the node over) it stops.
//
// Locking: mu guards the buffer and the login; no emit happens under it.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "msock/protocols/queue.h"
#include "protocols/proto/queue.pb.h"
#include "protocols/rooms/client_access.h"
#include "protocols/topics/change.h"

namespace msock {

namespace qpb = ::msock::queue;
namespace tp = internal::topics;

namespace {

constexpr size_t kRecentAcks = 4096;  // ids remembered to drop late repeats

QueueMessage FromDeliver(qpb::Deliver d) {
  QueueMessage m;
  m.id = d.id();
  m.from_user = std::move(*d.mutable_from_user());
  m.from_node = std::move(*d.mutable_from_node());
  m.body = std::move(*d.mutable_body());
  m.meta = std::move(*d.mutable_meta());
  m.to.assign(d.to().begin(), d.to().end());
  m.attempt = d.attempt();
  m.single_node = d.single_node();
  m.posted = absl::FromUnixMillis(d.posted_ms());
  if (d.expires_ms() != 0) m.expires = absl::FromUnixMillis(d.expires_ms());
  m.kind = std::move(*d.mutable_kind());
  return m;
}

// Ids one `_q/ack` request may carry (the server refuses more).
constexpr size_t kMaxAckIds = 4096;

}  // namespace

struct QueueClient::Impl : std::enable_shared_from_this<QueueClient::Impl> {
  struct LoginArgs {
    std::string user, node, secret;
  };

  Impl(const QueueClientOptions& o, Context& ctx)
      : opts(o), rooms(o.rooms, ctx) {}

  void Install();
  void OnDeliver(const RoomEvent& ev);
  void Relogin();
  template <typename Answer>
  absl::StatusOr<Answer> Call(std::string_view op,
                              const google::protobuf::Message& req,
                              absl::Time deadline);

  const QueueClientOptions opts;
  RoomsClient rooms;
  uint64_t listener = 0;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<QueueMessage> buffer;         // guarded by mu
  absl::flat_hash_set<uint64_t> buffered;  // guarded by mu: ids in buffer
  std::deque<uint64_t> acked_order;        // guarded by mu
  absl::flat_hash_set<uint64_t> acked;     // guarded by mu
  std::function<void(const QueueMessage&)> on_message;  // guarded by mu
  std::optional<LoginArgs> login;                       // guarded by mu
  // Acks in one request (Ack): the batch still open to new ids, and whether
  // a request is in flight.
  struct AckBatch {
    std::vector<uint64_t> ids;
    bool done = false;
    absl::Status status;
  };
  std::shared_ptr<AckBatch> open_acks;  // guarded by mu
  bool ack_sending = false;             // guarded by mu
  std::condition_variable ack_cv;
  bool kicked = false;  // guarded by mu
  bool closed = false;  // guarded by mu
};

void QueueClient::Impl::Install() {
  std::weak_ptr<Impl> weak = weak_from_this();
  rooms.On("_q/deliver",
           [weak](const RoomEvent& ev) -> absl::StatusOr<std::string> {
             if (auto s = weak.lock()) s->OnDeliver(ev);
             return std::string();
           });
  rooms.On("_q/kicked",
           [weak](const RoomEvent&) -> absl::StatusOr<std::string> {
             if (auto s = weak.lock()) {
               std::lock_guard<std::mutex> lock(s->mu);
               s->kicked = true;
               s->cv.notify_all();
             }
             return std::string();
           });
  listener = internal::ClientAccess::AddReconnectListener(
      rooms, [weak](const std::string&, bool) {
        if (auto s = weak.lock()) s->Relogin();
      });
}

void QueueClient::Impl::OnDeliver(const RoomEvent& ev) {
  qpb::Deliver d;
  if (!tp::DecodePayload(ev.payload, &d).ok()) return;  // counted by nobody:
  // the server sends only what it encoded; a bad one is dropped, and comes
  // again after its ack timeout.
  QueueMessage m = FromDeliver(std::move(d));
  std::function<void(const QueueMessage&)> fn;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (kicked || closed || acked.contains(m.id)) return;
    fn = on_message;
    if (!fn) {
      if (buffered.contains(m.id) || buffer.size() >= opts.max_buffered) {
        return;  // held already, or no room: it comes again
      }
      buffered.insert(m.id);
      buffer.push_back(std::move(m));
      cv.notify_one();
      return;
    }
  }
  fn(m);
}

void QueueClient::Impl::Relogin() {
  qpb::Login req;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!login || kicked || closed) return;
    req.set_user(login->user);
    req.set_node(login->node);
    req.set_secret(login->secret);
  }
  req.set_window(opts.window);
  // Not waited for: a refusal leaves the client without deliveries, as
  // after a failed Login.
  rooms
      .EmitAsync("_q/login", req.SerializeAsString(),
                 absl::Now() + absl::Seconds(30),
                 [](absl::StatusOr<std::string>) {})
      .IgnoreError();
}

template <typename Answer>
absl::StatusOr<Answer> QueueClient::Impl::Call(
    std::string_view op, const google::protobuf::Message& req,
    absl::Time deadline) {
  absl::StatusOr<std::string> a = rooms.Emit(std::string("_q/").append(op),
                                             req.SerializeAsString(), deadline);
  if (!a.ok()) return a.status();
  Answer out;
  if (!out.ParseFromString(*a)) {
    return absl::DataLossError(absl::StrCat(
        "queue: the answer to ", std::string(op), " does not decode"));
  }
  return out;
}

QueueClient::QueueClient(const QueueClientOptions& options, Context& ctx)
    : impl_(std::make_shared<Impl>(options, ctx)) {
  impl_->Install();
}

QueueClient::~QueueClient() { Close(); }

absl::Status QueueClient::Connect(std::string_view url, absl::Time deadline) {
  return impl_->rooms.Connect(url, deadline).status();
}

absl::StatusOr<std::string> QueueClient::Register(
    std::string_view user, std::string_view node, absl::Time deadline,
    std::vector<std::string> aliases, std::string_view proof_node,
    std::string_view proof_secret) {
  qpb::Register req;
  req.set_user(std::string(user));
  req.set_node(std::string(node));
  for (std::string& a : aliases) req.add_aliases(std::move(a));
  req.set_proof_node(std::string(proof_node));
  req.set_proof_secret(std::string(proof_secret));
  absl::StatusOr<qpb::Registered> r =
      impl_->Call<qpb::Registered>("register", req, deadline);
  if (!r.ok()) return r.status();
  return std::move(*r->mutable_secret());
}

absl::Status QueueClient::Login(std::string_view user, std::string_view node,
                                std::string_view secret, absl::Time deadline) {
  qpb::Login req;
  req.set_user(std::string(user));
  req.set_node(std::string(node));
  req.set_secret(std::string(secret));
  req.set_window(impl_->opts.window);
  absl::StatusOr<qpb::LoggedIn> r =
      impl_->Call<qpb::LoggedIn>("login", req, deadline);
  if (!r.ok()) return r.status();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->login = Impl::LoginArgs{std::string(user), std::string(node),
                                 std::string(secret)};
  impl_->kicked = false;
  return absl::OkStatus();
}

absl::StatusOr<PostResult> QueueClient::Post(const std::vector<std::string>& to,
                                             std::string_view body,
                                             absl::Time deadline,
                                             const PostOptions& options) {
  qpb::Post req;
  for (const std::string& r : to) req.add_to(r);
  req.set_body(std::string(body));
  req.set_meta(options.meta);
  req.set_client_id(options.client_id);
  req.set_single_node(options.single_node);
  req.set_no_self(options.no_self);
  if (options.ttl > absl::ZeroDuration()) {
    req.set_ttl_ms(static_cast<uint64_t>(
        std::max<int64_t>(1, absl::ToInt64Milliseconds(options.ttl))));
  }
  absl::StatusOr<qpb::Posted> r =
      impl_->Call<qpb::Posted>("post", req, deadline);
  if (!r.ok()) return r.status();
  PostResult out;
  out.id = r->id();
  out.duplicate = r->duplicate();
  out.errors.assign(r->errors().begin(), r->errors().end());
  out.nodes = r->nodes();
  return out;
}

absl::StatusOr<QueueMessage> QueueClient::Receive(absl::Time deadline) {
  absl::StatusOr<std::vector<QueueMessage>> got = ReceiveMany(1, deadline);
  if (!got.ok()) return got.status();
  return std::move(got->front());
}

absl::StatusOr<std::vector<QueueMessage>> QueueClient::ReceiveMany(
    size_t max, absl::Time deadline) {
  if (max == 0) return absl::InvalidArgumentError("queue: ReceiveMany of 0");
  std::unique_lock<std::mutex> lock(impl_->mu);
  const auto until = absl::ToChronoTime(deadline);
  for (;;) {
    if (!impl_->buffer.empty()) {
      std::vector<QueueMessage> out;
      while (out.size() < max && !impl_->buffer.empty()) {
        out.push_back(std::move(impl_->buffer.front()));
        impl_->buffer.pop_front();
        impl_->buffered.erase(out.back().id);
      }
      return out;
    }
    if (impl_->closed) return absl::CancelledError("queue: client closed");
    if (impl_->kicked) {
      return absl::FailedPreconditionError(
          "queue: another connection logged in as this node");
    }
    if (impl_->cv.wait_until(lock, until) == std::cv_status::timeout &&
        impl_->buffer.empty()) {
      return absl::DeadlineExceededError("queue: no message by the deadline");
    }
  }
}

void QueueClient::OnMessage(std::function<void(const QueueMessage& m)> fn) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->on_message = std::move(fn);
}

absl::Status QueueClient::Ack(uint64_t id, absl::Time deadline) {
  return Ack(std::vector<uint64_t>{id}, deadline);
}

// Acks from several threads share requests: while one `_q/ack` is on its
// way, the ids acked meanwhile gather in the open batch (up to kMaxAckIds,
// the server's bound), which the next caller to find no request in flight
// sends (with its deadline) for all.
absl::Status QueueClient::Ack(const std::vector<uint64_t>& ids,
                              absl::Time deadline) {
  if (ids.empty()) return absl::OkStatus();
  if (ids.size() > kMaxAckIds) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue: at most ", kMaxAckIds, " ids per Ack"));
  }
  Impl& im = *impl_;
  std::unique_lock<std::mutex> lock(im.mu);
  const auto until = absl::ToChronoTime(deadline);
  // A batch too full for these ids is left to its sender: wait for the next.
  while (im.open_acks && im.open_acks->ids.size() + ids.size() > kMaxAckIds) {
    if (im.ack_cv.wait_until(lock, until) == std::cv_status::timeout) {
      return absl::DeadlineExceededError("queue: ack not answered in time");
    }
  }
  if (!im.open_acks) im.open_acks = std::make_shared<Impl::AckBatch>();
  std::shared_ptr<Impl::AckBatch> mine = im.open_acks;
  mine->ids.insert(mine->ids.end(), ids.begin(), ids.end());
  while (!mine->done) {
    if (im.ack_sending) {
      if (im.ack_cv.wait_until(lock, until) == std::cv_status::timeout &&
          !mine->done) {
        return absl::DeadlineExceededError("queue: ack not answered in time");
      }
      continue;
    }
    // No request in flight, so `mine` is still the open batch: send it.
    std::shared_ptr<Impl::AckBatch> batch = std::move(im.open_acks);
    im.ack_sending = true;
    lock.unlock();
    qpb::Ack req;
    for (uint64_t a : batch->ids) req.add_ids(a);
    absl::Status st = im.Call<qpb::Acked>("ack", req, deadline).status();
    lock.lock();
    im.ack_sending = false;
    batch->done = true;
    batch->status = st;
    if (st.ok()) {
      bool held = false;
      for (uint64_t a : batch->ids) {
        held = held || im.buffered.contains(a);
        if (!im.acked.insert(a).second) continue;
        im.acked_order.push_back(a);
        if (im.acked_order.size() > kRecentAcks) {
          im.acked.erase(im.acked_order.front());
          im.acked_order.pop_front();
        }
      }
      // A delivery of an id being acked can arrive before the ack's answer
      // (a new session's load read the entry before the ack's commit, e.g.
      // after the server restarted): it is done, not to be received again.
      if (held) {
        std::erase_if(im.buffer, [&](const QueueMessage& m) {
          if (!im.acked.contains(m.id)) return false;
          im.buffered.erase(m.id);
          return true;
        });
      }
    }
    im.ack_cv.notify_all();
  }
  return mine->status;
}

absl::Status QueueClient::Nack(uint64_t id, absl::Duration delay,
                               absl::Time deadline) {
  qpb::Ack req;
  req.add_ids(id);
  req.set_type("nack");
  req.set_delay_ms(static_cast<uint64_t>(
      std::max<int64_t>(0, absl::ToInt64Milliseconds(delay))));
  return impl_->Call<qpb::Acked>("ack", req, deadline).status();
}

absl::Status QueueClient::Term(uint64_t id, absl::Time deadline) {
  qpb::Ack req;
  req.add_ids(id);
  req.set_type("term");
  return impl_->Call<qpb::Acked>("ack", req, deadline).status();
}

absl::StatusOr<std::vector<std::string>> QueueClient::SetAliases(
    const std::vector<std::string>& aliases, absl::Time deadline) {
  qpb::Aliases req;
  for (const std::string& a : aliases) req.add_aliases(a);
  absl::StatusOr<qpb::Aliases> r =
      impl_->Call<qpb::Aliases>("aliases", req, deadline);
  if (!r.ok()) return r.status();
  return std::vector<std::string>(r->aliases().begin(), r->aliases().end());
}

namespace {

absl::StatusOr<std::vector<std::string>> EditList(
    const std::function<absl::StatusOr<qpb::ListMembers>(const qpb::ListEdit&)>&
        call,
    std::string_view list, std::string_view op, std::string_view member) {
  qpb::ListEdit req;
  req.set_list(std::string(list));
  req.set_op(std::string(op));
  req.set_member(std::string(member));
  absl::StatusOr<qpb::ListMembers> r = call(req);
  if (!r.ok()) return r.status();
  return std::vector<std::string>(r->members().begin(), r->members().end());
}

}  // namespace

absl::Status QueueClient::ListAdd(std::string_view list, std::string_view user,
                                  absl::Time deadline) {
  return EditList(
             [&](const qpb::ListEdit& r) {
               return impl_->Call<qpb::ListMembers>("list", r, deadline);
             },
             list, "add", user)
      .status();
}

absl::Status QueueClient::ListRemove(std::string_view list,
                                     std::string_view user,
                                     absl::Time deadline) {
  return EditList(
             [&](const qpb::ListEdit& r) {
               return impl_->Call<qpb::ListMembers>("list", r, deadline);
             },
             list, "remove", user)
      .status();
}

absl::StatusOr<std::vector<std::string>> QueueClient::ListMembers(
    std::string_view list, absl::Time deadline) {
  return EditList(
      [&](const qpb::ListEdit& r) {
        return impl_->Call<qpb::ListMembers>("list", r, deadline);
      },
      list, "get", "");
}

absl::StatusOr<std::vector<QueueMessage>> QueueClient::DeadLetters(
    absl::Time deadline, bool purge) {
  qpb::Query req;
  req.set_purge(purge);
  absl::StatusOr<qpb::Messages> r =
      impl_->Call<qpb::Messages>("dead", req, deadline);
  if (!r.ok()) return r.status();
  std::vector<QueueMessage> out;
  for (qpb::Deliver& d : *r->mutable_messages()) {
    out.push_back(FromDeliver(std::move(d)));
  }
  return out;
}

absl::StatusOr<std::vector<uint64_t>> QueueClient::Pending(
    absl::Time deadline) {
  absl::StatusOr<qpb::Messages> r =
      impl_->Call<qpb::Messages>("pending", qpb::Query(), deadline);
  if (!r.ok()) return r.status();
  std::vector<uint64_t> out;
  for (const qpb::Deliver& d : r->messages()) out.push_back(d.id());
  return out;
}

RoomsClient& QueueClient::rooms() { return impl_->rooms; }

void QueueClient::Close() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->closed) return;
    impl_->closed = true;
    impl_->cv.notify_all();
  }
  internal::ClientAccess::RemoveReconnectListener(impl_->rooms,
                                                  impl_->listener);
  impl_->rooms.Close();
}

}  // namespace msock
