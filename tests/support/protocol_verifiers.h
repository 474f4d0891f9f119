// Protocol verifiers: named checks every protocol recipe must pass, each run on
// a fresh Duo (recipe_duo.h) over one transport scheme ("inproc", "ipc",
// "tcp", "ws", "wss"). They report through gtest (ASSERT / EXPECT), so call
// them from a test body; a fatal failure ends the verifier, not the test.
#ifndef MSOCK_TESTS_SUPPORT_PROTOCOL_VERIFIERS_H_
#define MSOCK_TESTS_SUPPORT_PROTOCOL_VERIFIERS_H_

#include <string_view>

#include "tests/support/recipe_duo.h"

namespace msock::test {

// Example:
//   std::unique_ptr<Duo> duo = MakeDuo("pushpull");
//   ASSERT_NE(duo, nullptr);
//   VerifySendRecv(*duo, "tcp");

// a's socket carries the recipe's spec name.
void VerifyRecipeName(Duo& duo);

// Connects a and b; one message a -> b, and b -> a where the recipe allows.
void VerifySendRecv(Duo& duo, std::string_view scheme);

// Connects a and b; bodies a header parser could trip on (empty, one zero
// byte, word-sized, high bit set, 1000 zeros) arrive unchanged.
void VerifyBodyIntact(Duo& duo, std::string_view scheme);

// Connects a and b; `count` messages queued a -> b arrive in order, and the
// statistics count them. Only for duos that stream().
void VerifyOrder(Duo& duo, std::string_view scheme, int count);

// a refuses a raw socket of duo.mismatched(): a counts the refusal, no pipe
// opens, and (with `dialer_notices`) the refused dialer counts it too; then b
// still connects and gets a message.
void VerifyRejectsWrongPeer(Duo& duo, std::string_view scheme,
                            bool dialer_notices = true);

// A send before any peer: waits for one (streams: until its deadline, the
// caller keeping the message; requests and surveys: until a peer comes), or
// for fan-out recipes goes nowhere at once.
void VerifySendWaitsForPeer(Duo& duo, std::string_view scheme);

}  // namespace msock::test

#endif  // MSOCK_TESTS_SUPPORT_PROTOCOL_VERIFIERS_H_
