// sqlite_store.h, the message side: posts (address resolution, dedupe,
// bounds), acks and loads of a node's queue. Runs on the store's writer
// thread, inside the batch's transaction.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "protocols/queue/sqlite_store.h"

namespace msock::internal::queue {
namespace {

// An address of Post::to: "user", "@alias" or "#list". It is kept in the
// message's `dest` column joined by '\n', so no control byte may appear.
bool ValidAddress(const std::string& a, size_t max_name) {
  if (a.empty() || a.size() > max_name + 1) return false;
  if ((a[0] == '@' || a[0] == '#') && a.size() == 1) return false;
  return std::none_of(a.begin(), a.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20;
  });
}

}  // namespace

std::string NodeKeyString(const NodeKey& n) {
  std::string k = n.first;
  k.push_back('\0');
  k += n.second;
  return k;
}

StoredMessage ReadMessage(const Stmt& s, int col) {
  StoredMessage m;
  m.id = static_cast<uint64_t>(s.Int(col));
  m.from_user = s.Text(col + 1);
  m.from_node = s.Text(col + 2);
  m.body = s.Text(col + 3);
  m.meta = s.Text(col + 4);
  std::string dest = s.Text(col + 5);
  if (!dest.empty()) {
    std::vector<std::string> to = absl::StrSplit(dest, '\n');
    m.to = std::move(to);
  }
  m.single_node = s.Int(col + 6) != 0;
  m.posted_ms = s.Int(col + 7);
  m.expires_ms = s.Int(col + 8);
  m.kind = s.Text(col + 9);
  return m;
}

int64_t SqliteStore::ExpiryFor(int64_t now_ms, int64_t asked_ms) const {
  if (now_ms <= 0 || opts_.max_ttl <= absl::ZeroDuration() ||
      opts_.max_ttl == absl::InfiniteDuration()) {
    return asked_ms;
  }
  const int64_t most = now_ms + absl::ToInt64Milliseconds(opts_.max_ttl);
  return asked_ms <= 0 || asked_ms > most ? most : asked_ms;
}

absl::StatusOr<bool> SqliteStore::UserExists(Db& db, const std::string& user) {
  if (auto it = user_exists_.find(user); it != user_exists_.end()) {
    return it->second;
  }
  MSOCK_QUEUE_PREPARE(s, db, "SELECT 1 FROM users WHERE uid=?1");
  s.Bind(1, user);
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row;
  if (user_exists_.size() >= kMaxCachedUsers) user_exists_.clear();
  user_exists_[user] = *row;
  return row;
}

absl::StatusOr<std::vector<NodeKey>> SqliteStore::NodesOf(
    Db& db, const std::string& user) {
  if (auto it = nodes_of_.find(user); it != nodes_of_.end()) {
    return it->second;
  }
  MSOCK_QUEUE_PREPARE(s, db,
                      "SELECT node FROM nodes WHERE uid=?1 ORDER BY node");
  s.Bind(1, user);
  std::vector<NodeKey> out;
  for (;;) {
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.emplace_back(user, s.Text(0));
  }
  if (nodes_of_.size() >= kMaxCachedUsers) nodes_of_.clear();
  nodes_of_[user] = out;
  return out;
}

absl::StatusOr<uint64_t> SqliteStore::QueueLength(Db& db, const NodeKey& node) {
  auto it = lengths_.find(NodeKeyString(node));
  if (it != lengths_.end()) return it->second;
  MSOCK_QUEUE_PREPARE(s, db,
                      "SELECT COUNT(*) FROM queue WHERE uid=?1 AND node=?2");
  s.Bind(1, node.first).Bind(2, node.second);
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  uint64_t n = static_cast<uint64_t>(s.Int(0));
  lengths_[NodeKeyString(node)] = n;
  return n;
}

