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
#include <string_view>

#include "absl/time/time.h"

namespace msock {

// What a fan-out socket (pub, bus, surveyor: SendMode::kToAll) does when one
// peer's send queue is full.
enum class Overflow {
  kDropNewest,  // that peer misses the new message (as NNG and ZeroMQ pub)
  kDropOldest,  // that peer's oldest queued message makes room for the new one
  kBlock,       // Send waits until every peer has room, up to its deadline
};

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
  bool ws_text = false;
  absl::Duration ws_ping_interval = absl::ZeroDuration();
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string tls_server_name;
  bool tls_verify_peer = true;
  size_t max_unfinished_bytes = size_t{64} << 20;
  absl::Duration recv_progress_timeout = absl::Seconds(30);
  std::string ws_request_headers;
  absl::Duration tcp_keepalive = absl::Seconds(60);
  absl::Duration connect_timeout = absl::Seconds(10);
  bool recv_on_caller = true;
};

// An option: its name, where a socket keeps its value, and the check a new
// value must pass (Socket::Set returns kInvalidArgument naming the option and
// the reason). Transport options (ws, TLS) are kept as given; the transport
// reads them when a pipe opens.
template <typename T>
struct OptionKey {
  int id;
  const char* name;
  T SocketOptions::*field;
  // Why `value` is refused, or null when it is valid. Null: any value.
  const char* (*check)(const T& value) = nullptr;
};

// Every value type an option has: X(type) for each. Socket::Set / Get exist
// for these (explicit instantiations in the library).
#define MSOCK_FOR_EACH_OPTION_TYPE(X) \
  X(absl::Duration)                   \
  X(size_t)                           \
  X(int)                              \
  X(bool)                             \
  X(Overflow)                         \
  X(std::string)

// The checks of the options below.
namespace opt_check {
inline const char* NotNegative(const absl::Duration& d) {
  return d < absl::ZeroDuration() ? "must not be negative" : nullptr;
}
inline const char* Positive(const absl::Duration& d) {
  return d <= absl::ZeroDuration() ? "must be more than 0" : nullptr;
}
inline const char* AtLeastOne(const size_t& v) {
  return v == 0 ? "must be at least 1" : nullptr;
}
inline const char* Ttl(const int& v) {
  return v < 1 || v > 15 ? "must be in 1..15" : nullptr;
}
inline const char* KnownOverflow(const Overflow& v) {
  return v != Overflow::kDropNewest && v != Overflow::kDropOldest &&
                 v != Overflow::kBlock
             ? "unknown overflow policy"
             : nullptr;
}
// Header lines "Name: value", one per line ("\n" or "\r\n"): a token
// name, a value without control bytes, and none of the headers the WebSocket
// handshake sets itself.
inline const char* HeaderLines(const std::string& v) {
  auto lower = [](char c) -> char {
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
  };
  std::string_view rest(v);
  while (!rest.empty()) {
    const size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? "" : rest.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) {
      return "each line must be \"Name: value\"";
    }
    std::string name;
    for (char c : line.substr(0, colon)) {
      const bool tchar =
          (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z') ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
      if (!tchar) return "a header name may hold only token characters";
      name.push_back(lower(c));
    }
    for (char c : line.substr(colon + 1)) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return "a header value may not hold control bytes";
      }
    }
    if (name == "host" || name == "upgrade" || name == "connection" ||
        name.rfind("sec-websocket-", 0) == 0) {
      return "Host, Upgrade, Connection and Sec-WebSocket-* are the "
             "handshake's own";
    }
  }
  return nullptr;
}
}  // namespace opt_check

