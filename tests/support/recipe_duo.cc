// The duos of every protocol recipe (tests/support/recipe_duo.h): a typed
// socket pair each, with the request and survey duos running each call on a
// thread of its own so that the verifiers can send and receive as for streams.
#include "tests/support/recipe_duo.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "msock/msock.h"

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
  internal::Role& a() override { return a_; }
  internal::Role& b() override { return b_; }
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

class PipelineDuo : public Duo {
 public:
  internal::Role& a() override { return push_; }
  internal::Role& b() override { return pull_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    return push_.Send(m, d);
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override { return pull_.Recv(d); }
  bool both_ways() const override { return false; }
  absl::Status SendB(Message&, absl::Time) override {
    return absl::UnimplementedError("pull cannot send");
  }
  absl::StatusOr<Message> RecvA(absl::Time) override {
    return absl::UnimplementedError("push cannot receive");
  }
  const SocketSpec& mismatched() const override { return protocols::kPush; }
  const char* name() const override { return "push"; }

 private:
  Push push_;
  Pull pull_;
};

// a = Req (sends requests), b = Rep. Each SendA runs a Request on a thread;
// RecvA gives the reply to the oldest.
class ReqRepDuo : public Duo {
 public:
  ~ReqRepDuo() override {
    req_.Close();  // wakes the Requests still waiting
    for (auto& t : threads_) t.join();
  }
  internal::Role& a() override { return req_; }
  internal::Role& b() override { return rep_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    auto owned = std::make_shared<Message>(std::move(m));
    threads_.emplace_back([this, owned, d] {
      answers_.Put(req_.Request(*owned, d + absl::Seconds(5)));
    });
    return absl::OkStatus();
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override {
    absl::StatusOr<Message> q = rep_.Recv(d);
    if (q.ok()) last_ = q->Clone();
    return q;
  }
  bool both_ways() const override { return true; }
  absl::Status SendB(Message& m, absl::Time d) override {
    if (!last_) return absl::FailedPreconditionError("no request to answer");
    return rep_.Reply(*last_, m, d);
  }
  absl::StatusOr<Message> RecvA(absl::Time d) override {
    return answers_.Take(d);
  }
  const SocketSpec& mismatched() const override { return protocols::kPush; }
  const char* name() const override { return "req"; }
  bool streams() const override { return false; }

 private:
  Req req_;
  Rep rep_;
  std::optional<Message> last_;
  Answers answers_;
  std::vector<std::thread> threads_;
};

// a = Surveyor, b = Respondent: like ReqRepDuo, with surveys.
class SurveyDuo : public Duo {
 public:
  ~SurveyDuo() override {
    surveyor_.Close();
    for (auto& t : threads_) t.join();
  }
  internal::Role& a() override { return surveyor_; }
  internal::Role& b() override { return resp_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    if (d <= absl::Now()) {  // a survey that ends at once: no thread
      return surveyor_.Survey(m, d, [](Message&) {});
    }
    auto owned = std::make_shared<Message>(std::move(m));
    threads_.emplace_back([this, owned, d] {
      surveyor_
          .Survey(*owned, d + absl::Seconds(5),
                  [this](Message& a) { answers_.Put(std::move(a)); })
          .IgnoreError();
    });
    return absl::OkStatus();
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override {
    absl::StatusOr<Message> q = resp_.Recv(d);
    if (q.ok()) last_ = q->Clone();
    return q;
  }
  bool both_ways() const override { return true; }
  absl::Status SendB(Message& m, absl::Time d) override {
    if (!last_) return absl::FailedPreconditionError("no survey to answer");
    return resp_.Reply(*last_, m, d);
  }
  absl::StatusOr<Message> RecvA(absl::Time d) override {
    return answers_.Take(d);
  }
  const SocketSpec& mismatched() const override { return protocols::kReq; }
  const char* name() const override { return "surveyor"; }
  bool fan_out() const override { return true; }
  bool streams() const override { return false; }

 private:
  Surveyor surveyor_;
  Respondent resp_;
  std::optional<Message> last_;
  Answers answers_;
  std::vector<std::thread> threads_;
};

class PubSubDuo : public Duo {
 public:
  PubSubDuo() { sub_.Subscribe(""); }
  internal::Role& a() override { return pub_; }
  internal::Role& b() override { return sub_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    return pub_.Send(m, d);
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override { return sub_.Recv(d); }
  bool both_ways() const override { return false; }
  absl::Status SendB(Message&, absl::Time) override {
    return absl::UnimplementedError("sub cannot send");
  }
  absl::StatusOr<Message> RecvA(absl::Time) override {
    return absl::UnimplementedError("pub cannot receive");
  }
  const SocketSpec& mismatched() const override { return protocols::kBus; }
  const char* name() const override { return "pub"; }
  bool fan_out() const override { return true; }

 private:
  Pub pub_;
  Sub sub_;
};

class BusDuo : public PairDuo<Bus> {
 public:
  BusDuo() : PairDuo<Bus>(protocols::kPub, "bus") {}
  bool fan_out() const override { return true; }
};

}  // namespace

const std::vector<std::string>& RecipeNames() {
  static const std::vector<std::string> names = {
      "pair0", "pair1", "pushpull", "reqrep", "pubsub", "bus", "survey"};
  return names;
}

std::unique_ptr<Duo> MakeDuo(std::string_view recipe) {
  if (recipe == "pushpull") return std::make_unique<PipelineDuo>();
  if (recipe == "reqrep") return std::make_unique<ReqRepDuo>();
  if (recipe == "survey") return std::make_unique<SurveyDuo>();
  if (recipe == "pubsub") return std::make_unique<PubSubDuo>();
  if (recipe == "bus") return std::make_unique<BusDuo>();
  if (recipe == "pair0")
    return std::make_unique<PairDuo<Pair0>>(protocols::kPair1, "pair0");
  if (recipe == "pair1")
    return std::make_unique<PairDuo<Pair1>>(protocols::kPair0, "pair1");
  ADD_FAILURE() << "MakeDuo: unknown recipe \"" << recipe << "\"";
  return nullptr;
}

}  // namespace msock::test
