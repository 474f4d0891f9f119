// msock/protocols/inspector.h: a hub's live state as read-only topics, for
// the inspector page (clients/js/inspector.html, served with StaticFiles) and
// any other client that wants to watch a hub.
//
// Every `interval` the inspector reads the hub and, when something changed,
// sets these dict topics on the TopicHost (created if missing):
//   _sys/clients   client id -> {"rooms": ["/lobby", ...], "topics": [...]}
//                  (rooms as "<namespace><room>" without a client's own room)
//   _sys/services  what `services_json` returns (a JSON object), if given
// The TopicHost keeps _sys/topics (name -> type) itself; values and versions
// of the topics come from subscribing to them.
//
// Example:
//   msock::Hub hub;
//   msock::TopicHost topics(hub);
//   msock::HubInspector inspector(hub, topics);
//   std::string url = hub.Listen("ws://127.0.0.1:0/hub").value();
//   // A page from StaticFiles::Serve(<same port>/inspector, "clients/js")
//   // opens inspector.html?hub=<url> and shows the hub live.
//
// Threading: it runs on the hub's callback thread; the destructor stops it.
#ifndef MSOCK_PROTOCOLS_INSPECTOR_H_
#define MSOCK_PROTOCOLS_INSPECTOR_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "msock/export.h"
#include "msock/protocols/rooms.h"
#include "msock/protocols/topics.h"

namespace msock {

struct InspectorOptions {
  absl::Duration interval = absl::Milliseconds(250);
  // The value of _sys/services (a JSON object), or null for no such topic.
  std::function<std::string()> services_json;
};

class MSOCK_EXPORT HubInspector {
 public:
  HubInspector(Hub& hub, TopicHost& topics,
               const InspectorOptions& options = {});
  ~HubInspector();
  HubInspector(const HubInspector&) = delete;
  HubInspector& operator=(const HubInspector&) = delete;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_INSPECTOR_H_