namespace opt {
// Default deadline of Send / Recv when none is given. Default: infinite.
inline constexpr OptionKey<absl::Duration> kSendTimeout{
    0, "send-timeout", &SocketOptions::send_timeout, &opt_check::NotNegative};
inline constexpr OptionKey<absl::Duration> kRecvTimeout{
    1, "recv-timeout", &SocketOptions::recv_timeout, &opt_check::NotNegative};
// Per-pipe send queue limits. Default: 1024 messages, 4 MiB.
inline constexpr OptionKey<size_t> kSendQueueMessages{
    2, "send-queue-messages", &SocketOptions::send_queue_messages,
    &opt_check::AtLeastOne};
inline constexpr OptionKey<size_t> kSendQueueBytes{
    3, "send-queue-bytes", &SocketOptions::send_queue_bytes,
    &opt_check::AtLeastOne};
// Socket receive queue limits (shared by all pipes). Default: 4096 messages,
// 8 MiB. A full queue pauses reading from the pipes (back-pressure), it never
// drops. Receivers take the queue in batches, so up to twice these limits may
// be buffered (a batch being handed out plus a full queue).
inline constexpr OptionKey<size_t> kRecvQueueMessages{
    4, "recv-queue-messages", &SocketOptions::recv_queue_messages,
    &opt_check::AtLeastOne};
inline constexpr OptionKey<size_t> kRecvQueueBytes{
    5, "recv-queue-bytes", &SocketOptions::recv_queue_bytes,
    &opt_check::AtLeastOne};
// Largest message payload (header words + body) accepted from a peer; a larger
// one closes that pipe (counted as rejected_oversize). Default 1 MiB, as
// nanomsg. 0 = no limit.
inline constexpr OptionKey<size_t> kMaxRecvSize{6, "max-recv-size",
                                                &SocketOptions::max_recv_size};
// Re-dial back-off: first retry after kReconnectMin, doubling up to
// kReconnectMax. Defaults: 100 ms and 5 s.
inline constexpr OptionKey<absl::Duration> kReconnectMin{
    7, "reconnect-min", &SocketOptions::reconnect_min, &opt_check::Positive};
inline constexpr OptionKey<absl::Duration> kReconnectMax{
    8, "reconnect-max", &SocketOptions::reconnect_max, &opt_check::NotNegative};
// Maximum hops (path length / SP backtrace words) a message may carry. Default
// 8, range 1..15.
inline constexpr OptionKey<int> kTtl{9, "ttl", &SocketOptions::ttl,
                                     &opt_check::Ttl};
// A connection whose peer has not sent its SP header within this time is
// closed. Default 10 s.
inline constexpr OptionKey<absl::Duration> kHandshakeTimeout{
    10, "handshake-timeout", &SocketOptions::handshake_timeout,
    &opt_check::Positive};
// How long Close waits for queued messages to be written, and how long a pipe
// given to ClosePipe may take to write its queue before it is closed anyway.
// Default 1 s.
inline constexpr OptionKey<absl::Duration> kLinger{
    11, "linger", &SocketOptions::linger, &opt_check::NotNegative};
// How long a receiver with nothing to receive polls before it sleeps. Sleeping
// costs a thread wake-up per message batch; polling costs CPU, which on a small
// machine the I/O thread may need (it lowered inproc latency 8x but raised
// ipc/tcp latency 1.8x on 2 vCPUs). Default 0: never polls.
inline constexpr OptionKey<absl::Duration> kRecvSpin{
    12, "recv-spin", &SocketOptions::recv_spin, &opt_check::NotNegative};
// Fan-out sockets only: what to do when a peer's send queue is full. Every
// message dropped is counted, per pipe (Socket::pipe_stats) and in
// stats().dropped. Default kDropNewest. kBlock makes one slow peer hold up
// every peer (Send returns kDeadlineExceeded and keeps the message).
inline constexpr OptionKey<Overflow> kOverflow{
    13, "overflow", &SocketOptions::overflow, &opt_check::KnownOverflow};
// ws:// pipes only: the frame type of messages (text frames carry browsers'
// JSON; their bodies must be UTF-8, or the peer closes with 1007).
//   Dialed pipes: true sends every message as a text frame and accepts text
//     frames; false (default) sends binary frames and closes the pipe with
//     1003 on a text frame, as NNG does (NNG closes on text frames too).
//   Listened pipes accept both types and answer each peer in the type of the
//     last data frame it sent, so one port serves browsers (text) and binary
//     peers (C++, NNG) alike; before a peer's first message they send text if
//     true, binary if false (default).
// Applies to pipes opened after the change.
inline constexpr OptionKey<bool> kWsText{14, "ws-text",
                                         &SocketOptions::ws_text};
// ws:// pipes only. When not zero, a ping goes to the peer after every such
// interval, and a peer that sent nothing (no data, no pong) for three intervals
// is hung up on. Default 0: no pings (nanomsg delivers pings to its
// application as if they were messages, so never ping a nanomsg peer).
inline constexpr OptionKey<absl::Duration> kWsPingInterval{
    15, "ws-ping-interval", &SocketOptions::ws_ping_interval,
    &opt_check::NotNegative};
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
inline constexpr OptionKey<std::string> kTlsCert{16, "tls-cert",
                                                 &SocketOptions::tls_cert};
inline constexpr OptionKey<std::string> kTlsKey{17, "tls-key",
                                                &SocketOptions::tls_key};
inline constexpr OptionKey<std::string> kTlsCa{18, "tls-ca",
                                               &SocketOptions::tls_ca};
// wss:// dialers: the name the listener's certificate must carry, and the name
// sent in TLS SNI (not for IP addresses). Default empty: the host of the URL.
inline constexpr OptionKey<std::string> kTlsServerName{
    19, "tls-server-name", &SocketOptions::tls_server_name};
// wss:// only. true (default): a dialer checks the listener's certificate
// (chain and name) and refuses a bad one; a listener with kTlsCa set requires
// client certificates. false: no checks (encryption without authentication:
// tests only).
inline constexpr OptionKey<bool> kTlsVerifyPeer{
    20, "tls-verify-peer", &SocketOptions::tls_verify_peer};
// tcp, ipc, ws and wss: the most bytes the socket holds, summed over all its
// pipes, for messages it has started but not finished receiving (a frame's
// body, a fragmented ws message). A message's buffer grows as its bytes arrive
// (a length prefix alone reserves little); the pipe whose growth would pass
// this limit is closed and counted in stats().rejected_unfinished_limit. Takes
// effect at once. Default 64 MiB; 0 = no limit.
inline constexpr OptionKey<size_t> kMaxUnfinishedBytes{
    21, "max-unfinished-bytes", &SocketOptions::max_unfinished_bytes};
// tcp, ipc, ws and wss: a pipe whose peer has started a message (any of its
// bytes, ws: a frame or a fragmented message) and then sends none of it for
// this long is closed and counted in stats().rejected_stalled. Time spent with
// reading paused because the receive queue is full does not count. Applies to
// pipes opened after the change. Default 30 s; 0 = never.
inline constexpr OptionKey<absl::Duration> kRecvProgressTimeout{
    22, "recv-progress-timeout", &SocketOptions::recv_progress_timeout,
    &opt_check::NotNegative};
// ws:// and wss:// dialers: extra headers for the upgrade request, one
// "Name: value" per line, e.g. "Authorization: Bearer s3cret" for a listener
// whose admission hook (msock/peer.h) checks a token. Host, Upgrade,
// Connection and Sec-WebSocket-* are refused (the handshake sets them).
// Applies to connections made after the change. Default: empty.
inline constexpr OptionKey<std::string> kWsRequestHeaders{
    23, "ws-request-headers", &SocketOptions::ws_request_headers,
    &opt_check::HeaderLines};
// tcp, ws and wss: TCP keepalive, so that a peer that vanished without
// closing (a cut link, a host that lost power) is noticed on an idle
// connection, and a connection whose sent bytes go unacknowledged is given up.
// With a value k: the first probe after k of silence, then one every
// max(k/3, 1 s); after 3 unanswered probes (or unacknowledged data for as
// long) the pipe is closed: a dead peer is noticed within k + 3 * max(k/3,
// 1 s) (60 s: within 2 min). Whole seconds (rounded up). Applies to pipes
// opened after the change. Default 60 s; 0 = off (the kernel's defaults: no
// probes, and about 15 min of retransmissions).
inline constexpr OptionKey<absl::Duration> kTcpKeepalive{
    24, "tcp-keepalive", &SocketOptions::tcp_keepalive,
    &opt_check::NotNegative};
// tcp, ipc, ws and wss dialers: how long one connection attempt (name
// resolution, TCP connect) may take. An attempt that runs out fails with
// kDeadlineExceeded ("no answer within ..."), reported as a kDialFailed pipe
// event, and the dialer tries again after its back-off (kReconnectMin/Max).
// Without it a dial to a silently unreachable host waits for the kernel (over
// a minute). Default 10 s; 0 = no limit.
inline constexpr OptionKey<absl::Duration> kConnectTimeout{
    25, "connect-timeout", &SocketOptions::connect_timeout,
    &opt_check::NotNegative};
// tcp and ipc: a receiver waiting for an answer (the socket sent since Recv
// last returned, a Req waiting for its reply, a RoomsClient's Emit waiting
// for its ack, or a rooms Hub's dispatcher waiting for requests, whose
// answers go out from other threads) reads its pipes' bytes on its own
// thread instead of waiting for the I/O thread to read them and wake it (one
// thread wake-up per message instead of two: a round trip gets close to the
// kernel's own). Used while the socket has at most 4 tcp/ipc pipes (a Hub:
// 64), by one waiting receiver at a time. After an Emit the client's pipe
// stays with its Emits for up to ~4 ms of quiet: an event arriving then
// for the client's handlers may wait that long for the I/O thread.
// Streams stay with the I/O thread, which reads the next bytes while the
// receiver consumes these: a receiver that never sends, a read of 64 KiB or
// more, a pipe whose last message was 16 KiB or more; inproc and ws too.
// Order, back-pressure and close rules are the same either way.
// stats().reads_on_caller counts these reads. Default true; the
// environment variable MSOCK_RECV_ON_CALLER=0 makes the default false (for
// comparisons).
inline constexpr OptionKey<bool> kRecvOnCaller{26, "recv-on-caller",
                                               &SocketOptions::recv_on_caller};
}  // namespace opt

}  // namespace msock

#endif  // MSOCK_OPTIONS_H_
