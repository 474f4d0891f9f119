// QueueServer delivery: one session per logged-in node. A session loads its
// queue from the store in batches (never more than kBuffered entries held),
// keeps up to `window` entries in flight, and sends again what is not
// acknowledged in time (ack_timeout doubling per attempt, capped by
// max_backoff) until max_attempts, then moves it to the dead letters. New
// entries (Distribute) join a session directly when it has everything below
// them, else the next load brings them. An acked entry leaves the window as
// the ack arrives (Acking), not once it is durable: the next entries travel
// while the ack commits, and until then nothing sends the acked one again.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "protocols/queue/server_impl.h"
#include "protocols/topics/change.h"

namespace msock {

namespace tp = internal::topics;

namespace {

constexpr size_t kBuffered = 512;   // entries a session holds at most
constexpr size_t kLoadBatch = 256;  // entries one load asks for
// Entries a session keeps as acked but not yet durable (Session::acking):
// beyond, an ack frees its window only once it is durable.
constexpr size_t kMaxAcking = 4096;

absl::Status SendEntry(Hub& hub, uint32_t pipe, const q::StoredMessage& m,
                       uint32_t attempt) {
  return internal::HubAccess::SendToPipe(
      hub, pipe, "_q/deliver",
      [&](bool json) { return tp::EncodeFor(q::ToDeliver(m, attempt), json); });
}

}  // namespace

absl::Duration QueueServer::Impl::Backoff(uint32_t attempts) const {
  absl::Duration d = opts.ack_timeout;
  for (uint32_t i = 1; i < attempts && d < opts.max_backoff; ++i) d *= 2;
  return std::min(d, opts.max_backoff);
}

QueueServer::Impl::Session* QueueServer::Impl::SessionLocked(
    const q::NodeKey& node) {
  auto it = sessions.find(node);
  return it == sessions.end() ? nullptr : &it->second;
}

void QueueServer::Impl::BeginSession(const internal::SystemCall& call,
                                     q::NodeKey node, uint32_t window) {
  const std::string& client = call.ev.client;
  uint32_t kick_pipe = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (closed) return;
    auto old = sessions.find(node);
    if (old != sessions.end()) {
      if (old->second.client != client) {
        kick_pipe = old->second.pipe;
        client_node.erase(old->second.client);
      }
      sessions.erase(old);
    }
    auto mine = client_node.find(client);
    if (mine != client_node.end() && mine->second != node) {
      sessions.erase(mine->second);  // this connection changes node
    }
    Session& s = sessions[node];
    s.node = node;
    s.client = client;
    s.pipe = call.pipe;
    s.json = call.json;
    s.window = window;
    s.serial = ++logins;
    client_node[client] = node;
    LoadLocked(s);
  }
  if (kick_pipe != 0) {
    qpb::Kicked k;
    k.set_reason("another connection logged in as this node");
    internal::HubAccess::SendToPipe(
        hub, kick_pipe, "_q/kicked",
        [&](bool json) { return tp::EncodeFor(k, json); })
        .IgnoreError();  // gone already: nothing to tell
  }
}

void QueueServer::Impl::ClientGone(const std::string& client) {
  absl::StatusOr<uint32_t> now = hub.PipeOf(client);
  std::lock_guard<std::mutex> lock(mu);
  auto it = client_node.find(client);
  if (it == client_node.end()) return;
  Session* s = SessionLocked(it->second);
  // Back already (a resumed connection) on the pipe it logged in on: keep.
  if (s != nullptr && now.ok() && *now == s->pipe) return;
  // What it had in flight stays in the store, for its next login.
  if (s != nullptr && s->client == client) sessions.erase(it->second);
  client_node.erase(it);
}

void QueueServer::Impl::LoadLocked(Session& s) {
  if (s.loading || !s.more || closed) return;
  if (s.ready.size() + s.in_flight.size() >= kBuffered) return;
  s.loading = true;
  std::weak_ptr<Impl> weak = weak_from_this();
  const q::NodeKey node = s.node;
  const uint64_t serial = s.serial;
  store->Load(node, s.loaded_to, kLoadBatch, q::NowMs(),
              [weak, node, serial](absl::StatusOr<q::LoadResult> r) {
                auto self = weak.lock();
                if (!self) return;
                std::lock_guard<std::mutex> lock(self->mu);
                Session* s = self->SessionLocked(node);
                if (s == nullptr || s->serial != serial) return;
                s->loading = false;
                if (!r.ok()) {
                  return;  // the next tick loads again (more stays true)
                }
                self->expired += r->expired;
                for (q::QueuedEntry& e : r->entries) {
                  const uint64_t id = e.msg->id;
                  if (id <= s->loaded_to || s->in_flight.count(id) != 0) {
                    continue;
                  }
                  if (s->acking.count(id) != 0) {  // read before the ack
                    s->loaded_to = id;
                    continue;
                  }
                  s->loaded_to = id;
                  s->ready.push_back(std::move(e));
                }
                s->more = r->more;
                self->PumpLocked(*s);
              });
}

