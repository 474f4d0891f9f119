// surveyor (SP survey, 0x62): sends each survey to every respondent with a
// 31-bit survey id word (high bit set) and hands the answers carrying that id
// to the Survey call waiting for them, until its deadline. Answers for a survey
// that is over are dropped and counted.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <unordered_map>
#include <utility>

#include "absl/time/clock.h"
#include "msock/protocols/survey.h"
#include "protocols/backtrace.h"
#include "socket/socket_access.h"

namespace msock {

namespace {
// Answers waiting for a slow `each` callback, per survey; more are dropped.
constexpr size_t kMaxPendingAnswers = 4096;
}  // namespace

// The running surveys, shared by the Survey calls and the receive filter. Lock
// order: the socket's lock (held while the filter runs), then mu.
struct Surveyor::State {
  struct Slot {
    std::condition_variable cv;
    std::deque<Message> answers;
  };

  std::mutex mu;
  std::unordered_map<uint32_t, Slot*> slots;  // survey id -> its Survey call
  uint32_t next_id = 0;
  absl::Duration survey_time = absl::Seconds(1);
  bool closed = false;
};

Surveyor::Surveyor(Context& ctx)
    : Role(protocols::kSurveyor, ctx), state_(std::make_shared<State>()) {
  std::random_device rd;
  state_->next_id = rd();
  std::shared_ptr<State> st = state_;
  internal::SocketAccess::SetRecvFilter(socket_, [st](Message& m, int /*ttl*/) {
    if (m.size() < 4) return internal::RecvVerdict::kClosePipe;
    const uint32_t id = m.PopFrontWord();
    std::lock_guard<std::mutex> lock(st->mu);
    auto it = st->slots.find(id);
    if (it == st->slots.end() ||
        it->second->answers.size() >= kMaxPendingAnswers) {
      return internal::RecvVerdict::kDrop;  // late, unknown, or flooding
    }
    it->second->answers.push_back(std::move(m));
    it->second->cv.notify_one();
    return internal::RecvVerdict::kConsumed;
  });
}

Surveyor::~Surveyor() { Close(); }

void Surveyor::Close() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->closed = true;
    for (auto& [id, slot] : state_->slots) slot->cv.notify_one();
  }
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
  State& st = *state_;
  State::Slot slot;
  uint32_t id;
  {
    std::lock_guard<std::mutex> lock(st.mu);
    if (st.closed)
      return absl::FailedPreconditionError("surveyor socket: closed");
    do {
      id = internal::kLastWord | (st.next_id++ & ~internal::kLastWord);
    } while (st.slots.contains(id));
    st.slots.emplace(id, &slot);  // before sending: answers may come at once
  }
  msg.header().insert(msg.header().begin(), id);
  absl::Status sent = socket_.Send(msg, deadline);
  if (!sent.ok()) {
    msg.header().erase(msg.header().begin());
    std::lock_guard<std::mutex> lock(st.mu);
    st.slots.erase(id);
    return sent;
  }
  std::unique_lock<std::mutex> lock(st.mu);
  for (;;) {
    while (!slot.answers.empty()) {
      Message answer = std::move(slot.answers.front());
      slot.answers.pop_front();
      lock.unlock();
      each(answer);
      lock.lock();
    }
    if (st.closed) {
      st.slots.erase(id);
      return absl::CancelledError(
          "surveyor socket: closed while the survey ran");
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) break;
    const absl::Duration wait = std::min(deadline - now, absl::Hours(1));
    slot.cv.wait_for(lock, absl::ToChronoNanoseconds(wait));
  }
  st.slots.erase(id);
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
