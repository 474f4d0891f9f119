// surveyor (SP survey, 0x62): sends each survey to every respondent with a
// 31-bit survey id word (high bit set) and hands the answers carrying that id
// to the Survey call waiting for them, until its deadline. Answers for a survey
// that is over are dropped and counted.
#include <deque>
#include <mutex>
#include <utility>

#include "msock/protocols/survey.h"
#include "protocols/pending_table.h"
#include "socket/socket_access.h"

namespace msock {

namespace {
// Answers waiting for a slow `each` callback, per survey; more are dropped.
constexpr size_t kMaxPendingAnswers = 4096;
}  // namespace

using internal::Visit;
using internal::WaitResult;

// What the Survey calls and the receive filter share. Lock order: the socket's
// lock (held while the filter runs), then the table's lock.
struct Surveyor::State {
  // The answers of one running survey not yet handed to its `each`.
  using Answers = std::deque<Message>;

  internal::PendingTable<Answers> table{internal::IdSpace::kSp};
  std::mutex mu;
  absl::Duration survey_time = absl::Seconds(1);  // guarded by mu
};

Surveyor::Surveyor(Context& ctx)
    : Role(protocols::kSurveyor, ctx), state_(std::make_shared<State>()) {
  std::shared_ptr<State> st = state_;
  internal::SocketAccess::SetRecvFilter(socket_, [st](Message& m, int /*ttl*/) {
    if (m.size() < 4) return internal::RecvVerdict::kClosePipe;
    const uint32_t id = m.PopFrontWord();
    const bool taken = st->table.Match(id, [&m](State::Answers& answers) {
      if (answers.size() >= kMaxPendingAnswers) return Visit::kSkip;
      answers.push_back(std::move(m));
      return Visit::kKeep;  // more may come until the deadline
    });
    return taken ? internal::RecvVerdict::kConsumed
                 : internal::RecvVerdict::kDrop;  // late, unknown, or flooding
  });
}

Surveyor::~Surveyor() { Close(); }

void Surveyor::Close() {
  state_->table.Close();
  socket_.Close();
}

void Surveyor::SetSurveyTime(absl::Duration d) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->survey_time = d;
}

absl::Duration Surveyor::survey_time() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->survey_time;
}

absl::Status Surveyor::Survey(Message& msg, absl::Time deadline,
                              const std::function<void(Message&)>& each) {
  internal::PendingTable<State::Answers>& table = state_->table;
  // Before sending: answers may come at once.
  absl::StatusOr<uint32_t> id = table.Add(0, State::Answers{});
  if (!id.ok()) return absl::FailedPreconditionError("surveyor socket: closed");
  msg.header().insert(msg.header().begin(), *id);
  absl::Status sent = socket_.Send(msg, deadline);
  if (!sent.ok()) {
    msg.header().erase(msg.header().begin());
    table.Remove(*id);
    return sent;
  }
  for (;;) {
    const WaitResult w = table.Wait(
        *id, deadline, [](const State::Answers& a) { return !a.empty(); });
    if (w == WaitResult::kTimedOut) break;
    if (w != WaitResult::kReady) {
      table.Remove(*id);
      return absl::CancelledError(
          "surveyor socket: closed while the survey ran");
    }
    State::Answers answers;
    table.Update(*id, [&answers](State::Answers& a) {
      answers.swap(a);
      return Visit::kKeep;
    });
    for (Message& answer : answers) each(answer);  // outside the table's lock
  }
  table.Remove(*id);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Message>> Surveyor::Survey(Message& msg,
                                                      absl::Time deadline) {
  std::vector<Message> answers;
  absl::Status s = Survey(msg, deadline, [&answers](Message& m) {
    answers.push_back(std::move(m));
  });
  if (!s.ok()) return s;
  return answers;
}

}  // namespace msock