absl::Status SqliteStore::LoadNextId(Db& db) {
  // The first column of the first row of `sql`, or nullopt when there is no
  // row or it is NULL.
  auto scalar =
      [&db](std::string_view sql) -> absl::StatusOr<std::optional<int64_t>> {
    absl::StatusOr<Stmt> s = db.Prepare(sql);
    if (!s.ok()) return s.status();
    absl::StatusOr<bool> row = s->Step();
    if (!row.ok()) return row.status();
    if (!*row || s->IsNull(0)) return std::optional<int64_t>();
    return std::optional<int64_t>(s->Int(0));
  };
  uint64_t next = 1;
  auto at_least = [&](std::string_view sql) -> absl::Status {
    absl::StatusOr<std::optional<int64_t>> v = scalar(sql);
    if (!v.ok()) return v.status();
    if (v->has_value()) next = std::max(next, static_cast<uint64_t>(**v));
    return absl::OkStatus();
  };
  absl::Status st = at_least("SELECT MAX(id) + 1 FROM messages");
  if (st.ok()) st = at_least("SELECT value FROM meta WHERE key='id_block'");
  // Files made before meta: their AUTOINCREMENT top, in a table SQLite makes
  // with the first AUTOINCREMENT table (it may not exist).
  if (st.ok()) {
    absl::StatusOr<std::optional<int64_t>> has_sequence = scalar(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND "
        "name='sqlite_sequence'");
    if (!has_sequence.ok()) {
      st = has_sequence.status();
    } else if (has_sequence->has_value()) {
      st =
          at_least("SELECT seq + 1 FROM sqlite_sequence WHERE name='messages'");
    }
  }
  db.ResetAll();
  next_id_ = next;
  id_block_end_ = 0;
  return st;
}

absl::StatusOr<uint64_t> SqliteStore::NextId(Db& db) {
  if (next_id_ >= id_block_end_) {
    const uint64_t end = next_id_ + kIdBlock;
    MSOCK_QUEUE_PREPARE(s, db,
                        "INSERT OR REPLACE INTO meta VALUES('id_block', ?1)");
    absl::Status st = s.Bind(1, static_cast<int64_t>(end)).Run();
    if (!st.ok()) return st;
    id_block_end_ = end;
  }
  return next_id_++;
}

