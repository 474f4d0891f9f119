// sqlite_store.h, the registry side: users and their nodes (with a secret
// per node, stored only as its SHA-256), logins, aliases and distribution
// lists. Runs on the store's writer thread, inside the batch's transaction.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "protocols/queue/sqlite_store.h"

namespace msock::internal::queue {
namespace {

// The one answer to a login that fails, whatever the reason, so that it does
// not tell which users or nodes exist.
constexpr const char* kLoginDenied =
    "queue: login refused (unknown user or node, or wrong secret)";

// User, alias and list names must not look like the other kinds of address
// ("@alias", "#list"); no name may hold control bytes (the `to` list of a
// message is stored joined by '\n').
absl::Status CheckName(const char* what, std::string_view name, size_t max_name,
                       bool address) {
  if (name.empty() || name.size() > max_name) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue: a ", what, " name has 1 to ", max_name, " bytes"));
  }
  if (address && (name[0] == '@' || name[0] == '#')) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue: a ", what, " name may not start with @ or #"));
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat("queue: a ", what, " name has a control character"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NewSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::UnavailableError("queue: no random bytes for a secret");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// The stored form of a secret: SHA-256, hex (64 characters).
std::string HashSecret(std::string_view secret) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(secret.data(), secret.size(), md, &n, EVP_sha256(), nullptr) !=
      1) {
    return std::string();  // matches no stored hash
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), n));
}

bool SameHash(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The stored hash of a node's secret ("" when there is no such node).
absl::StatusOr<std::string> StoredHash(Db& db, const NodeKey& node) {
  MSOCK_QUEUE_PREPARE(s, db,
                      "SELECT secret FROM nodes WHERE uid=?1 AND node=?2");
  s.Bind(1, node.first).Bind(2, node.second);
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  return *row ? s.Text(0) : std::string();
}

// Compares in constant time; an unknown node costs the same as a wrong
// secret.
absl::StatusOr<bool> SecretMatches(Db& db, const NodeKey& node,
                                   std::string_view secret) {
  absl::StatusOr<std::string> stored = StoredHash(db, node);
  if (!stored.ok()) return stored.status();
  const std::string given = HashSecret(secret);
  const std::string& against = stored->empty() ? HashSecret("") : *stored;
  const bool same = SameHash(given, against);
  return same && !stored->empty();
}

absl::StatusOr<std::vector<std::string>> Column(Db& db, std::string_view sql,
                                                std::string_view key) {
  MSOCK_QUEUE_PREPARE(s, db, sql);
  s.Bind(1, key);
  std::vector<std::string> out;
  for (;;) {
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(s.Text(0));
  }
}

absl::StatusOr<std::vector<std::string>> AliasesOf(Db& db,
                                                   const std::string& user) {
  return Column(db, "SELECT alias FROM aliases WHERE uid=?1 ORDER BY alias",
                user);
}

absl::StatusOr<std::vector<std::string>> MembersOf(Db& db,
                                                   const std::string& list) {
  return Column(db, "SELECT uid FROM lists WHERE list=?1 ORDER BY uid", list);
}

absl::Status InsertNode(Db& db, const NodeKey& node, const std::string& hash,
                        int64_t now_ms) {
  MSOCK_QUEUE_PREPARE(s, db, "INSERT INTO nodes VALUES(?1,?2,?3,?4)");
  return s.Bind(1, node.first)
      .Bind(2, node.second)
      .Bind(3, hash)
      .Bind(4, now_ms)
      .Run();
}

// Gives `user` the aliases no other user holds (after dropping its own when
// `replace`); returns those accepted.
absl::StatusOr<std::vector<std::string>> ApplyAliases(
    Db& db, const std::string& user, const std::vector<std::string>& asked,
    bool replace, const QueueServerOptions& opts) {
  std::vector<std::string> wanted;
  for (const std::string& a : asked) {
    if (a.empty()) continue;  // dropped, as the spec's empty ones
    absl::Status st = CheckName("alias", a, opts.max_name, true);
    if (!st.ok()) return st;
    if (std::find(wanted.begin(), wanted.end(), a) == wanted.end()) {
      wanted.push_back(a);
    }
  }
  if (wanted.size() > opts.max_aliases) {
    return absl::ResourceExhaustedError(
        absl::StrCat("queue: at most ", opts.max_aliases, " aliases"));
  }
  if (replace) {
    MSOCK_QUEUE_PREPARE(d, db, "DELETE FROM aliases WHERE uid=?1");
    absl::Status st = d.Bind(1, user).Run();
    if (!st.ok()) return st;
  }
  std::vector<std::string> accepted;
  for (const std::string& a : wanted) {
    MSOCK_QUEUE_PREPARE(
        s, db, "INSERT INTO aliases VALUES(?1,?2) ON CONFLICT DO NOTHING");
    absl::Status st = s.Bind(1, a).Bind(2, user).Run();
    if (!st.ok()) return st;
    if (db.changes() > 0) accepted.push_back(a);
  }
  return accepted;
}

}  // namespace

