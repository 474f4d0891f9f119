// The duos of every protocol recipe (tests/support/recipe_duo.h): typed
// socket pairs (request and survey duos ask on threads of their own, so that
// the verifiers send and receive as for streams), raw socket pairs, and typed
// pairs with a Device between them.
#include "tests/support/recipe_duo.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/marry.h"

namespace msock::test {
namespace {

// Collects what calls running on their own threads return: a Request or a
// Survey started by SendA, answered later and read back by RecvA.
class Answers {
 public:
  void Put(absl::StatusOr<Message> m) {
    std::lock_guard<std::mutex> lock(mu_);
    q_.push_back(std::move(m));
    cv_.notify_all();
  }
  absl::StatusOr<Message> Take(absl::Time deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    while (q_.empty()) {
      if (cv_.wait_for(lock,
                       absl::ToChronoNanoseconds(deadline - absl::Now())) ==
              std::cv_status::timeout &&
          q_.empty()) {
        return absl::DeadlineExceededError("no answer");
      }
    }
    absl::StatusOr<Message> m = std::move(q_.front());
    q_.pop_front();
    return m;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::StatusOr<Message>> q_;
};

template <typename P>
class PairDuo : public Duo {
 public:
  PairDuo(const SocketSpec& mismatch, const char* name)
      : mismatch_(mismatch), name_(name) {}
  Socket& a() override { return a_.socket(); }
  Socket& b() override { return b_.socket(); }
  absl::Status SendA(Message& m, absl::Time d) override {
    return a_.Send(m, d);
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override { return b_.Recv(d); }
  bool both_ways() const override { return true; }
  absl::Status SendB(Message& m, absl::Time d) override {
    return b_.Send(m, d);
  }
  absl::StatusOr<Message> RecvA(absl::Time d) override { return a_.Recv(d); }
  const SocketSpec& mismatched() const override { return mismatch_; }
  const char* name() const override { return name_; }

 private:
  P a_, b_;
  const SocketSpec& mismatch_;
  const char* name_;
};

// a only sends, b only receives: push/pull, pub/sub (b subscribed to all).
template <typename A, typename B>
class OneWayDuo : public Duo {
 public:
  OneWayDuo(const SocketSpec& mismatch, const char* name, bool fan_out)
      : mismatch_(mismatch), name_(name), fan_out_(fan_out) {
    if constexpr (std::is_same_v<B, Sub>) b_.Subscribe("");
  }
  Socket& a() override { return a_.socket(); }
  Socket& b() override { return b_.socket(); }
  absl::Status SendA(Message& m, absl::Time d) override {
    return a_.Send(m, d);
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override { return b_.Recv(d); }
  bool both_ways() const override { return false; }
  absl::Status SendB(Message&, absl::Time) override {
    return absl::UnimplementedError("b cannot send");
  }
  absl::StatusOr<Message> RecvA(absl::Time) override {
    return absl::UnimplementedError("a cannot receive");
  }
  const SocketSpec& mismatched() const override { return mismatch_; }
  const char* name() const override { return name_; }
  bool fan_out() const override { return fan_out_; }

 private:
  A a_;
  B b_;
  const SocketSpec& mismatch_;
  const char* name_;
  bool fan_out_;
};

// What an asking socket does, on a thread of the duo's: asks with a 5 s
// margin, puts every answer in `out`.
void Ask(Req& req, Message& m, absl::Time d, Answers& out) {
  out.Put(req.Request(m, d + absl::Seconds(5)));
}
void Ask(Surveyor& s, Message& m, absl::Time d, Answers& out) {
  s.Survey(m, d + absl::Seconds(5), [&out](Message& a) {
     out.Put(std::move(a));
   }).IgnoreError();
}
// An ask whose deadline has passed, on the caller's thread; answers dropped.
absl::Status AskAtOnce(Req& req, Message& m, absl::Time d) {
  return req.Request(m, d).status();
}
absl::Status AskAtOnce(Surveyor& s, Message& m, absl::Time d) {
  return s.Survey(m, d, [](Message&) {});
}

// a = an asker (Req, Surveyor), b = its answerer (Rep, Respondent). Each SendA
// asks on a thread of its own; RecvA gives the oldest answer; SendB answers
// the last message b received.
template <typename A, typename B>
class AskingDuo : public Duo {
 public:
  ~AskingDuo() override {
    a_.Close();  // wakes the asks still waiting
    for (auto& t : threads_) t.join();
  }
  Socket& a() override { return a_.socket(); }
  Socket& b() override { return b_.socket(); }
  absl::Status SendA(Message& m, absl::Time d) override {
    if (d <= absl::Now()) return AskAtOnce(a_, m, d);
    auto owned = std::make_shared<Message>(std::move(m));
    threads_.emplace_back([this, owned, d] { Ask(a_, *owned, d, answers_); });
    return absl::OkStatus();
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override {
    absl::StatusOr<Message> q = b_.Recv(d);
    if (q.ok()) last_ = q->Clone();
    return q;
  }
  bool both_ways() const override { return true; }
  absl::Status SendB(Message& m, absl::Time d) override {
    if (!last_) return absl::FailedPreconditionError("nothing to answer");
    return b_.Reply(*last_, m, d);
  }
  absl::StatusOr<Message> RecvA(absl::Time d) override {
    return answers_.Take(d);
  }
  bool streams() const override { return false; }

 private:
  A a_;
  B b_;
  std::optional<Message> last_;
  Answers answers_;
  std::vector<std::thread> threads_;
};

class ReqRepDuo : public AskingDuo<Req, Rep> {
 public:
  const SocketSpec& mismatched() const override { return protocols::kPush; }
  const char* name() const override { return "req"; }
};

class SurveyDuo : public AskingDuo<Surveyor, Respondent> {
 public:
  const SocketSpec& mismatched() const override { return protocols::kReq; }
  const char* name() const override { return "surveyor"; }
  bool fan_out() const override { return true; }
};

class BusDuo : public PairDuo<Bus> {
 public:
  BusDuo() : PairDuo<Bus>(protocols::kPub, "bus") {}
  bool fan_out() const override { return true; }
};

// What a raw duo is made of: the cooked specs of a and b, and how it behaves.
struct RawRecipe {
  const SocketSpec& a;
  const SocketSpec& b;
  const SocketSpec& mismatch;
  bool both_ways;
  bool fan_out;
  bool asks;  // a is a raw req / surveyor: it must add the request id itself
};

// A RawSocket pair: messages go as they are, except that a raw asker's carry
// an id word (bit 31 set) and b answers with the header it received.
class RawDuo : public Duo {
 public:
  explicit RawDuo(const RawRecipe& r)
      : r_(r), a_(RawSocket(r.a)), b_(RawSocket(r.b)) {}
  Socket& a() override { return a_; }
  Socket& b() override { return b_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    // A message a failed send left with the caller has its id already.
    if (r_.asks && m.header().empty())
      m.header().push_back(0x80000000u | next_id_++);
    return a_.Send(m, d);
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override {
    absl::StatusOr<Message> q = b_.Recv(d);
    if (q.ok() && r_.asks) last_ = q->Clone();
    return q;
  }
  bool both_ways() const override { return r_.both_ways; }
  absl::Status SendB(Message& m, absl::Time d) override {
    if (!r_.both_ways) return absl::UnimplementedError("b cannot send");
    if (r_.asks) {
      if (!last_) return absl::FailedPreconditionError("nothing to answer");
      for (uint32_t w : last_->header()) m.header().push_back(w);
    }
    return b_.Send(m, d);
  }
  absl::StatusOr<Message> RecvA(absl::Time d) override {
    if (!r_.both_ways) return absl::UnimplementedError("a cannot receive");
    return a_.Recv(d);
  }
  const SocketSpec& mismatched() const override { return r_.mismatch; }
  const char* name() const override { return r_.a.name; }
  bool fan_out() const override { return r_.fan_out; }

 private:
  const RawRecipe r_;
  Socket a_;
  Socket b_;
  uint32_t next_id_ = 1;
  std::optional<Message> last_;
};

// A typed duo with a Device between its sockets: a's peer is the device's
// front (which dials a), b dials the device's back. Only Connect goes through
// the device; a test connecting a and b itself bypasses it.
class DeviceDuo : public Duo {
 public:
  DeviceDuo(std::unique_ptr<Duo> inner, const SocketSpec& front,
            const SocketSpec& back)
      : inner_(std::move(inner)),
        front_(RawSocket(front)),
        back_(RawSocket(back)) {}
  ~DeviceDuo() override {
    front_.Close();  // ends Device
    back_.Close();
    if (device_.joinable()) device_.join();
  }
  Socket& a() override { return inner_->a(); }
  Socket& b() override { return inner_->b(); }
  absl::Status SendA(Message& m, absl::Time d) override {
    return inner_->SendA(m, d);
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override {
    return inner_->RecvB(d);
  }
  bool both_ways() const override { return inner_->both_ways(); }
  absl::Status SendB(Message& m, absl::Time d) override {
    return inner_->SendB(m, d);
  }
  absl::StatusOr<Message> RecvA(absl::Time d) override {
    return inner_->RecvA(d);
  }
  const SocketSpec& mismatched() const override { return inner_->mismatched(); }
  const char* name() const override { return inner_->name(); }
  bool fan_out() const override { return inner_->fan_out(); }
  bool streams() const override { return inner_->streams(); }
  absl::Status Connect(std::string_view scheme, absl::Time deadline) override {
    PrepareFor(front_, scheme);
    PrepareFor(back_, scheme);
    absl::StatusOr<std::string> a_url = Marry(a(), front_, scheme, deadline);
    if (!a_url.ok()) return a_url.status();
    absl::StatusOr<std::string> b_url = Marry(back_, b(), scheme, deadline);
    if (!b_url.ok()) return b_url.status();
    device_ = std::thread([this] { Device(front_, back_).IgnoreError(); });
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<Duo> inner_;
  Socket front_;
  Socket back_;
  std::thread device_;
};

}  // namespace

const std::vector<std::string>& RecipeNames() {
  static const std::vector<std::string> names = {
      "pair0",     "pair1",     "pushpull",  "reqrep",      "pubsub",
      "bus",       "survey",    "rawpair0",  "rawpushpull", "rawreqrep",
      "rawpubsub", "rawbus",    "rawsurvey", "devpair0",    "devpushpull",
      "devreqrep", "devpubsub", "devbus",    "devsurvey"};
  return names;
}

absl::Status Duo::Connect(std::string_view scheme, absl::Time deadline) {
  return Marry(a(), b(), scheme, deadline).status();
}

std::unique_ptr<Duo> MakeDuo(std::string_view recipe) {
  // dev<recipe>: the device's front faces a's kind of peer, its back b's.
  struct DeviceEnds {
    const char* recipe;
    const SocketSpec& front;
    const SocketSpec& back;
  };
  static const DeviceEnds kDevices[] = {
      {"pair0", protocols::kPair0, protocols::kPair0},
      {"pushpull", protocols::kPull, protocols::kPush},
      {"reqrep", protocols::kRep, protocols::kReq},
      {"pubsub", protocols::kSub, protocols::kPub},
      {"bus", protocols::kBus, protocols::kBus},
      {"survey", protocols::kRespondent, protocols::kSurveyor}};
  if (recipe.substr(0, 3) == "dev") {
    for (const DeviceEnds& d : kDevices) {
      if (recipe.substr(3) != d.recipe) continue;
      return std::make_unique<DeviceDuo>(MakeDuo(d.recipe), d.front, d.back);
    }
  }
  if (recipe == "pushpull") {
    return std::make_unique<OneWayDuo<Push, Pull>>(protocols::kPush, "push",
                                                   /*fan_out=*/false);
  }
  if (recipe == "reqrep") return std::make_unique<ReqRepDuo>();
  if (recipe == "survey") return std::make_unique<SurveyDuo>();
  if (recipe == "pubsub") {
    return std::make_unique<OneWayDuo<Pub, Sub>>(protocols::kBus, "pub",
                                                 /*fan_out=*/true);
  }
  if (recipe == "bus") return std::make_unique<BusDuo>();
  if (recipe == "pair0")
    return std::make_unique<PairDuo<Pair0>>(protocols::kPair1, "pair0");
  if (recipe == "pair1")
    return std::make_unique<PairDuo<Pair1>>(protocols::kPair0, "pair1");
  using protocols::kBus, protocols::kPair0, protocols::kPair1, protocols::kPub,
      protocols::kPull, protocols::kPush, protocols::kRep, protocols::kReq,
      protocols::kRespondent, protocols::kSub, protocols::kSurveyor;
  struct RawEntry {
    const char* recipe;
    RawRecipe raw;  // a, b, mismatch, both_ways, fan_out, asks
  };
  static const RawEntry kRaws[] = {
      {"rawpair0", {kPair0, kPair0, kPair1, true, false, false}},
      {"rawpushpull", {kPush, kPull, kPush, false, false, false}},
      {"rawreqrep", {kReq, kRep, kPush, true, false, true}},
      {"rawpubsub", {kPub, kSub, kBus, false, true, false}},
      {"rawbus", {kBus, kBus, kPub, true, true, false}},
      {"rawsurvey", {kSurveyor, kRespondent, kReq, true, true, true}}};
  for (const RawEntry& e : kRaws) {
    if (recipe == e.recipe) return std::make_unique<RawDuo>(e.raw);
  }
  ADD_FAILURE() << "MakeDuo: unknown recipe \"" << recipe << "\"";
  return nullptr;
}

}  // namespace msock::test
