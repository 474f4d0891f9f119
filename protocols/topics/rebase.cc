// String rebasing: the transform of an insert / delete over a later change,
// and the bounded per-topic history it runs over.
#include "protocols/topics/rebase.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace msock::internal::topics {

namespace {

// `s` split into code points.
std::vector<std::string> Points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    while (i + n < s.size() &&
           (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) {
      ++n;
    }
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string Join(const std::vector<std::string>& p, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to && i < p.size(); ++i) out += p[i];
  return out;
}

int64_t Length(const pb::Change& c) {
  return static_cast<int64_t>(Points(c.text()).size());
}

}  // namespace

void TransformOver(pb::Change& mine, const pb::Change& other) {
  const bool ins = mine.type() == "insert";
  if (other.type() == "set") {  // the whole text changed: start over at 0
    mine.set_position(0);
    if (!ins) mine.clear_text();
    return;
  }
  const int64_t p = mine.position();
  const int64_t q = other.position();
  const int64_t n = Length(other);
  if (other.type() == "insert") {
    if (ins) {
      if (q < p) mine.set_position(static_cast<int32_t>(p + n));
      return;
    }
    const int64_t end = p + Length(mine);
    if (q <= p) {
      mine.set_position(static_cast<int32_t>(p + n));
    } else if (q < end) {  // inserted inside my range: delete it too
      std::vector<std::string> t = Points(mine.text());
      mine.set_text(Join(t, 0, q - p) + other.text() +
                    Join(t, q - p, t.size()));
    }
    return;
  }
  if (other.type() != "delete") return;
  const int64_t oend = q + n;
  if (ins) {
    if (oend <= p) {
      mine.set_position(static_cast<int32_t>(p - n));
    } else if (q < p) {  // inside the deleted range: dropped
      mine.set_position(static_cast<int32_t>(q));
      mine.clear_text();
    }
    return;
  }
  const int64_t end = p + Length(mine);
  if (oend <= p) {
    mine.set_position(static_cast<int32_t>(p - n));
  } else if (q < end) {  // overlap: keep only what is still there
    std::vector<std::string> t = Points(mine.text());
    std::string left = q > p ? Join(t, 0, q - p) : "";
    std::string right = oend < end ? Join(t, oend - p, t.size()) : "";
    mine.set_position(static_cast<int32_t>(std::min(p, q)));
    mine.set_text(left + right);
  }
}

void StringHistory::Record(uint64_t version, const std::string& origin,
                           const std::vector<pb::Change>& changes) {
  entries_.push_back(Entry{version, origin, changes});
  while (entries_.size() > max_) entries_.pop_front();
}

absl::Status StringHistory::Rebase(pb::Change& c, const std::string& origin,
                                   uint64_t current) const {
  if (!c.has_base() || c.base() >= current) return absl::OkStatus();
  if (entries_.empty() || entries_.front().version > c.base() + 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stale base version ", c.base(), " (now ", current, "): resubscribe"));
  }
  for (const Entry& e : entries_) {
    if (e.version <= c.base()) continue;
    if (!origin.empty() && e.origin == origin) continue;
    for (const pb::Change& other : e.changes) TransformOver(c, other);
  }
  return absl::OkStatus();
}

}  // namespace msock::internal::topics
