// msock/options.h: typed socket options.
//
// Each option key carries the type of its value, so a wrong type does not
// compile (sock.Set(msock::opt::kTtl, absl::Seconds(1)) is an error).
//
// Example:
//   msock::Socket sock(msock::protocols::kPull);
//   absl::Status s =
//       sock.Set(msock::opt::kRecvTimeout, absl::Milliseconds(500));
//   if (s.ok()) s = sock.Set(msock::opt::kMaxRecvSize, size_t{4} << 20);
//   absl::Duration t = sock.Get(msock::opt::kRecvTimeout);  // 500 ms
//
// Queue and size options apply to pipes created after the change; timeouts
// apply to the next blocking call. Socket::Set (and each role's Set) returns
// kInvalidArgument for a value out of range (say a negative duration or a
// zero queue limit) and kFailedPrecondition after Close. Get is thread-safe
// and never fails.
#ifndef MSOCK_OPTIONS_H_
#define MSOCK_OPTIONS_H_

#include <cstddef>
#include <string>

#include "absl/time/time.h"

namespace msock {

template <typename T>
struct OptionKey {
  int id;
  const char* name;
};

// What a fan-out socket (pub, bus, surveyor: SendMode::kToAll) does when one
// peer's send queue is full.
enum class Overflow {
  kDropNewest,  // that peer misses the new message (as NNG and ZeroMQ pub)
  kDropOldest,  // that peer's oldest queued message makes room for the new one
  kBlock,       // Send waits until every peer has room, up to its deadline
};

namespace opt {
// Default deadline of Send / Recv when none is given. Default: infinite.
inline constexpr OptionKey<absl::Duration> kSendTimeout{0, "send-timeout"};
inline constexpr OptionKey<absl::Duration> kRecvTimeout{1, "recv-timeout"};
// Per-pipe send queue limits. Default: 1024 messages, 4 MiB.
inline constexpr OptionKey<size_t> kSendQueueMessages{2, "send-queue-messages"};
inline constexpr OptionKey<size_t> kSendQueueBytes{3, "send-queue-bytes"};
// Socket receive queue limits (shared by all pipes). Default: 4096 messages,
// 8 MiB. A full queue pauses reading from the pipes (back-pressure), it never
// drops. Receivers take the queue in batches, so up to twice these limits may
// be buffered (a batch being handed out plus a full queue).
inline constexpr OptionKey<size_t> kRecvQueueMessages{4, "recv-queue-messages"};
inline constexpr OptionKey<size_t> kRecvQueueBytes{5, "recv-queue-bytes"};
// Largest message payload (header words + body) accepted from a peer; a larger
// one closes that pipe (counted as rejected_oversize). Default 1 MiB, as
// nanomsg. 0 = no limit.
inline constexpr OptionKey<size_t> kMaxRecvSize{6, "max-recv-size"};
// Re-dial back-off: first retry after kReconnectMin, doubling up to
// kReconnectMax. Defaults: 100 ms and 5 s.
inline constexpr OptionKey<absl::Duration> kReconnectMin{7, "reconnect-min"};
inline constexpr OptionKey<absl::Duration> kReconnectMax{8, "reconnect-max"};
// Maximum hops (path length / SP backtrace words) a message may carry. Default
// 8, range 1..15.
inline constexpr OptionKey<int> kTtl{9, "ttl"};
// A connection whose peer has not sent its SP header within this time is
// closed. Default 10 s.
inline constexpr OptionKey<absl::Duration> kHandshakeTimeout{
    10, "handshake-timeout"};
// How long Close waits for queued messages to be written. Default 1 s.
inline constexpr OptionKey<absl::Duration> kLinger{11, "linger"};
// How long a receiver with nothing to receive polls before it sleeps. Sleeping
// costs a thread wake-up per message batch; polling costs CPU, which on a small
// machine the I/O thread may need (it lowered inproc latency 8x but raised
// ipc/tcp latency 1.8x on 2 vCPUs). Default 0: never polls.
inline constexpr OptionKey<absl::Duration> kRecvSpin{12, "recv-spin"};
// Fan-out sockets only: what to do when a peer's send queue is full. Every
// message dropped is counted, per pipe (Socket::pipe_stats) and in
// stats().dropped. Default kDropNewest. kBlock makes one slow peer hold up
// every peer (Send returns kDeadlineExceeded and keeps the message).
inline constexpr OptionKey<Overflow> kOverflow{13, "overflow"};
// ws:// pipes only. 1: send every message as a text frame and accept text
// frames (browsers speaking JSON; the bodies must be UTF-8, or the peer closes
// with 1007); 0 (default): binary frames only, and a text frame closes the pipe
// with 1003, as NNG does. Applies to pipes opened after the change.
inline constexpr OptionKey<int> kWsText{14, "ws-text"};
// ws:// pipes only. When not zero, a ping goes to the peer after every such
// interval, and a peer that sent nothing (no data, no pong) for three intervals
// is hung up on. Default 0: no pings (nanomsg delivers pings to its
// application as if they were messages, so never ping a nanomsg peer).
inline constexpr OptionKey<absl::Duration> kWsPingInterval{15,
                                                           "ws-ping-interval"};
// wss:// only. Each takes either PEM text (starting "-----BEGIN") or the name
// of a PEM file, read when the socket listens or dials (a bad one makes Listen
// fail with kInvalidArgument, or the dial's connection fail).
//   kTlsCert: the certificate (then any intermediate certificates) this side
//     presents; required to listen, optional to dial (client certificate).
//   kTlsKey: the private key of kTlsCert.
//   kTlsCa: the CA certificates peers are checked against. A dialer without it
//     uses the system's CAs; a listener with it asks every client for a
//     certificate signed by one of them.
// Default: empty.
inline constexpr OptionKey<std::string> kTlsCert{16, "tls-cert"};
inline constexpr OptionKey<std::string> kTlsKey{17, "tls-key"};
inline constexpr OptionKey<std::string> kTlsCa{18, "tls-ca"};
// wss:// dialers: the name the listener's certificate must carry, and the name
// sent in TLS SNI (not for IP addresses). Default empty: the host of the URL.
inline constexpr OptionKey<std::string> kTlsServerName{19, "tls-server-name"};
// wss:// only. 1 (default): a dialer checks the listener's certificate (chain
// and name) and refuses a bad one; a listener with kTlsCa set requires client
// certificates. 0: no checks (encryption without authentication: tests only).
inline constexpr OptionKey<int> kTlsVerifyPeer{20, "tls-verify-peer"};
}  // namespace opt

// The values of every option, as a socket holds them.
struct SocketOptions {
  absl::Duration send_timeout = absl::InfiniteDuration();
  absl::Duration recv_timeout = absl::InfiniteDuration();
  size_t send_queue_messages = 1024;
  size_t send_queue_bytes = size_t{4} << 20;
  size_t recv_queue_messages = 4096;
  size_t recv_queue_bytes = size_t{8} << 20;
  size_t max_recv_size = size_t{1} << 20;
  absl::Duration reconnect_min = absl::Milliseconds(100);
  absl::Duration reconnect_max = absl::Seconds(5);
  int ttl = 8;
  absl::Duration handshake_timeout = absl::Seconds(10);
  absl::Duration linger = absl::Seconds(1);
  absl::Duration recv_spin = absl::Microseconds(0);
  Overflow overflow = Overflow::kDropNewest;
  int ws_text = 0;
  absl::Duration ws_ping_interval = absl::ZeroDuration();
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string tls_server_name;
  int tls_verify_peer = 1;
};

}  // namespace msock

#endif  // MSOCK_OPTIONS_H_