absl::StatusOr<Fanout> SqliteStore::Insert(Db& db, StoredMessage msg,
                                           std::vector<NodeKey> nodes) {
  absl::StatusOr<uint64_t> id = NextId(db);
  if (!id.ok()) return id.status();
  MSOCK_QUEUE_PREPARE(m, db,
                      "INSERT INTO messages(from_uid, from_node, body, meta, "
                      "dest, single, posted_ms, expires_ms, kind, id) "
                      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  absl::Status st = m.Bind(1, msg.from_user)
                        .Bind(2, msg.from_node)
                        .Blob(3, msg.body)
                        .Blob(4, msg.meta)
                        .Bind(5, absl::StrJoin(msg.to, "\n"))
                        .Bind(6, msg.single_node ? 1 : 0)
                        .Bind(7, msg.posted_ms)
                        .Bind(8, msg.expires_ms)
                        .Bind(9, msg.kind)
                        .Bind(10, static_cast<int64_t>(*id))
                        .Run();
  if (!st.ok()) return st;
  msg.id = *id;
  for (const NodeKey& n : nodes) {
    // The cached statement, reset and unbound for each row.
    MSOCK_QUEUE_PREPARE(q, db, "INSERT INTO queue VALUES(?1,?2,?3,0)");
    st = q.Bind(1, n.first)
             .Bind(2, n.second)
             .Bind(3, static_cast<int64_t>(msg.id))
             .Run();
    if (!st.ok()) return st;
    auto it = lengths_.find(NodeKeyString(n));
    if (it != lengths_.end()) it->second++;
  }
  Fanout out;
  out.msg = std::make_shared<const StoredMessage>(std::move(msg));
  out.nodes = std::move(nodes);
  return out;
}

absl::StatusOr<std::vector<NodeKey>> SqliteStore::Reachable(
    Db& db, std::vector<NodeKey> nodes, uint32_t* full) {
  std::vector<NodeKey> out;
  out.reserve(nodes.size());
  for (NodeKey& n : nodes) {
    absl::StatusOr<uint64_t> len = QueueLength(db, n);
    if (!len.ok()) return len.status();
    if (*len >= opts_.max_queue) {
      if (full != nullptr) ++*full;
      continue;
    }
    out.push_back(std::move(n));
  }
  return out;
}

absl::StatusOr<PostOutcome> SqliteStore::DoPost(Db& db,
                                                const PostRequest& req) {
  PostOutcome out;
  if (req.to.size() > opts_.max_recipients) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "queue: more than ", opts_.max_recipients, " recipients in one post"));
  }
  for (const std::string& addr : req.to) {
    if (!ValidAddress(addr, opts_.max_name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("queue: bad address \"", absl::CEscape(addr), "\""));
    }
  }
  if (!req.client_id.empty()) {
    MSOCK_QUEUE_PREPARE(d, db, "SELECT id FROM posts WHERE uid=?1 AND cid=?2");
    d.Bind(1, req.from_user).Bind(2, req.client_id);
    absl::StatusOr<bool> row = d.Step();
    if (!row.ok()) return row.status();
    if (*row) {
      out.id = static_cast<uint64_t>(d.Int(0));
      out.duplicate = true;
      return out;
    }
  }
  std::vector<NodeKey> targets;
  std::set<NodeKey> seen;  // a node reached several ways gets one entry
  auto add_user = [&](const std::string& uid,
                      bool with_sender) -> absl::Status {
    absl::StatusOr<std::vector<NodeKey>> nodes = NodesOf(db, uid);
    if (!nodes.ok()) return nodes.status();
    for (NodeKey& n : *nodes) {
      if (!with_sender && n.first == req.from_user && n.second == req.from_node)
        continue;
      if (!seen.insert(n).second) continue;
      absl::StatusOr<uint64_t> len = QueueLength(db, n);
      if (!len.ok()) return len.status();
      if (*len >= opts_.max_queue) {
        out.errors.push_back(
            absl::StrCat(n.first, "/", n.second, ": queue full"));
        out.full++;
        continue;
      }
      targets.push_back(std::move(n));
    }
    return absl::OkStatus();
  };
  for (const std::string& addr : req.to) {
    absl::Status st;
    if (addr[0] == '@') {
      std::string uid;
      {
        MSOCK_QUEUE_PREPARE(a, db, "SELECT uid FROM aliases WHERE alias=?1");
        a.Bind(1, std::string_view(addr).substr(1));
        absl::StatusOr<bool> row = a.Step();
        if (!row.ok()) return row.status();
        if (*row) uid = a.Text(0);
      }
      if (uid.empty()) {
        out.errors.push_back(absl::StrCat(addr, ": no such alias"));
        continue;
      }
      st = add_user(uid, true);
    } else if (addr[0] == '#') {
      std::vector<std::string> members;
      {
        MSOCK_QUEUE_PREPARE(l, db, "SELECT uid FROM lists WHERE list=?1");
        l.Bind(1, std::string_view(addr).substr(1));
        for (;;) {
          absl::StatusOr<bool> row = l.Step();
          if (!row.ok()) return row.status();
          if (!*row) break;
          members.push_back(l.Text(0));
        }
      }
      if (members.empty()) {
        out.errors.push_back(absl::StrCat(addr, ": no such list"));
        continue;
      }
      if (std::find(members.begin(), members.end(), req.from_user) ==
          members.end()) {
        out.errors.push_back(absl::StrCat(addr, ": not a member"));
        continue;
      }
      for (const std::string& m : members) {
        if (m == req.from_user) continue;  // self-sync covers the sender
        st = add_user(m, true);
        if (!st.ok()) return st;
      }
    } else {
      absl::StatusOr<bool> known = UserExists(db, addr);
      if (!known.ok()) return known.status();
      if (!*known) {
        out.errors.push_back(absl::StrCat(addr, ": no such user"));
        continue;
      }
      st = add_user(addr, true);  // one's own id: every own node
    }
    if (!st.ok()) return st;
  }
  // Self-sync: the sender's other nodes. A single-node post is for the
  // recipients' devices only.
  const bool self_sync = !req.no_self && !req.single_node;
  if (self_sync) {
    absl::Status st = add_user(req.from_user, false);
    if (!st.ok()) return st;
  }
  if (targets.empty()) {
    if (out.full > 0 && out.full == out.errors.size()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("queue: every recipient's queue is full: ",
                       absl::StrJoin(out.errors, "; ")));
    }
    // With self-sync on something was addressed (if only the sender's other
    // nodes, of which there are none): a success that stores nothing.
    if (self_sync) return out;
    return absl::InvalidArgumentError(
        absl::StrCat("queue: no recipients", out.errors.empty() ? "" : ": ",
                     absl::StrJoin(out.errors, "; ")));
  }
  StoredMessage msg;
  msg.from_user = req.from_user;
  msg.from_node = req.from_node;
  msg.body = req.body;
  msg.meta = req.meta;
  msg.to = req.to;
  msg.single_node = req.single_node;
  msg.posted_ms = req.now_ms;
  msg.expires_ms = ExpiryFor(req.now_ms, req.expires_ms);
  absl::StatusOr<Fanout> f = Insert(db, std::move(msg), std::move(targets));
  if (!f.ok()) return f.status();
  out.fanout = std::move(*f);
  out.id = out.fanout.msg->id;
  if (!req.client_id.empty()) {
    MSOCK_QUEUE_PREPARE(p, db, "INSERT INTO posts VALUES(?1,?2,?3,?4)");
    absl::Status st = p.Bind(1, req.from_user)
                          .Bind(2, req.client_id)
                          .Bind(3, static_cast<int64_t>(out.id))
                          .Bind(4, req.now_ms)
                          .Run();
    if (!st.ok()) return st;
  }
  return out;
}

