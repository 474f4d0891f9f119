// msock/protocols/survey.h: SP survey (NNG surveyor0/respondent0, nanomsg
// SURVEYOR/RESPONDENT).
//
// A Surveyor sends a question to every connected Respondent at once and
// collects the answers that arrive before the survey's deadline. On the wire a
// survey carries the same header as a request (0x80000000 | 31-bit survey id,
// plus one word per device hop); a Respondent echoes it in front of its answer.
// A survey sent while no respondent is connected reaches nobody (as in NNG and
// nanomsg): use WaitForPeers first.
//
// Example:
//   msock::Respondent resp;
//   std::string url = resp.Listen("tcp://127.0.0.1:0").value();
//   msock::Surveyor surveyor;
//   absl::Status s = surveyor.Dial(url);
//   if (s.ok()) s = surveyor.WaitForPeers(1, absl::Now() + absl::Seconds(5));
//   std::thread answer([&] {
//     absl::Time deadline = absl::Now() + absl::Seconds(5);
//     absl::StatusOr<msock::Message> q = resp.Recv(deadline);
//     msock::Message yes("yes");
//     if (q.ok()) resp.Reply(*q, yes, deadline).IgnoreError();
//   });
//   msock::Message who("who?");
//   absl::StatusOr<std::vector<msock::Message>> answers =
//       surveyor.Survey(who, absl::Now() + absl::Seconds(1));
//   answer.join();  // answers->size() == 1, (*answers)[0].body() == "yes"
//
// Thread-safe. Surface: msock/protocols/role.h; Surveyor sends only through
// Survey, Respondent through Reply.
#ifndef MSOCK_PROTOCOLS_SURVEY_H_
#define MSOCK_PROTOCOLS_SURVEY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/export.h"
#include "msock/protocols/role.h"

namespace msock {

namespace protocols {

inline constexpr SocketSpec kSurveyor{
    "surveyor", 0x62, 0x63, "respondent", 0, SendMode::kToAll, RecvMode::kAll};
inline constexpr SocketSpec kRespondent{
    "respondent", 0x63, 0x62, "surveyor", 0, SendMode::kToDest, RecvMode::kAll};

}  // namespace protocols

class MSOCK_EXPORT Surveyor : public internal::Role {
 public:
  explicit Surveyor(Context& ctx = Context::Default());
  ~Surveyor();

  // Sends `msg` to every connected respondent and calls `each` with every
  // answer that arrives before `deadline` (on this thread, in arrival order).
  // Returns at the deadline with OK, however many answers came (none is not an
  // error). Several surveys may run at once from different threads; each has
  // its own id. Answers after the deadline are dropped and counted in
  // stats().dropped. On success msg is left empty; on error the caller keeps
  // it. Errors: kCancelled (Close while waiting), kFailedPrecondition (closed),
  // kDeadlineExceeded / kUnavailable (kOverflow = kBlock and no room).
  [[nodiscard]] absl::Status Survey(Message& msg, absl::Time deadline,
                                    const std::function<void(Message&)>& each);
  // Same, collecting the answers.
  [[nodiscard]] absl::StatusOr<std::vector<Message>> Survey(
      Message& msg, absl::Time deadline);
  // Same, with deadline = now + survey_time().
  [[nodiscard]] absl::StatusOr<std::vector<Message>> Survey(Message& msg) {
    return Survey(msg, absl::Now() + survey_time());
  }

  // The survey time used when no deadline is given; default 1 s (as NNG and
  // nanomsg).
  void SetSurveyTime(absl::Duration d);
  absl::Duration survey_time() const;

  // Wakes every running Survey with kCancelled, then closes the socket.
  void Close();

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the receive filter
};

// Answers surveys: Recv gives the next survey (header() holds its backtrace,
// source() the pipe it came on), Reply answers it on that pipe. A survey may be
// left unanswered.
class MSOCK_EXPORT Respondent : public internal::Role {
 public:
  explicit Respondent(Context& ctx = Context::Default());

  // The next survey. A backtrace longer than kTtl words is dropped
  // (stats().dropped); a payload ending before its last word closes the pipe.
  using Role::Recv;
  using Role::TryRecv;

  // Sends `answer` to the surveyor that sent `survey`, with its backtrace in
  // front. On success answer is left empty; on error the caller keeps it.
  // kUnavailable if that surveyor is gone (counted in stats().dropped).
  [[nodiscard]] absl::Status Reply(const Message& survey, Message& answer,
                                   absl::Time deadline);
  [[nodiscard]] absl::Status Reply(const Message& survey, Message& answer) {
    return Reply(survey, answer, absl::Now() + Get(opt::kSendTimeout));
  }
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_SURVEY_H_
