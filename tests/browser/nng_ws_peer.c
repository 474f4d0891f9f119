/* tests/browser/nng_ws_peer.c: the libnng peers the browser test talks to, all
 * on one ws:// port (NNG lets listeners share a port when their paths differ).
 *
 *   nng_ws_peer [--port N] [--lifetime-s S]
 *
 * Prints "ready ws://127.0.0.1:PORT" once every listener is up, then serves
 * until killed or for S seconds (default 300, so a peer the harness forgot
 * cannot outlive it for long). Paths:
 *   /rep        rep0, many requests at once (one nng_ctx per worker). The
 *               reply is "echo:" + request body. A body "drop:..." gets no
 *               reply; "delay:MS:..." is answered after MS milliseconds.
 *   /pub        pub0 publishing "news: N", "sports: N", "weather: N" in turn,
 *               one every 5 ms.
 *   /pubtext    pub0 whose listener sends TEXT frames ("text: {\"n\":N}").
 *   /pair0      pair0 echo: "echo:" + body; a body "hangup" closes that pipe.
 *   /pair1      pair1 echo, same rules.
 *   /pair0text  pair0 echo whose listener receives and sends TEXT frames.
 * Errors go to stderr with the nng_strerror text; exit status 1.
 */
#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define kRepWorkers 16
#define kPublishIntervalMs 5

static const char kEchoPrefix[] = "echo:";

static void Die(const char* what, int rv) {
  fprintf(stderr, "nng_ws_peer: %s: %s\n", what, nng_strerror(rv));
  exit(1);
}

static int BodyStartsWith(nng_msg* msg, const char* prefix) {
  size_t n = strlen(prefix);
  return nng_msg_len(msg) >= n && memcmp(nng_msg_body(msg), prefix, n) == 0;
}

static int BodyEquals(nng_msg* msg, const char* text) {
  return nng_msg_len(msg) == strlen(text) && BodyStartsWith(msg, text);
}

/* "delay:MS:..." -> MS (capped at 10 s), anything else -> 0. */
static int DelayOf(nng_msg* msg) {
  if (!BodyStartsWith(msg, "delay:")) return 0;
  char digits[8] = {0};
  size_t len = nng_msg_len(msg) - 6;
  if (len > sizeof digits - 1) len = sizeof digits - 1;
  memcpy(digits, (const char*)nng_msg_body(msg) + 6, len);
  int ms = atoi(digits);
  return ms < 0 ? 0 : (ms > 10000 ? 10000 : ms);
}

/* Creates and starts a ws listener on URL; text != 0 asks for TEXT frames in
 * both directions. Returns the bound TCP port. */
static int Listen(nng_socket s, const char* url, int text) {
  nng_listener l;
  int rv = nng_listener_create(&l, s, url);
  if (rv != 0) Die(url, rv);
  if (text && ((rv = nng_listener_set_bool(l, NNG_OPT_WS_SEND_TEXT, 1)) != 0 ||
               (rv = nng_listener_set_bool(l, NNG_OPT_WS_RECV_TEXT, 1)) != 0)) {
    Die("text-frame option", rv);
  }
  if ((rv = nng_listener_start(l, 0)) != 0) Die(url, rv);
  int port = 0;
  if ((rv = nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port)) != 0) {
    Die("bound port", rv);
  }
  return port;
}

/* --- rep: one context per worker, a small state machine on its aio. ------- */

enum RepState { kRepRecv, kRepWait, kRepSend };

struct RepWorker {
  enum RepState state;
  nng_aio* aio;
  nng_ctx ctx;
  nng_msg* msg;
};

static void RepRecv(struct RepWorker* w) {
  w->state = kRepRecv;
  nng_ctx_recv(w->ctx, w->aio);
}

static void RepSend(struct RepWorker* w) {
  w->state = kRepSend;
  nng_aio_set_msg(w->aio, w->msg);
  w->msg = NULL;
  nng_ctx_send(w->ctx, w->aio);
}

static void RepCallback(void* arg) {
  struct RepWorker* w = arg;
  int rv = nng_aio_result(w->aio);
  switch (w->state) {
    case kRepRecv:
      if (rv != 0) {
        if (rv == NNG_ECLOSED) return;
        RepRecv(w);
        return;
      }
      w->msg = nng_aio_get_msg(w->aio);
      if (BodyStartsWith(w->msg, "drop:")) {
        nng_msg_free(w->msg);
        w->msg = NULL;
        RepRecv(w);
        return;
      }
      int delay = DelayOf(w->msg);
      if (nng_msg_insert(w->msg, kEchoPrefix, strlen(kEchoPrefix)) != 0) {
        nng_msg_free(w->msg);
        w->msg = NULL;
        RepRecv(w);
        return;
      }
      if (delay > 0) {
        w->state = kRepWait;
        nng_sleep_aio(delay, w->aio);
        return;
      }
      RepSend(w);
      return;
    case kRepWait:
      RepSend(w);
      return;
    case kRepSend:
      if (rv != 0) nng_msg_free(nng_aio_get_msg(w->aio));
      RepRecv(w);
      return;
  }
}

