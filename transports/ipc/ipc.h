// ipc:// transport entry point.
#ifndef MSOCK_TRANSPORTS_IPC_IPC_H_
#define MSOCK_TRANSPORTS_IPC_IPC_H_

#include "transports/transport.h"

namespace msock::internal {
Transport* IpcTransportInstance();
}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_IPC_IPC_H_
