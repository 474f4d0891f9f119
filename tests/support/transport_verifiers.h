// Transport verifiers: named checks every transport must pass, each making
// its own sockets over one scheme ("inproc", "ipc", "tcp", "ws", "wss"; wss
// sockets get the test CA's certificates). They report through gtest (ASSERT /
// EXPECT), so call them from a test body:
//   TEST_P(TransportTest, EmptyMessage) { VerifyEmptyMessage(GetParam()); }
#ifndef MSOCK_TESTS_SUPPORT_TRANSPORT_VERIFIERS_H_
#define MSOCK_TESTS_SUPPORT_TRANSPORT_VERIFIERS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "msock/message.h"
#include "msock/socket.h"

namespace msock::test {

// ---- helpers ----
// `size` bytes of a pattern that depends on `seed`.
std::string PatternBody(size_t size, int seed);
// The number a body "<n> ..." starts with, or -1.
int BodyIndex(const Message& m);
// Listens `listener` on a fresh address of `scheme`; returns the bound URL
// (after a gtest failure, a dummy URL if that failed).
std::string ListenOn(std::string_view scheme, Socket& listener);
// PrepareFor both sockets, then Marry them over `scheme` (deadline 10 s);
// stores the bound URL in *url if given. Use as ASSERT_TRUE(Wire(l, d, s)).
::testing::AssertionResult Wire(Socket& listener, Socket& dialer,
                                std::string_view scheme,
                                std::string* url = nullptr);
// An address of `scheme` nobody listens on (tcp, ws, wss: a port just
// released).
std::string UnusedUrl(std::string_view scheme);

// ---- binding, dialing, pipes (transport_verifiers.cc) ----
// Listen returns the bound URL: the port chosen for port 0 (and the path, for
// ws / wss), or the requested URL.
void VerifyBoundUrl(std::string_view scheme);
// A dialer and a listener each count one pipe once connected.
void VerifyPeerCounts(std::string_view scheme);
// One message push -> pull.
void VerifyOneMessage(std::string_view scheme);
// A received message names the pipe it came on (as the kAdded event did).
void VerifyMessageSource(std::string_view scheme);
// An empty message arrives empty, without a header, before the next one.
void VerifyEmptyMessage(std::string_view scheme);
// A dialer whose listener closes loses the pipe, then re-dials the same URL
// once a new listener binds it.
void VerifyRedialWhenListenerReturns(std::string_view scheme);
// Dialing an address nobody listens on yet connects once someone does.
void VerifyDialBeforeListen(std::string_view scheme);
// A peer closing removes the pipe: one kAdded then one kRemoved, same id.
void VerifyPeerCloseRemovesPipe(std::string_view scheme);
// A second listen on a live address is kAlreadyExists and harms nothing.
void VerifyAddressInUse(std::string_view scheme);

// ---- load, size limits, back-pressure (transport_load_verifiers.cc) ----
// 10000 messages sent from a thread arrive in order.
void VerifyOrderUnderLoad(std::string_view scheme);
// A 512 KiB message arrives intact.
void VerifyLargeMessage(std::string_view scheme);
// Ping-pong of 1 B, 100 KiB and 3 MiB messages, each answered with a burst:
// idle-pipe writes, writes larger than the socket buffer and batched streams
// all keep order and bodies.
void VerifyIdleLargeAndBurstWrites(std::string_view scheme);
// 20000 small messages each way at once, on four threads.
void VerifyBothWaysAtOnce(std::string_view scheme);
// Small queues fill (TrySend kUnavailable, Send kDeadlineExceeded), then
// everything accepted drains in order and sending works again.
void VerifyBackPressure(std::string_view scheme);
// A message over kMaxRecvSize closes only the pipe it came on; exactly the
// limit passes. Skipped for inproc (no stream decoder).
void VerifyOversizeClosesOnlyThatPipe(std::string_view scheme);

}  // namespace msock::test

#endif  // MSOCK_TESTS_SUPPORT_TRANSPORT_VERIFIERS_H_