absl::StatusOr<RegisterResult> SqliteStore::DoRegister(
    Db& db, const RegisterRequest& r) {
  // A user or a node may be added: the cache is forgotten on the way out.
  absl::Cleanup forget = [this] { ForgetRegistry(); };
  absl::Status st = CheckName("user", r.user, opts_.max_name, true);
  if (st.ok()) st = CheckName("node", r.node, opts_.max_name, false);
  if (!st.ok()) return st;
  const NodeKey node(r.user, r.node);
  absl::StatusOr<bool> exists = UserExists(db, r.user);
  if (!exists.ok()) return exists.status();
  RegisterResult out;
  absl::StatusOr<std::string> secret = NewSecret();
  if (!secret.ok()) return secret.status();
  out.secret = *secret;

  if (!*exists) {
    MSOCK_QUEUE_PREPARE(u, db, "INSERT INTO users VALUES(?1,?2)");
    st = u.Bind(1, r.user).Bind(2, r.now_ms).Run();
    if (st.ok()) st = InsertNode(db, node, HashSecret(out.secret), r.now_ms);
    if (!st.ok()) return st;
    absl::StatusOr<std::vector<std::string>> aliases =
        ApplyAliases(db, r.user, r.aliases, false, opts_);
    if (!aliases.ok()) return aliases.status();
    out.aliases = std::move(*aliases);
    out.new_user = true;
    lengths_[NodeKeyString(node)] = 0;
    return out;
  }

  // The node whose backlog the new one starts from: the connection's own when
  // it is logged in as this user, else the one whose secret proves ownership.
  std::string source;
  if (r.logged_user == r.user && !r.logged_node.empty()) {
    source = r.logged_node;
  } else if (r.proof_node.empty()) {
    return absl::AlreadyExistsError(
        "queue: the user exists (adding a node takes the secret of one of "
        "its nodes)");
  } else {
    absl::StatusOr<bool> proved =
        SecretMatches(db, NodeKey(r.user, r.proof_node), r.proof_secret);
    if (!proved.ok()) return proved.status();
    if (!*proved) {
      return absl::PermissionDeniedError(
          "queue: wrong proof (node or secret) for that user");
    }
    source = r.proof_node;
  }
  // Only a proven owner learns which nodes exist.
  absl::StatusOr<std::string> taken = StoredHash(db, node);
  if (!taken.ok()) return taken.status();
  if (!taken->empty()) {
    return absl::AlreadyExistsError("queue: that user already has that node");
  }
  absl::StatusOr<std::vector<NodeKey>> nodes = NodesOf(db, r.user);
  if (!nodes.ok()) return nodes.status();
  if (nodes->size() >= opts_.max_nodes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("queue: a user has at most ", opts_.max_nodes, " nodes"));
  }
  st = InsertNode(db, node, HashSecret(out.secret), r.now_ms);
  if (!st.ok()) return st;
  // The sibling's backlog, in order, single-node entries included. Posts
  // submitted earlier are already in (one writer, in order), later ones will
  // find the new node.
  {
    MSOCK_QUEUE_PREPARE(
        c, db,
        "INSERT INTO queue SELECT uid, ?3, id, 0 FROM queue WHERE uid=?1 AND "
        "node=?2 ORDER BY id");
    st = c.Bind(1, r.user).Bind(2, source).Bind(3, r.node).Run();
    if (!st.ok()) return st;
    out.copied = static_cast<uint32_t>(db.changes());
  }
  lengths_[NodeKeyString(node)] = out.copied;
  absl::StatusOr<std::vector<std::string>> aliases = AliasesOf(db, r.user);
  if (!aliases.ok()) return aliases.status();
  out.aliases = std::move(*aliases);
  return out;
}

absl::StatusOr<uint64_t> SqliteStore::DoLogin(Db& db, const NodeKey& node,
                                              const std::string& secret,
                                              int64_t now_ms) {
  absl::StatusOr<bool> ok = SecretMatches(db, node, secret);
  if (!ok.ok()) return ok.status();
  if (!*ok) return absl::PermissionDeniedError(kLoginDenied);
  MSOCK_QUEUE_PREPARE(
      s, db,
      "UPDATE nodes SET seen_ms=MAX(seen_ms,?3) WHERE uid=?1 AND node=?2");
  absl::Status st =
      s.Bind(1, node.first).Bind(2, node.second).Bind(3, now_ms).Run();
  if (!st.ok()) return st;
  return QueueLength(db, node);
}

