// Handlers: copy-on-write handler table and the middleware chain runner. User
// exceptions stop here: they become a kInternal ack and never reach the
// dispatcher or the I/O thread.
#include "protocols/rooms/handlers.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "protocols/rooms/runtime.h"

namespace msock::internal::rooms {

template <typename Fn>
void Handlers::Update(Fn change) {
  std::shared_ptr<const Table> old;  // released after unlocking
  std::lock_guard<std::mutex> lock(mu_);
  auto next = std::make_shared<Table>(*table_);
  change(*next);
  old = std::exchange(table_, std::move(next));
}

void Handlers::On(std::string_view name, EventHandler handler) {
  Update([&](Table& t) {
    if (handler) {
      t.on[std::string(name)] = std::move(handler);
    } else {
      t.on.erase(std::string(name));
    }
  });
}

void Handlers::Otherwise(EventHandler handler) {
  Update([&](Table& t) { t.otherwise = std::move(handler); });
}

void Handlers::Use(Middleware middleware) {
  if (!middleware) return;
  Update([&](Table& t) { t.chain.push_back(std::move(middleware)); });
}

std::shared_ptr<const Handlers::Table> Handlers::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

namespace {

absl::StatusOr<std::string> RunFrom(
    const std::vector<Middleware>& chain, size_t i, RoomEvent& ev,
    const absl::flat_hash_map<std::string, EventHandler>& on,
    const EventHandler& otherwise) {
  if (i < chain.size()) {
    Next next = [&chain, i, &ev, &on, &otherwise] {
      return RunFrom(chain, i + 1, ev, on, otherwise);
    };
    return chain[i](ev, next);
  }
  auto it = on.find(ev.name);
  if (it != on.end()) return it->second(ev);
  if (otherwise) return otherwise(ev);
  return absl::UnimplementedError(
      absl::StrCat("no handler for event \"", ev.name, "\""));
}

}  // namespace

absl::StatusOr<std::string> Handlers::Dispatch(RoomEvent& ev) const {
  std::shared_ptr<const Table> t = Snapshot();
  return Guarded("handler",
                 [&] { return RunFrom(t->chain, 0, ev, t->on, t->otherwise); });
}

}  // namespace msock::internal::rooms
