// HubInspector: polls the hub's clients and rooms (and an optional services
// source) on the hub's callback thread and mirrors them into "_sys/" topics
// when they change.
#include "msock/protocols/inspector.h"

#include <atomic>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "protocols/rooms/hub_access.h"
#include "protocols/topics/change.h"

namespace msock {

namespace tp = internal::topics;

struct HubInspector::Impl {
  Hub* hub;
  TopicHost* topics;
  InspectorOptions opts;
  std::mutex mu;  // the last values published
  std::string last_clients, last_services;
  std::atomic<bool> stopped{false};

  // The JSON of _sys/clients now.
  std::string ClientsJson() {
    google::protobuf::Value all;
    auto* fields = all.mutable_struct_value()->mutable_fields();
    for (const std::string& id : hub->Clients()) {
      google::protobuf::Value entry;
      auto* e = entry.mutable_struct_value()->mutable_fields();
      auto* rooms = (*e)["rooms"].mutable_list_value();
      auto* subs = (*e)["topics"].mutable_list_value();
      for (const auto& [ns, room] : hub->RoomsOf(id)) {
        if (ns == tp::kNamespace) {
          subs->add_values()->set_string_value(room);
        } else if (!(ns == kDefaultNamespace && room == id)) {
          rooms->add_values()->set_string_value(ns == "/" ? "/" + room
                                                          : ns + "/" + room);
        }
      }
      (*fields)[id] = std::move(entry);
    }
    return tp::ToJson(all);
  }

  void Publish(const std::string& topic, const std::string& json,
               std::string* last) {
    if (json == *last) return;
    absl::Status st = topics->Create(topic, TopicType::kDict);
    if (!st.ok() && !absl::IsAlreadyExists(st)) return;
    if (topics->Apply({changes::Set(topic, json)}).ok()) *last = json;
  }

  void Tick() {
    if (stopped) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      Publish("_sys/clients", ClientsJson(), &last_clients);
      if (opts.services_json) {
        Publish("_sys/services", opts.services_json(), &last_services);
      }
    }
  }
};

namespace {

void Arm(const std::shared_ptr<HubInspector::Impl>& impl) {
  std::weak_ptr<HubInspector::Impl> weak = impl;
  internal::HubAccess::After(
      *impl->hub, absl::Now() + impl->opts.interval, [weak] {
        std::shared_ptr<HubInspector::Impl> self = weak.lock();
        if (!self || self->stopped) return;
        self->Tick();
        Arm(self);
      });
}

}  // namespace

HubInspector::HubInspector(Hub& hub, TopicHost& topics,
                           const InspectorOptions& options)
    : impl_(std::make_shared<Impl>()) {
  impl_->hub = &hub;
  impl_->topics = &topics;
  impl_->opts = options;
  impl_->Tick();
  Arm(impl_);
}

HubInspector::~HubInspector() {
  impl_->stopped = true;
  std::lock_guard<std::mutex> lock(impl_->mu);  // a Tick in progress ends
}

}  // namespace msock