absl::Status SqliteStore::DropIfUnused(Db& db, uint64_t id) {
  MSOCK_QUEUE_PREPARE(
      s, db,
      "DELETE FROM messages WHERE id=?1 AND NOT EXISTS (SELECT 1 FROM queue "
      "WHERE id=?1) AND NOT EXISTS (SELECT 1 FROM dead WHERE id=?1)");
  return s.Bind(1, static_cast<int64_t>(id)).Run();
}

absl::StatusOr<AckOutcome> SqliteStore::DoAck(
    Db& db, const NodeKey& node, const std::vector<uint64_t>& ids) {
  AckOutcome out;
  for (uint64_t id : ids) {
    const int64_t sid = static_cast<int64_t>(id);
    {
      MSOCK_QUEUE_PREPARE(
          d, db, "DELETE FROM queue WHERE uid=?1 AND node=?2 AND id=?3");
      absl::Status st =
          d.Bind(1, node.first).Bind(2, node.second).Bind(3, sid).Run();
      if (!st.ok()) return st;
    }
    if (db.changes() == 0) continue;  // not (or no longer) this node's
    out.removed.push_back(id);
    auto it = lengths_.find(NodeKeyString(node));
    if (it != lengths_.end() && it->second > 0) it->second--;
    MSOCK_QUEUE_PREPARE(one, db, "SELECT single FROM messages WHERE id=?1");
    one.Bind(1, sid);
    absl::StatusOr<bool> row = one.Step();
    if (!row.ok()) return row.status();
    if (*row && one.Int(0) != 0) {
      // Taken: the user's other nodes lose it in this same transaction, so
      // the mark is as durable as the ack.
      MSOCK_QUEUE_PREPARE(sib, db, "DELETE FROM queue WHERE id=?1 AND uid=?2");
      absl::Status st = sib.Bind(1, sid).Bind(2, node.first).Run();
      if (!st.ok()) return st;
      if (db.changes() > 0) lengths_.clear();
      out.taken.push_back(id);
    }
    absl::Status st = DropIfUnused(db, id);
    if (!st.ok()) return st;
  }
  if (!out.removed.empty()) {
    // Their first attempts need not be written (should this transaction
    // roll back, the counts restart lower, as after a crash).
    std::lock_guard<std::mutex> lock(mu_);
    attempts_.Drop(node, out.removed);
  }
  return out;
}

absl::StatusOr<LoadResult> SqliteStore::DoLoad(Db& db, const NodeKey& node,
                                               uint64_t after, size_t limit,
                                               int64_t now_ms) {
  LoadResult out;
  std::vector<uint64_t> expired;
  {
    MSOCK_QUEUE_PREPARE(
        s, db,
        absl::StrCat("SELECT q.attempts, ", kMessageColumns,
                     " FROM queue q JOIN messages m ON m.id=q.id WHERE "
                     "q.uid=?1 AND q.node=?2 AND q.id>?3 ORDER BY q.id"));
    // No LIMIT: expired rows are skipped, so read on (in key order, lazily)
    // until `limit` live entries and one more to know there are more.
    s.Bind(1, node.first)
        .Bind(2, node.second)
        .Bind(3, static_cast<int64_t>(after));
    for (;;) {
      absl::StatusOr<bool> row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      if (out.entries.size() == limit) {
        out.more = true;
        break;
      }
      StoredMessage m = ReadMessage(s, 1);
      if (m.expires_ms > 0 && m.expires_ms <= now_ms) {
        expired.push_back(m.id);
        continue;
      }
      QueuedEntry e;
      e.attempts = static_cast<uint32_t>(s.Int(0));
      e.msg = std::make_shared<const StoredMessage>(std::move(m));
      out.entries.push_back(std::move(e));
    }
  }
  if (!out.entries.empty()) {
    // First attempts not written yet (attempt_buffer.h) count all the same.
    std::lock_guard<std::mutex> lock(mu_);
    for (QueuedEntry& e : out.entries) {
      if (e.attempts == 0 && attempts_.Held(node, e.msg->id)) e.attempts = 1;
    }
  }
  for (uint64_t id : expired) {
    MSOCK_QUEUE_PREPARE(d, db,
                        "DELETE FROM queue WHERE uid=?1 AND node=?2 AND id=?3");
    absl::Status st = d.Bind(1, node.first)
                          .Bind(2, node.second)
                          .Bind(3, static_cast<int64_t>(id))
                          .Run();
    if (!st.ok()) return st;
    st = DropIfUnused(db, id);
    if (!st.ok()) return st;
    lengths_.erase(NodeKeyString(node));
  }
  out.expired = expired.size();
  return out;
}

}  // namespace msock::internal::queue
