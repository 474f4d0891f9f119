// ws:// transport entry point (and wss:// once TLS options exist).
#ifndef MSOCK_TRANSPORTS_WS_WS_H_
#define MSOCK_TRANSPORTS_WS_WS_H_

#include "transports/transport.h"

namespace msock::internal {
Transport* WsTransportInstance();
}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_WS_WS_H_
