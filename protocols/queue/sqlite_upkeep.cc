// sqlite_store.h, the upkeep side: the server's own notices, dead letters
// (an entry moved out of a node's queue, kept per user with its reason) and
// the periodic cleanup (TTL, dedupe memory, idle nodes, unreferenced
// messages). Runs on the store's writer thread, inside the batch's
// transaction.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "protocols/queue/sqlite_store.h"
#include "protocols/topics/change.h"

namespace msock::internal::queue {

std::string JsonString(std::string_view v) {
  google::protobuf::Value s;  // the topics JSON writer quotes it
  s.set_string_value(std::string(v));
  return internal::topics::ToJson(s);
}

absl::StatusOr<Fanout> SqliteStore::Notice(Db& db, std::string kind,
                                           std::string meta,
                                           std::vector<std::string> to,
                                           std::vector<NodeKey> nodes,
                                           int64_t now_ms) {
  StoredMessage msg;
  msg.meta = std::move(meta);
  msg.to = std::move(to);
  msg.kind = std::move(kind);
  msg.posted_ms = now_ms;
  msg.expires_ms = ExpiryFor(now_ms, 0);
  // A notice is not refused for a full queue: the node just misses it.
  absl::StatusOr<std::vector<NodeKey>> reach =
      Reachable(db, std::move(nodes), nullptr);
  if (!reach.ok()) return reach.status();
  if (reach->empty()) {
    Fanout none;
    none.msg = std::make_shared<const StoredMessage>(std::move(msg));
    return none;  // nothing would refer to it: not stored
  }
  return Insert(db, std::move(msg), std::move(*reach));
}

absl::StatusOr<Fanout> SqliteStore::DoDead(Db& db, const NodeKey& node,
                                           uint64_t id,
                                           const std::string& reason,
                                           int64_t now_ms) {
  const int64_t sid = static_cast<int64_t>(id);
  {
    MSOCK_QUEUE_PREPARE(d, db,
                        "DELETE FROM queue WHERE uid=?1 AND node=?2 AND id=?3");
    absl::Status st =
        d.Bind(1, node.first).Bind(2, node.second).Bind(3, sid).Run();
    if (!st.ok()) return st;
  }
  if (db.changes() == 0) {
    return absl::NotFoundError(
        absl::StrCat("queue: node ", node.second, " holds no entry ", id));
  }
  auto it = lengths_.find(NodeKeyString(node));
  if (it != lengths_.end() && it->second > 0) it->second--;
  {
    MSOCK_QUEUE_PREPARE(ins, db,
                        "INSERT OR REPLACE INTO dead VALUES(?1,?2,?3,?4,?5)");
    absl::Status st = ins.Bind(1, node.first)
                          .Bind(2, node.second)
                          .Bind(3, sid)
                          .Bind(4, reason)
                          .Bind(5, now_ms)
                          .Run();
    if (!st.ok()) return st;
  }
  absl::StatusOr<std::vector<NodeKey>> nodes = NodesOf(db, node.first);
  if (!nodes.ok()) return nodes.status();
  std::vector<NodeKey> others;
  for (NodeKey& n : *nodes) {
    if (n.second != node.second) others.push_back(std::move(n));
  }
  std::string meta =
      absl::StrCat("{\"id\":", id, ",\"node\":", JsonString(node.second),
                   ",\"reason\":", JsonString(reason), "}");
  return Notice(db, "dead", std::move(meta), {}, std::move(others), now_ms);
}

absl::StatusOr<std::vector<DeadLetter>> SqliteStore::DoDeadLetters(
    Db& db, const std::string& user, bool purge, size_t limit) {
  std::vector<DeadLetter> out;
  {
    MSOCK_QUEUE_PREPARE(
        s, db,
        absl::StrCat("SELECT d.node, d.reason, ", kMessageColumns,
                     " FROM dead d JOIN messages m ON m.id=d.id WHERE "
                     "d.uid=?1 ORDER BY d.at_ms, d.id, d.node LIMIT ?2"));
    s.Bind(1, user).Bind(
        2, limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
    for (;;) {
      absl::StatusOr<bool> row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      DeadLetter d;
      d.node = s.Text(0);
      d.reason = s.Text(1);
      d.msg = ReadMessage(s, 2);
      out.push_back(std::move(d));
    }
  }
  if (!purge) return out;
  // Only what was returned goes: a limited read purges batch by batch.
  for (const DeadLetter& d : out) {
    const int64_t sid = static_cast<int64_t>(d.msg.id);
    MSOCK_QUEUE_PREPARE(del, db,
                        "DELETE FROM dead WHERE uid=?1 AND node=?2 AND id=?3");
    absl::Status st = del.Bind(1, user).Bind(2, d.node).Bind(3, sid).Run();
    if (!st.ok()) return st;
    st = DropIfUnused(db, d.msg.id);
    if (!st.ok()) return st;
  }
  return out;
}

absl::StatusOr<CleanupOutcome> SqliteStore::DoCleanup(
    Db& db, int64_t now_ms, int64_t dedupe_before_ms, int64_t idle_before_ms,
    const std::vector<NodeKey>& active) {
  CleanupOutcome out;
  lengths_.clear();  // counted again from the table
  ForgetRegistry();  // idle nodes, and users left without any, may go
  for (const NodeKey& n : active) {
    MSOCK_QUEUE_PREPARE(
        s, db,
        "UPDATE nodes SET seen_ms=MAX(seen_ms,?3) WHERE uid=?1 AND "
        "node=?2");
    absl::Status st =
        s.Bind(1, n.first).Bind(2, n.second).Bind(3, now_ms).Run();
    if (!st.ok()) return st;
  }
  {
    MSOCK_QUEUE_PREPARE(
        s, db,
        "DELETE FROM queue WHERE id IN (SELECT id FROM messages WHERE "
        "expires_ms>0 AND expires_ms<=?1)");
    absl::Status st = s.Bind(1, now_ms).Run();
    if (!st.ok()) return st;
    out.expired = static_cast<uint64_t>(db.changes());
  }
  {
    MSOCK_QUEUE_PREPARE(s, db, "DELETE FROM posts WHERE at_ms<?1");
    absl::Status st = s.Bind(1, dedupe_before_ms).Run();
    if (!st.ok()) return st;
  }
  // Idle nodes go with their queues. A user left without nodes can never log
  // in or add one again (that takes a node's secret): it goes too, freeing
  // its aliases and list places.
  {
    MSOCK_QUEUE_PREPARE(
        s, db,
        "DELETE FROM queue WHERE EXISTS (SELECT 1 FROM nodes n WHERE "
        "n.uid=queue.uid AND n.node=queue.node AND n.seen_ms<?1)");
    absl::Status st = s.Bind(1, idle_before_ms).Run();
    if (!st.ok()) return st;
  }
  {
    MSOCK_QUEUE_PREPARE(s, db, "DELETE FROM nodes WHERE seen_ms<?1");
    absl::Status st = s.Bind(1, idle_before_ms).Run();
    if (!st.ok()) return st;
    out.nodes_removed = static_cast<uint64_t>(db.changes());
  }
  if (out.nodes_removed > 0) {
    const char* kOrphans[] = {
        "DELETE FROM users WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE "
        "n.uid=users.uid)",
        "DELETE FROM aliases WHERE NOT EXISTS (SELECT 1 FROM users u WHERE "
        "u.uid=aliases.uid)",
        "DELETE FROM lists WHERE NOT EXISTS (SELECT 1 FROM users u WHERE "
        "u.uid=lists.uid)",
        "DELETE FROM dead WHERE NOT EXISTS (SELECT 1 FROM users u WHERE "
        "u.uid=dead.uid)",
        "DELETE FROM posts WHERE NOT EXISTS (SELECT 1 FROM users u WHERE "
        "u.uid=posts.uid)",
    };
    for (const char* sql : kOrphans) {
      absl::Status st = db.Exec(sql);
      if (!st.ok()) return st;
    }
  }
  // One body copy serves every recipient: it goes with the last reference.
  absl::Status st = db.Exec(
      "DELETE FROM messages WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE "
      "q.id=messages.id) AND NOT EXISTS (SELECT 1 FROM dead d WHERE "
      "d.id=messages.id)");
  if (!st.ok()) return st;
  return out;
}

}  // namespace msock::internal::queue
