// TCP keepalive and user timeout of one connected socket (opt::kTcpKeepalive),
// shared by the tcp transport and the ws transport.
#ifndef MSOCK_TRANSPORTS_TCP_TCP_KEEPALIVE_H_
#define MSOCK_TRANSPORTS_TCP_TCP_KEEPALIVE_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace msock::internal {

// The probe interval kTcpKeepalive's value `idle` implies: max(idle/3, 1 s),
// whole seconds.
int KeepaliveIntervalSeconds(absl::Duration idle);

// The most time from a peer vanishing to the pipe closing for `idle`:
// idle + 3 probes (0 for idle = 0, which means off).
absl::Duration KeepaliveBound(absl::Duration idle);

// Turns keepalive on for the connected TCP socket `fd`: first probe after
// `idle` (rounded up to whole seconds), then one each interval, 3 probes; the
// same bound as TCP_USER_TIMEOUT for unacknowledged data. idle = 0 leaves the
// socket as the kernel made it. Errors name the setsockopt that failed.
absl::Status ApplyTcpKeepalive(int fd, absl::Duration idle);

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_TCP_TCP_KEEPALIVE_H_
