// RoomsClient::Impl: the state behind a RoomsClient: its one connection (pipe)
// and whether the hub has welcomed it, the acks it waits for, its handlers
// and threads. The pipe hook says Hello on every new connection; the receive
// filter takes Welcome / Refused / Ack; the dispatcher thread runs the event
// handlers (or hands them to handler threads). Nothing is sent and no user
// callback runs under mu.
#ifndef MSOCK_PROTOCOLS_ROOMS_CLIENT_IMPL_H_
#define MSOCK_PROTOCOLS_ROOMS_CLIENT_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "msock/protocols/rooms.h"
#include "protocols/rooms/codec.h"
#include "protocols/rooms/handlers.h"
#include "protocols/rooms/runtime.h"

namespace msock {

struct RoomsClient::Impl {
  Impl(const RoomsClientOptions& options, Socket* socket);

  void Close();

  // ---- client_dispatch.cc ----
  // The receive filter (I/O thread, under the socket's lock): Welcome,
  // Refused and Ack are handled there; events are kept for the dispatcher.
  internal::RecvVerdict Filter(Message& m);
  // Handles a Welcome, Refused or Ack (true), else false. Never calls the
  // socket and never waits.
  bool HandleControl(uint32_t pipe, msock::rooms::Envelope& env);
  void DispatchLoop();
  void PipeAdded(uint32_t pipe);
  void PipeRemoved(uint32_t pipe);
  void HandleEvent(uint32_t pipe, msock::rooms::Event& event);
  void Malformed(uint32_t pipe);

  // ---- client.cc ----
  // Waits until welcomed; returns the current pipe. The refusal, or
  // kDeadlineExceeded, kCancelled, kFailedPrecondition (closed before).
  absl::StatusOr<uint32_t> WaitWelcomed(absl::Time deadline);
  absl::Status SendEnvelope(uint32_t pipe, const msock::rooms::Envelope& env,
                            absl::Time deadline);
  // Once welcomed, sends the envelope `make(id)` makes for a fresh ack id
  // (`done` null: the caller will Wait for it). `event`: count it in
  // events_out. Returns the id.
  absl::StatusOr<uint32_t> StartRequest(
      absl::Time deadline, bool event, AckCallback done,
      const std::function<msock::rooms::Envelope(uint32_t id)>& make);
  // StartRequest, then waits for the ack.
  absl::StatusOr<std::string> Request(
      absl::Time deadline, bool event,
      const std::function<msock::rooms::Envelope(uint32_t id)>& make);
  // Join (or leave) `room` in `ns`.
  absl::Status RoomRequest(bool leave, std::string_view room,
                           absl::Time deadline, std::string_view ns);

  const RoomsClientOptions opts;
  const internal::rooms::Encoding enc;
  const bool inline_handlers;  // threads <= 1: events run on the dispatcher
  Socket* const socket;
  internal::rooms::Handlers handlers;
  internal::rooms::Runtime rt;  // acks, dispatcher, executor

  std::mutex hooks_mu;
  std::function<void(const std::string&, bool)> reconnected_hook;
  std::function<void()> disconnected_hook;
  // internal::ClientAccess: run after reconnected_hook.
  std::map<uint64_t, std::function<void(const std::string&, bool)>>
      reconnect_listeners;
  uint64_t next_listener = 1;

  mutable std::mutex mu;
  std::condition_variable cv;  // welcome, refusal, close
  bool closed = false;
  uint32_t pipe = 0;  // the current connection, 0 if none
  bool welcomed = false;
  std::string id;  // the last id the hub gave
  int welcomes = 0;
  absl::Status refusal;

  std::atomic<uint64_t> events_in{0}, events_out{0}, handler_errors{0},
      malformed{0}, reconnects{0};
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_ROOMS_CLIENT_IMPL_H_
