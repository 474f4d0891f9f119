// msock/protocols/topics.h: topics, state on a Hub that every subscribed
// client sees and may change, with the hub deciding.
//
// A topic is a named, typed JSON value with a version. Clients subscribe
// (they get a snapshot, then every change in the hub's order) and send
// actions: atomic batches of changes on one or several topics. A client
// shows its own action at once (a preview); the hub checks it (types,
// preconditions, its validators, its access hook) and either applies all of
// it, bumps each touched topic's version and sends the changes to every
// subscriber, or refuses it with a status, and the client rolls its preview
// back. A client that misses an update (a gap in versions) or reconnects
// takes a fresh snapshot by itself, so its replica always ends equal to the
// hub's. Values and changes are JSON (the change records of
// protocols/topics/WIRE.md), the same for C++ and browser clients.
//
// Example:
//   msock::Hub hub;
//   msock::TopicHost topics(hub);
//   topics.Create("score", msock::TopicType::kInt).IgnoreError();
//   topics.Validate("score", [](const msock::TopicProposal& p) {
//     return p.value_json.size() < 10 ? absl::OkStatus()
//                                     : absl::OutOfRangeError("too big");
//   }).IgnoreError();
//   std::string url = hub.Listen("tcp://127.0.0.1:0").value();
//   msock::RoomsClient client;
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//   client.Connect(url, deadline).IgnoreError();
//   msock::TopicsClient replica(client);
//   replica.Subscribe("score", deadline).IgnoreError();
//   absl::Status st = replica.Apply({msock::changes::Add("score", 5)},
//                                   deadline);
//   std::string now = replica.Value("score").value_or("");  // "5"
//
// Threading: every member of both classes is thread-safe. The hub applies
// actions one at a time (validators and the access hook run on the hub's
// handler thread of the sending client, under the topics' lock: they must
// not call back into the TopicHost). A client's change callbacks run on its
// RoomsClient's handler or callback threads, never under a lock.
#ifndef MSOCK_PROTOCOLS_TOPICS_H_
#define MSOCK_PROTOCOLS_TOPICS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/export.h"
#include "msock/protocols/rooms.h"

namespace msock {

enum class TopicType {
  kGeneric,  // any JSON value (bytes: base64 in a string; a protobuf
             // message: its JSON mapping)
  kString,   // text; insert / delete at code-point positions
  kInt,      // integer within +-2^53; add
  kFloat,    // number; add
  kBool,     // true / false
  kSet,      // list of distinct items; append / remove
  kList,     // list; insert / pop / set_at
  kDict,     // object; add / pop / change_value of a key
  kEvent,    // no value: emit only (subscribers see each emit)
};

// One change to one topic: `json` is its record without the topic, e.g.
// {"type":"add","value":1}. Build them with the functions in `changes`.
struct Change {
  std::string topic;
  std::string json;
};

namespace changes {
// `value_json`, `item_json`, `args_json` are JSON texts ("3", "\"x\"", ...).
MSOCK_EXPORT Change Set(std::string_view topic, std::string_view value_json);
MSOCK_EXPORT Change Add(std::string_view topic, double amount);  // int, float
MSOCK_EXPORT Change InsertText(std::string_view topic, int position,
                               std::string_view text);
MSOCK_EXPORT Change DeleteText(std::string_view topic, int position,
                               std::string_view text);
MSOCK_EXPORT Change SetAdd(std::string_view topic, std::string_view item_json);
MSOCK_EXPORT Change SetRemove(std::string_view topic,
                              std::string_view item_json);
// position -1 appends.
MSOCK_EXPORT Change ListInsert(std::string_view topic, int position,
                               std::string_view item_json);
MSOCK_EXPORT Change ListPop(std::string_view topic, int position);
MSOCK_EXPORT Change ListSet(std::string_view topic, int position,
                            std::string_view item_json);
MSOCK_EXPORT Change DictAdd(std::string_view topic, std::string_view key,
                            std::string_view value_json);
MSOCK_EXPORT Change DictPop(std::string_view topic, std::string_view key);
MSOCK_EXPORT Change DictChange(std::string_view topic, std::string_view key,
                               std::string_view value_json);
MSOCK_EXPORT Change Emit(std::string_view topic, std::string_view args_json);
}  // namespace changes

// "generic", "string", ... and back (kInvalidArgument for an unknown name).
MSOCK_EXPORT std::string_view TopicTypeName(TopicType type);
[[nodiscard]] MSOCK_EXPORT absl::StatusOr<TopicType> TopicTypeFromName(
    std::string_view name);

// What a hub validator sees: one change, already applied to a copy.
struct TopicProposal {
  std::string client;  // who sent it ("" = the hub's own Apply)
  std::string topic;
  std::string change_json;  // the change record as applied
  std::string value_json;   // the topic's value if the action is accepted
};
// OK accepts; an error refuses the whole action with that code and message.
using TopicValidator = std::function<absl::Status(const TopicProposal& p)>;

// What a client asks for, for the hub's access hook.
enum class TopicAccess { kSubscribe, kChange, kCreate, kRemove };
using TopicAccessHook = std::function<absl::Status(
    const std::string& client, const std::string& topic, TopicAccess what)>;

// Attributes of one topic, fixed at creation.
struct TopicOptions {
  // > 0: changes go out at most once per this interval, merged (a set
  // replaces what came before it, adds are summed), to bound the bandwidth
  // of fast-changing values. Subscribers still get every version's result.
  absl::Duration coalesce = absl::ZeroDuration();
};

struct TopicHostOptions {
  bool allow_client_topics = false;  // clients may create and remove topics
  size_t max_topics = 10000;
  size_t max_value_size = 256 * 1024;  // bytes of a value as JSON
  size_t max_changes_per_action = 1024;
  size_t max_name_size = 256;
};

struct TopicInfo {
  std::string name;
  TopicType type;
  uint64_t version;
  size_t subscribers;
};

struct TopicStats {
  uint64_t actions = 0;       // actions applied
  uint64_t refused = 0;       // actions refused
  uint64_t updates = 0;       // update messages queued (each copy counts)
  uint64_t subscribes = 0;    // snapshots served
  uint64_t bad_requests = 0;  // requests that did not parse
};

// The hub side: owns the topics of one Hub. Reserved names start with
// "_sys/"; the topic "_sys/topics" (a dict: name -> {"type": ...}) lists the
// others and clients may subscribe to it.
class MSOCK_EXPORT TopicHost {
 public:
  explicit TopicHost(Hub& hub, const TopicHostOptions& options = {});
  ~TopicHost();  // stops serving topics (before the Hub goes)
  TopicHost(const TopicHost&) = delete;
  TopicHost& operator=(const TopicHost&) = delete;