absl::StatusOr<std::vector<std::string>> SqliteStore::DoSetAliases(
    Db& db, const std::string& user, const std::vector<std::string>& aliases) {
  absl::StatusOr<bool> exists = UserExists(db, user);
  if (!exists.ok()) return exists.status();
  if (!*exists) return absl::NotFoundError("queue: no such user");
  return ApplyAliases(db, user, aliases, true, opts_);
}

absl::StatusOr<ListOutcome> SqliteStore::DoEditList(
    Db& db, const std::string& user, const std::string& list_name,
    const std::string& op, const std::string& member, int64_t now_ms) {
  // "#team" names list "team", as in a post's address.
  const std::string list = !list_name.empty() && list_name[0] == '#'
                               ? list_name.substr(1)
                               : list_name;
  absl::Status st = CheckName("list", list, opts_.max_name, true);
  if (!st.ok()) return st;
  if (op != "add" && op != "remove" && op != "get") {
    return absl::InvalidArgumentError(
        absl::StrCat("queue: unknown list operation \"", absl::CEscape(op),
                     "\" (add, remove, get)"));
  }
  absl::StatusOr<std::vector<std::string>> before = MembersOf(db, list);
  if (!before.ok()) return before.status();
  const bool editor_in =
      std::find(before->begin(), before->end(), user) != before->end();
  ListOutcome out;
  out.notice.msg = std::make_shared<const StoredMessage>();  // no change yet
  if (before->empty() && op != "add") {
    return absl::NotFoundError(absl::StrCat("queue: no such list #", list));
  }
  // Anyone may create a list by adding to it; after that, only members.
  if (!before->empty() && !editor_in) {
    return absl::PermissionDeniedError(
        absl::StrCat("queue: not a member of #", list));
  }
  if (op == "get") {
    out.members = std::move(*before);
    return out;
  }
  st = CheckName("user", member, opts_.max_name, true);
  if (!st.ok()) return st;

  std::set<std::string> told(before->begin(), before->end());
  told.insert(user);
  if (op == "add") {
    absl::StatusOr<bool> known = UserExists(db, member);
    if (!known.ok()) return known.status();
    if (!*known) {
      return absl::NotFoundError(absl::StrCat("queue: no such user ", member));
    }
    std::set<std::string> add;
    if (!editor_in) add.insert(user);  // a new list: its creator is in it
    if (std::find(before->begin(), before->end(), member) == before->end()) {
      add.insert(member);
    }
    if (add.empty()) {
      out.members = std::move(*before);
      return out;  // already a member: nothing changes, nobody is told
    }
    if (before->size() + add.size() > opts_.max_list_members) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "queue: a list has at most ", opts_.max_list_members, " members"));
    }
    for (const std::string& uid : add) {
      MSOCK_QUEUE_PREPARE(s, db, "INSERT INTO lists VALUES(?1,?2)");
      st = s.Bind(1, list).Bind(2, uid).Run();
      if (!st.ok()) return st;
      told.insert(uid);
    }
  } else {  // remove: the removed member is told too
    if (std::find(before->begin(), before->end(), member) == before->end()) {
      return absl::NotFoundError(
          absl::StrCat("queue: ", member, " is not on #", list));
    }
    MSOCK_QUEUE_PREPARE(s, db, "DELETE FROM lists WHERE list=?1 AND uid=?2");
    st = s.Bind(1, list).Bind(2, member).Run();
    if (!st.ok()) return st;
  }
  absl::StatusOr<std::vector<std::string>> after = MembersOf(db, list);
  if (!after.ok()) return after.status();
  out.members = std::move(*after);  // empty: the list is gone

  std::vector<NodeKey> nodes;
  for (const std::string& uid : told) {
    absl::StatusOr<std::vector<NodeKey>> of = NodesOf(db, uid);
    if (!of.ok()) return of.status();
    for (NodeKey& n : *of) nodes.push_back(std::move(n));
  }
  std::string meta = absl::StrCat(
      "{\"list\":", JsonString(list), ",\"op\":", JsonString(op),
      ",\"member\":", JsonString(member), ",\"by\":", JsonString(user), "}");
  absl::StatusOr<Fanout> notice =
      Notice(db, "list", std::move(meta), {absl::StrCat("#", list)},
             std::move(nodes), now_ms);
  if (!notice.ok()) return notice.status();
  out.notice = std::move(*notice);
  return out;
}

}  // namespace msock::internal::queue
