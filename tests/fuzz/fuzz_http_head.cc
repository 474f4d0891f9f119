// libFuzzer target: ParseRequestHead / ParseResponseHead and the upgrade checks
// (transports/ws/ws_codec.h) on arbitrary bytes. Checks that they never crash,
// that parsed heads keep their promises (lower-case token names, trimmed
// values, no CR/LF), that a prefix never parses differently from the whole
// (nor the whole parsed after the prefix with the prefix's scan offset),
// and that what CheckUpgradeRequest accepts makes a 101 that
// CheckUpgradeResponse accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "transports/ws/ws_codec.h"

namespace {

namespace ws = msock::internal::ws;

constexpr std::string_view kSub = "rep.sp.nanomsg.org";

void Require(bool ok) {
  if (!ok) std::abort();
}

bool NoCrLf(std::string_view s) {
  return s.find('\r') == std::string_view::npos &&
         s.find('\n') == std::string_view::npos;
}

void CheckHead(const ws::HttpHead& h, size_t input_size) {
  Require(h.head_size >= 4 && h.head_size <= input_size &&
          h.head_size <= ws::kMaxHeadSize);
  Require(NoCrLf(h.method) && NoCrLf(h.target) && NoCrLf(h.reason));
  for (const auto& [name, value] : h.headers) {
    Require(!name.empty() && NoCrLf(name) && NoCrLf(value));
    for (char c : name)
      Require(!(c >= 'A' && c <= 'Z') && c != ' ' && c != ':');
    if (!value.empty()) {
      Require(value.front() != ' ' && value.front() != '\t');
      Require(value.back() != ' ' && value.back() != '\t');
    }
  }
}

bool SameHead(const ws::HttpHead& a, const ws::HttpHead& b) {
  return a.method == b.method && a.target == b.target && a.status == b.status &&
         a.reason == b.reason && a.headers == b.headers &&
         a.head_size == b.head_size;
}

using Parsed = absl::StatusOr<std::optional<ws::HttpHead>>;
using ParseFn = Parsed (*)(std::string_view, size_t*);

bool SameParse(const Parsed& a, const Parsed& b) {
  if (!a.ok() || !b.ok()) return a.status() == b.status();
  if (a->has_value() != b->has_value()) return false;
  return !a->has_value() || SameHead(**a, **b);
}

// Parses `in` and a prefix of it, and the whole again after the prefix with
// the prefix's scan offset (as a pipe reading in two parts does); returns the
// head if complete.
std::optional<ws::HttpHead> ParseChecked(ParseFn parse, std::string_view in,
                                         size_t cut) {
  Parsed full = parse(in, nullptr);
  size_t scanned = 0;
  Parsed prefix = parse(in.substr(0, cut), &scanned);
  if (!full.ok()) {
    Require(full.status().code() == absl::StatusCode::kInvalidArgument);
  }
  if (!prefix.ok()) {
    Require(!full.ok());  // an error in a prefix is an error in the whole
    return std::nullopt;
  }
  if (prefix->has_value()) {
    // A complete prefix is the same head, whatever follows it.
    Require(full.ok() && full->has_value() && SameHead(**prefix, **full));
  } else {
    Require(scanned <= cut);
    Require(SameParse(parse(in, &scanned), full));
  }
  if (!full.ok() || !full->has_value()) return std::nullopt;
  CheckHead(**full, in.size());
  // The head alone parses the same.
  Parsed alone = parse(in.substr(0, (*full)->head_size), nullptr);
  Require(alone.ok() && alone->has_value() && SameHead(**alone, **full));
  return **full;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t cut = size == 0 ? 0 : data[size - 1] * size / 256;

  if (std::optional<ws::HttpHead> req =
          ParseChecked(ws::ParseRequestHead, in, cut)) {
    Require(req->method.size() > 0 && req->target.size() > 0);
    absl::StatusOr<std::string> key = ws::CheckUpgradeRequest(*req, kSub);
    if (key.ok()) {
      Require(key->size() == 24);
      // Our 101 for it passes the dialer's check.
      std::optional<ws::HttpHead> resp =
          ParseChecked(ws::ParseResponseHead,
                       ws::UpgradeResponse(ws::AcceptKey(*key), kSub), 0);
      Require(resp.has_value() &&
              ws::CheckUpgradeResponse(*resp, *key, kSub).ok());
    } else {
      const std::string msg(key.status().message());
      Require(key.status().code() == absl::StatusCode::kInvalidArgument);
      Require(msg.rfind("400: ", 0) == 0 || msg.rfind("426: ", 0) == 0);
    }
    // Rebuilding a request from its host and target round-trips.
    if (const std::string* host = req->Find("host")) {
      const std::string again =
          ws::UpgradeRequest(*host, req->target, ws::NewClientKey(), kSub);
      std::optional<ws::HttpHead> back =
          ParseChecked(ws::ParseRequestHead, again, again.size() / 2);
      Require(back.has_value() && back->target == req->target &&
              *back->Find("host") == *host &&
              ws::CheckUpgradeRequest(*back, kSub).ok());
    }
  }

  if (std::optional<ws::HttpHead> resp =
          ParseChecked(ws::ParseResponseHead, in, cut)) {
    Require(resp->status >= 100 && resp->status <= 599);
    absl::Status s =
        ws::CheckUpgradeResponse(*resp, "dGhlIHNhbXBsZSBub25jZQ==", kSub);
    if (resp->status != 101) {
      Require(s.code() == absl::StatusCode::kUnavailable);
    } else {
      Require(s.ok() || s.code() == absl::StatusCode::kDataLoss);
    }
    // An error response with this status and reason parses back to them.
    const std::string err = ws::ErrorResponse(resp->status, resp->reason,
                                              in.substr(resp->head_size));
    std::optional<ws::HttpHead> back =
        ParseChecked(ws::ParseResponseHead, err, 0);
    Require(back.has_value() && back->status == resp->status &&
            back->reason == resp->reason &&
            err.size() - back->head_size == size - resp->head_size + 1);
  }
  return 0;
}
