/* tests/interop/nng_wss_peer.c: a small libnng program with its own TLS
 * configuration, the wss:// peer of wss_interop_test.cc.
 *
 *   nng_wss_peer rep-listen URL --cert F --key F [--ca F] [--require-client]
 *     A rep0 listening on URL (wss://). Prints "listening" once it does, then
 *     for every request prints "request <body>" ("request of <n> bytes" over
 *     1000 bytes) and answers "pong:<body>".
 *     With --require-client, clients must show a certificate signed by --ca.
 *   nng_wss_peer req-dial URL --ca F [--server-name N] [--cert F --key F]
 *     A req0 dialing URL, checking the listener's certificate against --ca and
 *     the name N (default: NNG's, from the URL). Sends "ping" and prints
 *     "reply <body>"; exits 0 on a reply, 1 otherwise.
 *
 * Lines are flushed at once; errors go to stderr with nng_strerror's text.
 * Gives up after --timeout-ms (default 20000).
 */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int Fail(const char* what, int rv) {
  fprintf(stderr, "nng_wss_peer: %s: %s\n", what, nng_strerror(rv));
  return 1;
}

static int Usage(void) {
  fprintf(stderr,
          "usage: nng_wss_peer rep-listen|req-dial URL [--cert F --key F] "
          "[--ca F] [--server-name N] [--require-client] [--timeout-ms N]\n");
  return 2;
}

struct Args {
  const char* mode;
  const char* url;
  const char* cert;
  const char* key;
  const char* ca;
  const char* server_name;
  int require_client;
  int timeout_ms;
};

/* The whole of file `path` as a NUL-terminated string (malloc'ed), or NULL. */
static char* ReadAll(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 4096, len = 0, n;
  char* buf = malloc(cap);
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  buf[len] = '\0';
  return buf;
}

/* A TLS configuration for `mode` from the arguments. */
static int MakeTls(const struct Args* a, nng_tls_mode mode,
                   nng_tls_config** out) {
  nng_tls_config* cfg;
  int rv = nng_tls_config_alloc(&cfg, mode);
  if (rv != 0) return Fail("nng_tls_config_alloc", rv);
  if (a->cert != NULL) {
    char* cert = ReadAll(a->cert);
    char* key = a->key != NULL ? ReadAll(a->key) : NULL;
    rv = cert != NULL && key != NULL
             ? nng_tls_config_own_cert(cfg, cert, key, NULL)
             : NNG_ENOENT;
    free(cert);
    free(key);
    if (rv != 0) return Fail("nng_tls_config_own_cert", rv);
  }
  if (a->ca != NULL && (rv = nng_tls_config_ca_file(cfg, a->ca)) != 0)
    return Fail("nng_tls_config_ca_file", rv);
  if (a->server_name != NULL &&
      (rv = nng_tls_config_server_name(cfg, a->server_name)) != 0)
    return Fail("nng_tls_config_server_name", rv);
  nng_tls_auth_mode auth = NNG_TLS_AUTH_MODE_NONE;
  if (mode == NNG_TLS_MODE_CLIENT) auth = NNG_TLS_AUTH_MODE_REQUIRED;
  if (mode == NNG_TLS_MODE_SERVER && a->require_client)
    auth = NNG_TLS_AUTH_MODE_REQUIRED;
  if ((rv = nng_tls_config_auth_mode(cfg, auth)) != 0)
    return Fail("nng_tls_config_auth_mode", rv);
  *out = cfg;
  return 0;
}

static int RepListen(const struct Args* a) {
  nng_socket s;
  nng_listener l;
  nng_tls_config* cfg;
  int rv;
  if ((rv = nng_rep0_open(&s)) != 0) return Fail("nng_rep0_open", rv);
  nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, a->timeout_ms);
  if (MakeTls(a, NNG_TLS_MODE_SERVER, &cfg) != 0) return 1;
  if ((rv = nng_listener_create(&l, s, a->url)) != 0)
    return Fail("nng_listener_create", rv);
  if ((rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg)) != 0)
    return Fail("NNG_OPT_TLS_CONFIG", rv);
  nng_tls_config_free(cfg);
  if ((rv = nng_listener_start(l, 0)) != 0)
    return Fail("nng_listener_start", rv);
  printf("listening\n");
  fflush(stdout);
  for (;;) {
    nng_msg* m;
    if ((rv = nng_recvmsg(s, &m, 0)) != 0) return Fail("nng_recvmsg", rv);
    size_t len = nng_msg_len(m);
    if (len <= 1000) {
      printf("request %.*s\n", (int)len, (const char*)nng_msg_body(m));
    } else { /* the test reads its output only after the reply */
      printf("request of %zu bytes\n", len);
    }
    fflush(stdout);
    char* reply = malloc(len + 5);
    memcpy(reply, "pong:", 5);
    memcpy(reply + 5, nng_msg_body(m), len);
    nng_msg_clear(m);
    nng_msg_append(m, reply, len + 5);
    free(reply);
    if ((rv = nng_sendmsg(s, m, 0)) != 0) {
      nng_msg_free(m);
      return Fail("nng_sendmsg", rv);
    }
  }
}

static int ReqDial(const struct Args* a) {
  nng_socket s;
  nng_dialer d;
  nng_tls_config* cfg;
  int rv;
  if ((rv = nng_req0_open(&s)) != 0) return Fail("nng_req0_open", rv);
  nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, a->timeout_ms);
  nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, a->timeout_ms);
  if (MakeTls(a, NNG_TLS_MODE_CLIENT, &cfg) != 0) return 1;
  if ((rv = nng_dialer_create(&d, s, a->url)) != 0)
    return Fail("nng_dialer_create", rv);
  if ((rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg)) != 0)
    return Fail("NNG_OPT_TLS_CONFIG", rv);
  nng_tls_config_free(cfg);
  if ((rv = nng_dialer_start(d, 0)) != 0) return Fail("nng_dialer_start", rv);
  if ((rv = nng_send(s, "ping", 4, 0)) != 0) return Fail("nng_send", rv);
  char* buf = NULL;
  size_t len = 0;
  if ((rv = nng_recv(s, &buf, &len, NNG_FLAG_ALLOC)) != 0)
    return Fail("nng_recv", rv);
  printf("reply %.*s\n", (int)len, buf);
  fflush(stdout);
  nng_free(buf, len);
  nng_close(s);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  struct Args a = {argv[1], argv[2], NULL, NULL, NULL, NULL, 0, 20000};
  for (int i = 3; i < argc; ++i) {
    const char* o = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(o, "--require-client") == 0) {
      a.require_client = 1;
      continue;
    }
    if (v == NULL) return Usage();
    ++i;
    if (strcmp(o, "--cert") == 0) {
      a.cert = v;
    } else if (strcmp(o, "--key") == 0) {
      a.key = v;
    } else if (strcmp(o, "--ca") == 0) {
      a.ca = v;
    } else if (strcmp(o, "--server-name") == 0) {
      a.server_name = v;
    } else if (strcmp(o, "--timeout-ms") == 0) {
      a.timeout_ms = atoi(v);
    } else {
      return Usage();
    }
  }
  if (strcmp(a.mode, "rep-listen") == 0) {
    if (a.cert == NULL || a.key == NULL) return Usage();
    return RepListen(&a);
  }
  if (strcmp(a.mode, "req-dial") == 0) {
    if (a.ca == NULL) return Usage();
    return ReqDial(&a);
  }
  return Usage();
}