static void StartRep(const char* url) {
  nng_socket s;
  int rv = nng_rep0_open(&s);
  if (rv != 0) Die("nng_rep0_open", rv);
  static struct RepWorker workers[kRepWorkers];
  for (int i = 0; i < kRepWorkers; i++) {
    if ((rv = nng_aio_alloc(&workers[i].aio, RepCallback, &workers[i])) != 0) {
      Die("nng_aio_alloc", rv);
    }
    if ((rv = nng_ctx_open(&workers[i].ctx, s)) != 0) Die("nng_ctx_open", rv);
  }
  Listen(s, url, 0);
  for (int i = 0; i < kRepWorkers; i++) RepRecv(&workers[i]);
}

/* --- pair echo: recv, prefix, send back, recv again. ------------------------
 */

struct PairEcho {
  nng_socket sock;
  nng_aio* aio;
  int sending;
};

static void PairCallback(void* arg) {
  struct PairEcho* p = arg;
  int rv = nng_aio_result(p->aio);
  if (p->sending) {
    if (rv != 0) nng_msg_free(nng_aio_get_msg(p->aio));
    p->sending = 0;
    nng_recv_aio(p->sock, p->aio);
    return;
  }
  if (rv == NNG_ECLOSED) return;
  if (rv != 0) {
    nng_recv_aio(p->sock, p->aio);
    return;
  }
  nng_msg* msg = nng_aio_get_msg(p->aio);
  if (BodyEquals(msg, "hangup")) {
    /* Lets the test watch the client reconnect without killing anything. */
    nng_pipe_close(nng_msg_get_pipe(msg));
    nng_msg_free(msg);
    nng_recv_aio(p->sock, p->aio);
    return;
  }
  if (nng_msg_insert(msg, kEchoPrefix, strlen(kEchoPrefix)) != 0) {
    nng_msg_free(msg);
    nng_recv_aio(p->sock, p->aio);
    return;
  }
  p->sending = 1;
  nng_aio_set_msg(p->aio, msg);
  nng_send_aio(p->sock, p->aio);
}

static void StartPair(int version, const char* url, int text) {
  struct PairEcho* p = calloc(1, sizeof *p);
  if (p == NULL) Die("calloc", NNG_ENOMEM);
  int rv = version == 1 ? nng_pair1_open(&p->sock) : nng_pair0_open(&p->sock);
  if (rv != 0) Die("nng_pair_open", rv);
  if ((rv = nng_aio_alloc(&p->aio, PairCallback, p)) != 0) {
    Die("nng_aio_alloc", rv);
  }
  Listen(p->sock, url, text);
  nng_recv_aio(p->sock, p->aio);
}

/* Opens a pub socket listening on URL; returns the bound TCP port in *port. */
static nng_socket OpenPub(const char* url, int text, int* port) {
  nng_socket s;
  int rv = nng_pub0_open(&s);
  if (rv != 0) Die("nng_pub0_open", rv);
  *port = Listen(s, url, text);
  return s;
}

static void Publish(nng_socket s, const char* text) {
  int rv = nng_send(s, (void*)text, strlen(text), 0);
  if (rv != 0) Die("nng_send", rv);
}

int main(int argc, char** argv) {
  int port = 0;
  int lifetime_s = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0) {
      port = atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--lifetime-s") == 0) {
      lifetime_s = atoi(argv[i + 1]);
    } else {
      fprintf(stderr, "usage: nng_ws_peer [--port N] [--lifetime-s S]\n");
      return 2;
    }
  }
  char url[128];
  /* The first listener picks the port; the others join its HTTP server. */
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/pub", port);
  nng_socket pub = OpenPub(url, 0, &port);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/pubtext", port);
  nng_socket pubtext = OpenPub(url, 1, &port);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/rep", port);
  StartRep(url);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/pair0", port);
  StartPair(0, url, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/pair1", port);
  StartPair(1, url, 0);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/pair0text", port);
  StartPair(0, url, 1);

  printf("ready ws://127.0.0.1:%d\n", port);
  fflush(stdout);

  static const char* const kTopics[] = {"news", "sports", "weather"};
  nng_time end = nng_clock() + (nng_time)lifetime_s * 1000;
  char text[64];
  for (unsigned n = 0; nng_clock() < end; n++) {
    snprintf(text, sizeof text, "%s: %u", kTopics[n % 3], n);
    Publish(pub, text);
    snprintf(text, sizeof text, "text: {\"n\":%u}", n);
    Publish(pubtext, text);
    nng_msleep(kPublishIntervalMs);
  }
  return 0;
}
