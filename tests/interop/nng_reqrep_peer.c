/* tests/interop/nng_reqrep_peer.c: a small libnng req / raw-rep peer for the
 * device interop tests (device_interop_test.cc).
 *
 *   nng_reqrep_peer rep-raw (--listen|--dial) URL --data REPLY
 *     Opens a RAW rep (nng_rep0_open_raw) so that the SP backtrace stays
 *     visible in the message header. For every request it prints one line
 *       request <body> backtrace <w1> <w2> ...
 *     with the backtrace words as they came on the wire (8 hex digits each,
 *     nearest hop first, the request id last), then sends REPLY back with the
 *     same header. NNG's raw rep puts the id of its own pipe in front of the
 *     wire words; that word is local (it names the pipe to answer on) and is
 *     not printed.
 *   nng_reqrep_peer req (--listen|--dial) URL --data BODY [--timeout-ms N]
 *     Opens a cooked req, sends BODY once, waits up to N ms (default 10000) for
 *     the reply and prints "reply <body>"; exits 0 on a reply, 1 otherwise.
 *
 * Every line is flushed at once (the test reads them through a pipe). Errors go
 * to stderr with the nng_strerror text.
 */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int Fail(const char* what, int rv) {
  fprintf(stderr, "nng_reqrep_peer: %s: %s\n", what, nng_strerror(rv));
  return 1;
}

static int Usage(void) {
  fprintf(stderr,
          "usage: nng_reqrep_peer rep-raw|req --listen|--dial URL --data DATA "
          "[--timeout-ms N]\n");
  return 2;
}

static uint32_t GetWord(const unsigned char* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int Attach(nng_socket s, int listen, const char* url) {
  int rv = listen ? nng_listen(s, url, NULL, 0) : nng_dial(s, url, NULL, 0);
  if (rv != 0) return Fail(listen ? "nng_listen" : "nng_dial", rv);
  return 0;
}

static int RunRawRep(int listen, const char* url, const char* data) {
  nng_socket s;
  int rv = nng_rep0_open_raw(&s);
  if (rv != 0) return Fail("nng_rep0_open_raw", rv);
  if (Attach(s, listen, url) != 0) return 1;
  for (;;) {
    nng_msg* req = NULL;
    rv = nng_recvmsg(s, &req, 0);
    if (rv != 0) return Fail("nng_recvmsg", rv);
    const unsigned char* hdr = (const unsigned char*)nng_msg_header(req);
    size_t hlen = nng_msg_header_len(req);
    if (hlen < 4 || hlen % 4 != 0) {
      fprintf(stderr, "nng_reqrep_peer: unexpected header length %zu\n", hlen);
      return 1;
    }
    printf("request %.*s backtrace", (int)nng_msg_len(req),
           (const char*)nng_msg_body(req));
    for (size_t i = 4; i < hlen; i += 4) printf(" %08x", GetWord(hdr + i));
    printf("\n");
    fflush(stdout);

    nng_msg* rep = NULL;
    rv = nng_msg_alloc(&rep, 0);
    if (rv != 0) return Fail("nng_msg_alloc", rv);
    if ((rv = nng_msg_header_append(rep, hdr, hlen)) != 0 ||
        (rv = nng_msg_append(rep, data, strlen(data))) != 0) {
      return Fail("nng_msg_append", rv);
    }
    nng_msg_free(req);
    rv = nng_sendmsg(s, rep, 0);
    if (rv != 0) {
      nng_msg_free(rep);
      return Fail("nng_sendmsg", rv);
    }
  }
}

static int RunReq(int listen, const char* url, const char* data,
                  int timeout_ms) {
  nng_socket s;
  int rv = nng_req0_open(&s);
  if (rv != 0) return Fail("nng_req0_open", rv);
  if ((rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms)) != 0 ||
      (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms)) != 0) {
    return Fail("nng_socket_set_ms", rv);
  }
  if (Attach(s, listen, url) != 0) return 1;
  rv = nng_send(s, (void*)data, strlen(data), 0);
  if (rv != 0) return Fail("nng_send", rv);
  char* buf = NULL;
  size_t len = 0;
  rv = nng_recv(s, &buf, &len, NNG_FLAG_ALLOC);
  if (rv != 0) return Fail("nng_recv", rv);
  printf("reply %.*s\n", (int)len, buf);
  fflush(stdout);
  nng_free(buf, len);
  nng_close(s);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc % 2 != 0) return Usage();
  const char* mode = argv[1];
  const char* url = NULL;
  const char* data = NULL;
  int listen = 0;
  int timeout_ms = 10000;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--listen") == 0 || strcmp(argv[i], "--dial") == 0) {
      listen = strcmp(argv[i], "--listen") == 0;
      url = argv[i + 1];
    } else if (strcmp(argv[i], "--data") == 0) {
      data = argv[i + 1];
    } else if (strcmp(argv[i], "--timeout-ms") == 0) {
      timeout_ms = atoi(argv[i + 1]);
    } else {
      return Usage();
    }
  }
  if (url == NULL || data == NULL) return Usage();
  if (strcmp(mode, "rep-raw") == 0) return RunRawRep(listen, url, data);
  if (strcmp(mode, "req") == 0) return RunReq(listen, url, data, timeout_ms);
  return Usage();
}
