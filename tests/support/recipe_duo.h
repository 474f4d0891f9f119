// Duo: the two sockets of one protocol recipe (pair0, pair1, push/pull,
// req/rep, pub/sub, bus, surveyor/respondent) behind one interface, so that the
// protocol verifiers (protocol_verifiers.h) run unchanged over every recipe.
// `a` listens and always sends; `b` dials and always receives.
#ifndef MSOCK_TESTS_SUPPORT_RECIPE_DUO_H_
#define MSOCK_TESTS_SUPPORT_RECIPE_DUO_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/message.h"
#include "msock/socket.h"

namespace msock::test {

// Not thread-safe: one test thread drives a Duo (request / survey duos run
// their calls on threads of their own, joined on destruction).
class Duo {
 public:
  virtual ~Duo() = default;
  virtual Socket& a() = 0;  // listens; always sends
  virtual Socket& b() = 0;  // dials; always receives
  virtual absl::Status SendA(Message& m, absl::Time d) = 0;
  virtual absl::StatusOr<Message> RecvB(absl::Time d) = 0;
  // b can answer a: SendB / RecvA work (else they return kUnimplemented).
  virtual bool both_ways() const = 0;
  // For req/rep and surveys: answers the last message b received.
  virtual absl::Status SendB(Message& m, absl::Time d) = 0;
  virtual absl::StatusOr<Message> RecvA(absl::Time d) = 0;
  // A spec whose raw socket `a` must refuse as a peer.
  virtual const SocketSpec& mismatched() const = 0;
  // The spec name of a's socket ("push" for push/pull).
  virtual const char* name() const = 0;
  // Sends never wait for a peer (pub, bus, surveyor): with none, the message
  // goes nowhere.
  virtual bool fan_out() const { return false; }
  // Many sends may be queued before anything is received, and arrive in order
  // (not so for requests and surveys, each waiting for its answer).
  virtual bool streams() const { return true; }
  // Connects b to a over `scheme` and waits until messages can flow: by
  // default Marry(a, b); a device duo puts its device in between. Sockets are
  // prepared for the scheme (PrepareFor) beforehand.
  virtual absl::Status Connect(std::string_view scheme, absl::Time deadline);
};

// The recipe names MakeDuo knows: pair0, pair1, pushpull, reqrep, pubsub, bus,
// survey (typed classes), and rawpair0, rawpushpull, rawreqrep, rawpubsub,
// rawbus, rawsurvey (RawSocket: a raw asker's messages carry an id word, and
// b answers with the header it received), and devpair0, devpushpull,
// devreqrep, devpubsub, devbus, devsurvey (the typed duo with a Device
// between a and b in Connect).
const std::vector<std::string>& RecipeNames();

// A new duo of `recipe`. An unknown name is a test failure (ADD_FAILURE) and
// gives nullptr: callers ASSERT_NE(duo, nullptr).
std::unique_ptr<Duo> MakeDuo(std::string_view recipe);

}  // namespace msock::test

#endif  // MSOCK_TESTS_SUPPORT_RECIPE_DUO_H_
