// tcp:// transport entry point.
#ifndef MSOCK_TRANSPORTS_TCP_TCP_H_
#define MSOCK_TRANSPORTS_TCP_TCP_H_

#include "transports/transport.h"

namespace msock::internal {
Transport* TcpTransportInstance();
}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_TCP_TCP_H_