void QueueServer::Impl::PumpLocked(Session& s) {
  const absl::Time now = absl::Now();
  const int64_t now_ms = absl::ToUnixMillis(now);
  while (s.in_flight.size() < s.window && !s.ready.empty()) {
    // The next entries that fit the window, expired ones dropped on the way
    // (the store's cleanup removes them), sent together: one write.
    const size_t room = s.window - s.in_flight.size();
    size_t n = 0;
    for (auto it = s.ready.begin(); it != s.ready.end() && n < room;) {
      if (it->msg->expires_ms != 0 && it->msg->expires_ms <= now_ms) {
        expired++;
        it = s.ready.erase(it);
        continue;
      }
      ++it;
      ++n;
    }
    if (n == 0) break;
    absl::StatusOr<size_t> sent = internal::HubAccess::SendManyToPipe(
        hub, s.pipe, "_q/deliver", n, [&](size_t i, bool json) {
          const q::QueuedEntry& e = s.ready[i];
          return tp::EncodeFor(q::ToDeliver(*e.msg, e.attempts + 1), json);
        });
    const size_t k = sent.ok() ? *sent : 0;
    for (size_t i = 0; i < k; ++i) {
      q::QueuedEntry& e = s.ready.front();
      const uint32_t attempt = e.attempts + 1;
      deliveries++;
      if (attempt > 1) redeliveries++;
      store->Attempt(s.node, e.msg->id, attempt);
      e.attempts = attempt;
      const uint64_t id = e.msg->id;
      s.in_flight[id] = InFlight{std::move(e), now + Backoff(attempt)};
      s.ready.pop_front();
    }
    if (k < n) break;  // its queue is full (or it is gone): next tick
  }
  LoadLocked(s);
}

void QueueServer::Impl::Distribute(const q::Fanout& fanout) {
  if (!fanout.msg) return;
  const uint64_t id = fanout.msg->id;
  std::lock_guard<std::mutex> lock(mu);
  for (const q::NodeKey& node : fanout.nodes) {
    Session* s = SessionLocked(node);
    if (s == nullptr) continue;  // delivered at its next login
    if (s->loading || s->more ||
        s->ready.size() + s->in_flight.size() >= kBuffered) {
      s->more = true;  // a load brings it, in order
      LoadLocked(*s);
      continue;
    }
    if (id <= s->loaded_to) continue;
    s->loaded_to = id;
    s->ready.push_back(q::QueuedEntry{fanout.msg, 0});
    PumpLocked(*s);
  }
}

void QueueServer::Impl::Forget(const q::NodeKey& node,
                               const std::vector<uint64_t>& ids,
                               const std::vector<uint64_t>& taken) {
  auto drop = [](Session& s, const std::vector<uint64_t>& which) {
    // Most ids were in flight (an ack); only the others can be in `ready`,
    // which is then searched once (kBuffered entries at most).
    absl::flat_hash_set<uint64_t> rest;
    for (uint64_t id : which) {
      if (s.in_flight.erase(id) == 0 && s.acking.erase(id) == 0) {
        rest.insert(id);
      }
    }
    if (s.ready.empty() || rest.empty()) return;
    std::erase_if(s.ready, [&](const q::QueuedEntry& e) {
      return rest.contains(e.msg->id);
    });
  };
  std::lock_guard<std::mutex> lock(mu);
  if (Session* s = SessionLocked(node)) {
    drop(*s, ids);
    PumpLocked(*s);
  }
  if (taken.empty()) return;
  for (auto it = sessions.lower_bound({node.first, ""});
       it != sessions.end() && it->first.first == node.first; ++it) {
    if (it->first == node) continue;
    drop(it->second, taken);
    PumpLocked(it->second);
  }
}

