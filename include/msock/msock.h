// msock/msock.h: everything a user of msock needs, in one include.
//
// Example:
//   #include "msock/msock.h"
//   msock::Pull pull;
//   std::string url = pull.Listen("tcp://127.0.0.1:0").value();
#ifndef MSOCK_MSOCK_H_
#define MSOCK_MSOCK_H_

#include "msock/context.h"
#include "msock/export.h"
#include "msock/message.h"
#include "msock/options.h"
#include "msock/protocols/bus.h"
#include "msock/protocols/device.h"
#include "msock/protocols/inspector.h"
#include "msock/protocols/pair.h"
#include "msock/protocols/pipeline.h"
#include "msock/protocols/pubsub.h"
#include "msock/protocols/queue.h"
#include "msock/protocols/recipes.h"
#include "msock/protocols/reqrep.h"
#include "msock/protocols/rooms.h"
#include "msock/protocols/services.h"
#include "msock/protocols/survey.h"
#include "msock/protocols/topics.h"
#include "msock/socket.h"
#include "msock/static_files.h"
#include "msock/status.h"
#include "msock/url.h"

#endif  // MSOCK_MSOCK_H_
