// sqlite_store.h, the message side: posts (address resolution, dedupe,
// bounds), acks, loads of a node's queue, dead letters and cleanup. Runs on
// the store's writer thread, inside the batch's transaction.
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "protocols/queue/sqlite_store.h"

namespace msock::internal::queue {
namespace {

std::string Key(const NodeKey& n) {
  return absl::StrCat(n.first, "\\0", n.second);
}

// The columns ReadMessage expects, from messages m.
constexpr const char* kMessageColumns =
    "m.id, m.from_uid, m.from_node, m.body, m.meta, m.dest, m.single, "
    "m.posted_ms, m.expires_ms, m.kind";

StoredMessage ReadMessage(const Stmt& s, int col) {
  StoredMessage m;
  m.id = static_cast<uint64_t>(s.Int(col));
  m.from_user = s.Text(col + 1);
  m.from_node = s.Text(col + 2);
  m.body = s.Text(col + 3);
  m.meta = s.Text(col + 4);
  std::string dest = s.Text(col + 5);
  if (!dest.empty()) m.to = absl::StrSplit(dest, '\\n');
  m.single_node = s.Int(col + 6) != 0;
  m.posted_ms = s.Int(col + 7);
  m.expires_ms = s.Int(col + 8);
  m.kind = s.Text(col + 9);
  return m;
}

}  // namespace

absl::StatusOr<bool> SqliteStore::UserExists(Db& db, const std::string& user) {
  MSOCK_QUEUE_PREPARE(s, db, "SELECT 1 FROM users WHERE uid=?1");
  s.Bind(1, user);
  return s.Step();
}

absl::StatusOr<std::vector<NodeKey>> SqliteStore::NodesOf(
    Db& db, const std::string& user) {
  MSOCK_QUEUE_PREPARE(s, db,
                      "SELECT node FROM nodes WHERE uid=?1 ORDER BY node");
  s.Bind(1, user);
  std::vector<NodeKey> out;
  for (;;) {
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.emplace_back(user, s.Text(0));
  }
}

absl::StatusOr<uint64_t> SqliteStore::QueueLength(Db& db, const NodeKey& node) {
  auto it = lengths_.find(Key(node));
  if (it != lengths_.end()) return it->second;
  MSOCK_QUEUE_PREPARE(s, db,
                      "SELECT COUNT(*) FROM queue WHERE uid=?1 AND node=?2");
  s.Bind(1, node.first).Bind(2, node.second);
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  uint64_t n = static_cast<uint64_t>(s.Int(0));
  lengths_[Key(node)] = n;
  return n;
}

absl::StatusOr<Fanout> SqliteStore::Insert(Db& db, StoredMessage msg,
                                           std::vector<NodeKey> nodes) {
  MSOCK_QUEUE_PREPARE(
      m, db,
      "INSERT INTO messages(from_uid, from_node, body, meta, dest, single, "
      "posted_ms, expires_ms, kind) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  absl::Status st = m.Bind(1, msg.from_user)
                        .Bind(2, msg.from_node)
                        .Blob(3, msg.body)
                        .Blob(4, msg.meta)
                        .Bind(5, absl::StrJoin(msg.to, "\\n"))
                        .Bind(6, msg.single_node ? 1 : 0)
                        .Bind(7, msg.posted_ms)
                        .Bind(8, msg.expires_ms)
                        .Bind(9, msg.kind)
                        .Run();
  if (!st.ok()) return st;
  msg.id = static_cast<uint64_t>(db.last_id());
  MSOCK_QUEUE_PREPARE(q, db, "INSERT INTO queue VALUES(?1,?2,?3,0)");
  for (const NodeKey& n : nodes) {
    st = q.Bind(1, n.first)
             .Bind(2, n.second)
             .Bind(3, static_cast<int64_t>(msg.id))
             .Run();
    if (!st.ok()) return st;
    auto it = lengths_.find(Key(n));
    if (it != lengths_.end()) it->second++;
    // Reset for the next row: Prepare of the same text resets it.
    auto again = db.Prepare("INSERT INTO queue VALUES(?1,?2,?3,0)");
    if (!again.ok()) return again.status();
  }
  Fanout out;
  out.msg = std::make_shared<const StoredMessage>(std::move(msg));
  out.nodes = std::move(nodes);
  return out;
}

absl::StatusOr<PostOutcome> SqliteStore::DoPost(Db& db,
                                                const PostRequest& req) {
  PostOutcome out;
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
  std::set<NodeKey> seen;
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
      MSOCK_QUEUE_PREPARE(a, db, "SELECT uid FROM aliases WHERE alias=?1");
      a.Bind(1, addr.substr(1));
      absl::StatusOr<bool> row = a.Step();
      if (!row.ok()) return row.status();
      if (!*row) {
        out.errors.push_back(absl::StrCat(addr, ": no such alias"));
        continue;
      }
      st = add_user(a.Text(0), true);
    } else if (addr[0] == '#') {
      MSOCK_QUEUE_PREPARE(l, db, "SELECT uid FROM lists WHERE list=?1");
      l.Bind(1, addr.substr(1));
      std::vector<std::string> members;
      for (;;) {
        absl::StatusOr<bool> row = l.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        members.push_back(l.Text(0));
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
  if (!req.no_self && !req.single_node) {
    absl::Status st = add_user(req.from_user, false);
    if (!st.ok()) return st;
  }
  if (targets.empty()) {
    if (req.to.empty() && !req.no_self) return out;  // a note to no one else
    if (out.full > 0 && out.full == out.errors.size()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("queue: every recipient's queue is full: ",
                       absl::StrJoin(out.errors, "; ")));
    }
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
  msg.expires_ms = req.expires_ms;
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
    auto it = lengths_.find(Key(node));
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
        absl::StrCat(
            "SELECT q.attempts, ", kMessageColumns,
            " FROM queue q JOIN messages m ON m.id=q.id WHERE "
            "q.uid=?1 AND q.node=?2 AND q.id>?3 ORDER BY q.id LIMIT ?4"));
    s.Bind(1, node.first)
        .Bind(2, node.second)
        .Bind(3, static_cast<int64_t>(after))
        .Bind(4, static_cast<int64_t>(limit + 1));
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
    lengths_.erase(Key(node));
  }
  out.expired = expired.size();
  return out;
}