void QueueServer::Impl::Acking(const q::NodeKey& node,
                               const std::vector<uint64_t>& ids) {
  std::lock_guard<std::mutex> lock(mu);
  Session* s = SessionLocked(node);
  if (s == nullptr) return;
  bool freed = false;
  for (uint64_t id : ids) {
    if (s->acking.size() >= kMaxAcking) break;  // the rest: as before
    auto it = s->in_flight.find(id);
    if (it != s->in_flight.end()) {
      s->acking.emplace(id, std::move(it->second));
      s->in_flight.erase(it);
      freed = true;
    } else if (s->loading && id > s->loaded_to) {
      s->acking.emplace(id, std::nullopt);
    }
  }
  if (freed) PumpLocked(*s);
}

void QueueServer::Impl::Unacked(const q::NodeKey& node,
                                const std::vector<uint64_t>& ids) {
  std::lock_guard<std::mutex> lock(mu);
  Session* s = SessionLocked(node);
  if (s == nullptr) return;
  const absl::Time now = absl::Now();
  for (uint64_t id : ids) {
    auto it = s->acking.find(id);
    if (it == s->acking.end()) continue;
    // Sent again at the next tick. (An id it did not hold: at the next
    // login, which loads it again.)
    if (it->second.has_value()) {
      it->second->due = now;
      s->in_flight.emplace(id, std::move(*it->second));
    }
    s->acking.erase(it);
  }
}

void QueueServer::Impl::Nack(const q::NodeKey& node,
                             const std::vector<uint64_t>& ids,
                             absl::Duration delay) {
  std::lock_guard<std::mutex> lock(mu);
  Session* s = SessionLocked(node);
  if (s == nullptr) return;
  const absl::Time due = absl::Now() + delay;
  for (uint64_t id : ids) {
    auto it = s->in_flight.find(id);
    if (it != s->in_flight.end()) it->second.due = due;
  }
}

void QueueServer::Impl::Tick() {
  if (closed) return;
  std::vector<std::pair<q::NodeKey, uint64_t>> to_dead;
  {
    std::lock_guard<std::mutex> lock(mu);
    const absl::Time now = absl::Now();
    for (auto& [node, s] : sessions) {
      for (auto it = s.in_flight.begin(); it != s.in_flight.end();) {
        InFlight& f = it->second;
        if (f.due > now) {
          ++it;
          continue;
        }
        if (f.entry.attempts >= opts.max_attempts) {
          to_dead.emplace_back(node, it->first);
          it = s.in_flight.erase(it);
          continue;
        }
        const uint32_t attempt = f.entry.attempts + 1;
        if (SendEntry(hub, s.pipe, *f.entry.msg, attempt).ok()) {
          deliveries++;
          redeliveries++;
          f.entry.attempts = attempt;
          store->Attempt(node, it->first, attempt);
          f.due = now + Backoff(attempt);
        } else {
          f.due = now + opts.ack_timeout;  // its queue is full: later
        }
        ++it;
      }
      PumpLocked(s);
    }
  }
  std::shared_ptr<Impl> self = shared_from_this();
  for (auto& [node, id] : to_dead) {
    store->Dead(
        node, id,
        absl::StrCat("not acknowledged after ", opts.max_attempts, " attempts"),
        q::NowMs(), [self](absl::StatusOr<q::Fanout> f) {
          if (!f.ok()) return;  // still queued: sent at next login
          self->dead++;
          self->Distribute(*f);
        });
  }
  const absl::Duration every = std::clamp(
      opts.ack_timeout / 4, absl::Milliseconds(5), absl::Milliseconds(250));
  std::weak_ptr<Impl> weak = self;
  internal::HubAccess::After(hub, absl::Now() + every, [weak] {
    if (auto s = weak.lock()) s->Tick();
  });
}

void QueueServer::Impl::CleanupTick() {
  if (closed) return;
  std::vector<q::NodeKey> active;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [node, s] : sessions) active.push_back(node);
  }
  const int64_t now = q::NowMs();
  std::weak_ptr<Impl> weak = weak_from_this();
  store->Cleanup(now, now - absl::ToInt64Milliseconds(opts.dedupe_window),
                 now - absl::ToInt64Milliseconds(opts.node_expiry),
                 std::move(active),
                 [weak](absl::StatusOr<q::CleanupOutcome> out) {
                   auto self = weak.lock();
                   if (self && out.ok()) self->expired += out->expired;
                 });
  internal::HubAccess::After(hub, absl::Now() + opts.cleanup_interval, [weak] {
    if (auto s = weak.lock()) s->CleanupTick();
  });
}

}  // namespace msock
