// inproc:// transport entry point.
#ifndef MSOCK_TRANSPORTS_INPROC_INPROC_H_
#define MSOCK_TRANSPORTS_INPROC_INPROC_H_

#include "transports/transport.h"

namespace msock::internal {
Transport* InprocTransportInstance();
}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_INPROC_INPROC_H_
