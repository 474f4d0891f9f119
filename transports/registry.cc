// The transports msock knows, by URL scheme. Registered explicitly here,
// nowhere else.
#include "transports/inproc/inproc.h"
#include "transports/ipc/ipc.h"
#include "transports/tcp/tcp.h"
#include "transports/transport.h"
#include "transports/ws/ws.h"

namespace msock::internal {

Transport* FindTransport(std::string_view scheme) {
  if (scheme == "tcp") return TcpTransportInstance();
  if (scheme == "ipc") return IpcTransportInstance();
  if (scheme == "inproc") return InprocTransportInstance();
  if (scheme == "ws" || scheme == "wss") return WsTransportInstance();
  return nullptr;
}

}  // namespace msock::internal