  // kAlreadyExists, kInvalidArgument (name, value), kResourceExhausted.
  // `initial_json` "" = the type's default.
  [[nodiscard]] absl::Status Create(std::string_view name, TopicType type,
                                    std::string_view initial_json = "",
                                    const TopicOptions& options = {});
  // Ends every subscription (subscribers are told). kNotFound.
  [[nodiscard]] absl::Status Remove(std::string_view name);
  // Applies an action as the hub (validators run; client "" in proposals).
  // Returns each touched topic's new version, in the order of `changes`.
  [[nodiscard]] absl::StatusOr<std::vector<uint64_t>> Apply(
      const std::vector<Change>& changes);
  [[nodiscard]] absl::StatusOr<std::string> Value(std::string_view name) const;
  [[nodiscard]] absl::StatusOr<uint64_t> Version(std::string_view name) const;
  std::vector<TopicInfo> List() const;  // sorted by name, "_sys/" ones too

  // Adds a validator to a topic (run in the order added, after the type
  // checks). kNotFound.
  [[nodiscard]] absl::Status Validate(std::string_view name,
                                      TopicValidator validator);
  // Decides what clients may do (default: everything but writing "_sys/"
  // topics, and creating / removing unless allow_client_topics).
  void OnAccess(TopicAccessHook hook);

  TopicStats stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// One applied change as a client's callback sees it.
struct TopicEvent {
  enum class Kind {
    kSnapshot,    // a whole value arrived (subscribe or resync)
    kPreview,     // this client's own action, shown before the hub's verdict
    kApplied,     // the hub applied it (anyone's, this client's included)
    kRolledBack,  // this client's action was refused or lost: undone
  };
  Kind kind;
  std::string topic;
  uint64_t version = 0;                   // confirmed version
  std::string origin;                     // who sent it ("" = the hub)
  std::vector<std::string> changes_json;  // the change records
  std::string value_json;                 // the topic's value as shown now
  absl::Status status;                    // kRolledBack: why
};
using TopicCallback = std::function<void(const TopicEvent& ev)>;

struct TopicsClientOptions {
  // Bounds the actions sent and not yet answered.
  size_t max_pending_actions = 1024;
};

// The client side: replicas of the topics a RoomsClient subscribed to.
class MSOCK_EXPORT TopicsClient {
 public:
  explicit TopicsClient(RoomsClient& client,
                        const TopicsClientOptions& options = {});
  ~TopicsClient();
  TopicsClient(const TopicsClient&) = delete;
  TopicsClient& operator=(const TopicsClient&) = delete;

  // Subscribes and waits for the snapshot. The hub's refusal (kNotFound,
  // kPermissionDenied...), kDeadlineExceeded, kUnavailable.
  [[nodiscard]] absl::Status Subscribe(std::string_view name,
                                       absl::Time deadline);
  [[nodiscard]] absl::Status Unsubscribe(std::string_view name,
                                         absl::Time deadline);
  // Previews the changes on subscribed topics, sends them as one action and
  // waits for the verdict: OK, or the hub's refusal (code and message; the
  // preview is rolled back), kDeadlineExceeded / kUnavailable (outcome
  // unknown: the preview is dropped and the replica resynchronises).
  // `versions` (if given) gets each change's topic's new version.
  [[nodiscard]] absl::Status Apply(const std::vector<Change>& changes,
                                   absl::Time deadline,
                                   std::vector<uint64_t>* versions = nullptr);
  // The same without waiting: `done` runs once with the verdict.
  [[nodiscard]] absl::Status ApplyAsync(
      const std::vector<Change>& changes, absl::Time deadline,
      std::function<void(absl::Status verdict)> done);

  // The replica's value (previews included) as JSON, and its confirmed
  // version. kNotFound unless subscribed.
  [[nodiscard]] absl::StatusOr<std::string> Value(std::string_view name) const;
  [[nodiscard]] absl::StatusOr<uint64_t> Version(std::string_view name) const;
  // Actions sent and not yet answered.
  size_t pending() const;

  // The hub's value without subscribing.
  [[nodiscard]] absl::StatusOr<std::string> Fetch(std::string_view name,
                                                  absl::Time deadline);
  // Needs the hub's allow_client_topics (or its access hook's consent).
  [[nodiscard]] absl::Status Create(std::string_view name, TopicType type,
                                    absl::Time deadline,
                                    std::string_view initial_json = "");
  [[nodiscard]] absl::Status Remove(std::string_view name, absl::Time deadline);

  // Runs for every event on `name` ("" = every topic). Replaces an earlier
  // callback of that name.
  void OnChange(std::string_view name, TopicCallback callback);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_TOPICS_H_
