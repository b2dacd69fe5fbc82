/*
 * The built-in target on OpenSSL directly: see target_server.h for why it exists.
 *
 * Each thread runs one epoll loop over its own connections and accepts from the shared listening
 * socket (EPOLLEXCLUSIVE wakes one thread per connection). A connection goes: handshake
 * (SSL_do_handshake until done or failed, counted once either way) → answer (an HTTP request gets
 * the keep-alive response, a request with Connection: close the closing one and close_notify, any
 * other chunk the raw response) → close (the client's close_notify answered with ours, as Node's
 * server does). Counters are per thread, written by their thread only and summed on demand.
 */
#define _GNU_SOURCE
#include "target_server.h"

#include "error_names.h"
#include "handshake_loop.h"   /* monotonic_ms */
#include "pem_credentials.h"
#include "trust.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* A request head larger than this is not a benchmark client: drop the connection (as target-server.ts). */
#define MAX_REQUEST_HEAD (64 * 1024)
#define READ_CHUNK 16384
#define EVENTS_PER_WAIT 256
/* After EMFILE/ENFILE on accept: stop accepting for this long rather than spin on the ready listener. */
#define ACCEPT_PAUSE_MS 10
/* How often handshakes (and lingering closes) are checked against their deadlines. */
#define SWEEP_MS 250
/* How long a connection whose handshake failed is drained before it is closed anyway. */
#define LINGER_MS 2000

enum mode { MODE_UNKNOWN, MODE_HTTP, MODE_RAW };

typedef struct worker worker_t;

typedef struct conn {
  struct conn *prev, *next;
  worker_t *worker;
  int fd;
  SSL *ssl;
  double accepted_at;            /* monotonic ms, for the handshake timeout */
  double linger_until;           /* > 0: the handshake failed; draining until the client closes */
  int established;
  /* The server's Finished went out and then the client's came in: the handshake is complete for
     both sides even if what follows it (the TLS 1.3 tickets) cannot be written. */
  int wrote_finished, read_finished;
  int ticket_resumed;            /* resumed from a ticket, not from the session cache */
  enum mode mode;
  char *head;                    /* an unfinished HTTP request head */
  size_t head_len, head_cap;
  uint64_t owed;                 /* responses of the connection's kind still to write */
  int closing;                   /* then the closing response and close_notify */
  size_t out_off;                /* how much of the response being written has gone */
  uint32_t events;
} conn_t;

struct worker {
  target_server_t *server;
  pthread_t thread;
  int started;
  int epfd;
  conn_t *conns;
  int accept_paused;
  double next_sweep;             /* monotonic ms */
  target_stats_t stats;          /* this thread's, written with relaxed atomics */
};

struct target_server {
  SSL_CTX *ctx;
  int listen_fd, stop_fd, port;
  int mtls;
  double handshake_timeout_ms;
  worker_t *workers;
  int nworkers;
  unsigned char *keep_alive, *close_response, *raw;
  size_t keep_alive_len, close_response_len, raw_len;
  pthread_mutex_t lock;          /* the staple and the last errors */
  unsigned char *staple;
  size_t staple_len;
  char last_errors[LAST_ERRORS_KEPT][LAST_ERROR_LEN];
  size_t last_count, last_next;
};

static int conn_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static void make_index(void) { conn_index = SSL_get_ex_new_index(0, "tlsbench target conn", NULL, NULL, NULL); }

#define COUNT(worker, field) __atomic_fetch_add(&(worker)->stats.field, 1, __ATOMIC_RELAXED)

static conn_t *conn_of(const SSL *ssl) { return SSL_get_ex_data(ssl, conn_index); }

static void note_error(target_server_t *server, const char *text) {
  pthread_mutex_lock(&server->lock);
  snprintf(server->last_errors[server->last_next], LAST_ERROR_LEN, "%s", text);
  server->last_next = (server->last_next + 1) % LAST_ERRORS_KEPT;
  if (server->last_count < LAST_ERRORS_KEPT) server->last_count++;
  pthread_mutex_unlock(&server->lock);
}

/* ---- OpenSSL callbacks ---- */

/* Handshake messages: whose Finished went which way (see conn_t). */
static void on_message(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg) {
  (void)version; (void)arg;
  if (content_type != SSL3_RT_HANDSHAKE || len < 1 || ((const unsigned char *)buf)[0] != SSL3_MT_FINISHED) return;
  conn_t *c = conn_of(ssl);
  if (!c) return;
  if (write_p) c->wrote_finished = 1;
  else if (c->wrote_finished) c->read_finished = 1;
}

/* Tickets are OpenSSL's own (keys from target_config or random); this only notes a ticket resumed.
   The return values are OpenSSL's default behaviour without a callback (SSL_CTX_set_session_ticket_cb). */
static SSL_TICKET_RETURN on_ticket(SSL *ssl, SSL_SESSION *session, const unsigned char *key_name, size_t key_name_len, SSL_TICKET_STATUS status, void *arg) {
  (void)session; (void)key_name; (void)key_name_len; (void)arg;
  conn_t *c = conn_of(ssl);
  switch (status) {
    case SSL_TICKET_SUCCESS:
      if (c) c->ticket_resumed = 1;
      return SSL_TICKET_RETURN_USE;
    case SSL_TICKET_SUCCESS_RENEW:
      if (c) c->ticket_resumed = 1;
      return SSL_TICKET_RETURN_USE_RENEW;
    case SSL_TICKET_NO_DECRYPT:
    case SSL_TICKET_EMPTY:
      return SSL_TICKET_RETURN_IGNORE_RENEW;
    default:
      return SSL_TICKET_RETURN_IGNORE;
  }
}

/* A session the cache keeps (return 0: OpenSSL keeps its reference). */
static int on_new_session(SSL *ssl, SSL_SESSION *session) {
  (void)session;
  conn_t *c = conn_of(ssl);
  if (c) COUNT(c->worker, cache_stored);
  return 0;
}

/* Called for a client that sent status_request on a full handshake: staple the current response. */
static int on_status_request(SSL *ssl, void *arg) {
  target_server_t *server = arg;
  conn_t *c = conn_of(ssl);
  pthread_mutex_lock(&server->lock);
  unsigned char *copy = server->staple_len ? OPENSSL_malloc(server->staple_len) : NULL;
  size_t len = copy ? server->staple_len : 0;
  if (copy) memcpy(copy, server->staple, len);
  pthread_mutex_unlock(&server->lock);
  if (!copy) return SSL_TLSEXT_ERR_NOACK;
  if (!SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)len)) {
    OPENSSL_free(copy);
    return SSL_TLSEXT_ERR_NOACK;
  }
  if (c) {
    COUNT(c->worker, staples);
    __atomic_store_n(&c->worker->stats.staple_bytes, (uint64_t)len, __ATOMIC_RELAXED);
  }
  return SSL_TLSEXT_ERR_OK;
}

/* ---- connections ---- */

static void set_events(conn_t *c, uint32_t events) {
  if (c->events == events) return;
  struct epoll_event ev = { .events = events, .data.ptr = c };
  epoll_ctl(c->worker->epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->events = events;
}

static void conn_close(conn_t *c) {
  worker_t *w = c->worker;
  if (c->prev) c->prev->next = c->next;
  else w->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  SSL_free(c->ssl);
  close(c->fd);
  free(c->head);
  free(c);
}

/*
 * Ending our side while the client may still be sending: after a failed handshake (OpenSSL's alert
 * is written, the client's next flight, e.g. its Certificate, Finished and close_notify, unread) and
 * after the closing response. Closing with bytes unread makes the kernel send a reset, and a reset
 * can overtake what we wrote last in the client's receive queue: a TLS 1.3 client whose certificate
 * was rejected after its Finished would see a reset, not certificate_revoked. So: FIN after our last
 * bytes, read and drop what the client still sends until it closes (bounded by LINGER_MS), then close.
 */
static void linger(conn_t *c) {
  shutdown(c->fd, SHUT_WR);
  c->linger_until = monotonic_ms() + LINGER_MS;
  set_events(c, EPOLLIN);
}

/* A lingering connection is readable: drop the bytes; close at the client's EOF or an error. */
static void drain(conn_t *c) {
  char buf[READ_CHUNK];
  for (;;) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    conn_close(c);
    return;
  }
}


/* A completed handshake: counted, and the client certificate (when asked for) accepted. */
static void count_handshake(conn_t *c) {
  worker_t *w = c->worker;
  c->established = 1;
  COUNT(w, handshakes);
  int resumed = SSL_session_reused(c->ssl);
  if (resumed) {
    COUNT(w, resumed);
    if (!c->ticket_resumed) COUNT(w, cache_hits);
  }
  if (w->server->mtls && !resumed) {
    COUNT(w, cert_requested);
    if (SSL_get0_peer_certificate(c->ssl)) COUNT(w, cert_sent);
    COUNT(w, cert_accepted);
  }
}

/* A handshake that failed: counted once, with why (a rejected client certificate by its code). */
static void count_failure(conn_t *c, int ssl_error, int saved_errno) {
  worker_t *w = c->worker;
  target_server_t *server = w->server;
  COUNT(w, failed);
  char why[LAST_ERROR_LEN];
  unsigned long e = ssl_error == SSL_ERROR_SSL ? ERR_peek_error() : 0;
  long verify = SSL_get_verify_result(c->ssl);
  /* A chain that failed verification was sent (OpenSSL keeps it from the session, but not the result). */
  if (server->mtls && verify != X509_V_OK) {
    COUNT(w, cert_requested);
    COUNT(w, cert_sent);
    __atomic_fetch_add(&w->stats.rejected[verify > 0 && verify < REJECT_NO_CERTIFICATE ? verify : 0], 1, __ATOMIC_RELAXED);
    const char *name = verify_code_name(verify);
    if (name) snprintf(why, sizeof why, "client certificate: %s", name);
    else snprintf(why, sizeof why, "client certificate: X509_V_ERR %ld", verify);
  } else if (server->mtls && e && ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    COUNT(w, cert_requested);
    __atomic_fetch_add(&w->stats.rejected[REJECT_NO_CERTIFICATE], 1, __ATOMIC_RELAXED);
    snprintf(why, sizeof why, "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
  } else if (e) {
    openssl_error_code(e, why, sizeof why);
  } else if (ssl_error == SSL_ERROR_SYSCALL && saved_errno) {
    const char *name = errno_code(saved_errno);
    if (name) snprintf(why, sizeof why, "%s", name);
    else snprintf(why, sizeof why, "ERRNO_%d", saved_errno);
  } else {
    /* Closed (or reset) by the client before the handshake ended: Node's server says ECONNRESET too. */
    snprintf(why, sizeof why, "ECONNRESET");
  }
  note_error(server, why);
  ERR_clear_error();
}

/* What the connection owes, written until done or the socket is full. 0: closed, or lingering after its closing response. */
static int flush(conn_t *c) {
  target_server_t *s = c->worker->server;
  while (c->owed > 0 || c->closing) {
    const unsigned char *buf = c->owed > 0 ? (c->mode == MODE_HTTP ? s->keep_alive : s->raw) : s->close_response;
    size_t len = c->owed > 0 ? (c->mode == MODE_HTTP ? s->keep_alive_len : s->raw_len) : s->close_response_len;
    if (c->out_off < len) {
      ERR_clear_error();
      int n = SSL_write(c->ssl, buf + c->out_off, (int)(len - c->out_off));
      if (n <= 0) {
        int err = SSL_get_error(c->ssl, n);
        if (err == SSL_ERROR_WANT_WRITE) {
          set_events(c, EPOLLIN | EPOLLOUT);
          return 1;
        }
        if (err == SSL_ERROR_WANT_READ) return 1;
        COUNT(c->worker, socket_errors);
        conn_close(c);
        return 0;
      }
      c->out_off += (size_t)n;
      if (c->out_off < len) continue;
    }
    c->out_off = 0;
    if (c->owed > 0) {
      c->owed--;
    } else {
      /* The closing response has gone: close_notify, then our side (Node's socket.end(data)). */
      SSL_shutdown(c->ssl);
      linger(c);
      return 0;
    }
  }
  set_events(c, EPOLLIN);
  return 1;
}

/* 3–10 capital letters and a space: an HTTP method (the Node server's test, on the first chunk). */
static int looks_like_http(const char *data, size_t len) {
  size_t i = 0;
  while (i < len && i < 10 && data[i] >= 'A' && data[i] <= 'Z') i++;
  return i >= 3 && i < len && data[i] == ' ';
}

/* A "Connection: close" header line anywhere in the head (case-insensitive, spaces allowed). */
static int asks_to_close(const char *head, size_t len) {
  const char *p = head, *end = head + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    const char *q = p;
    if ((size_t)(line_end - q) >= 11 && strncasecmp(q, "connection:", 11) == 0) {
      q += 11;
      while (q < line_end && (*q == ' ' || *q == '\t')) q++;
      if ((size_t)(line_end - q) >= 5 && strncasecmp(q, "close", 5) == 0) {
        q += 5;
        while (q < line_end && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q == line_end) return 1;
      }
    }
    p = eol ? eol + 1 : end;
  }
  return 0;
}

/* A chunk from the client: count and queue the answers. 0: the connection was dropped. */
static int take_chunk(conn_t *c, const char *data, size_t len) {
  if (c->mode == MODE_UNKNOWN) c->mode = looks_like_http(data, len) ? MODE_HTTP : MODE_RAW;
  if (c->mode == MODE_RAW) {
    if (c->worker->server->raw_len > 0) c->owed++;
    return 1;
  }
  if (c->closing) return 1;   /* after Connection: close, nothing more is answered */
  if (c->head_len + len > c->head_cap) {
    size_t cap = c->head_cap ? c->head_cap : 1024;
    while (cap < c->head_len + len) cap *= 2;
    char *grown = realloc(c->head, cap);
    if (!grown) {
      conn_close(c);
      return 0;
    }
    c->head = grown;
    c->head_cap = cap;
  }
  memcpy(c->head + c->head_len, data, len);
  c->head_len += len;
  size_t start = 0;
  for (;;) {
    char *end = memmem(c->head + start, c->head_len - start, "\r\n\r\n", 4);
    if (!end) break;
    size_t head_len = (size_t)(end - (c->head + start));
    COUNT(c->worker, requests);
    if (asks_to_close(c->head + start, head_len)) {
      c->closing = 1;
      c->head_len = 0;
      return 1;
    }
    c->owed++;
    start += head_len + 4;
  }
  memmove(c->head, c->head + start, c->head_len - start);
  c->head_len -= start;
  if (c->head_len > MAX_REQUEST_HEAD) {
    conn_close(c);
    return 0;
  }
  return 1;
}

/* Read what the client sent after the handshake. 0: closed. */
static int read_client(conn_t *c) {
  char buf[READ_CHUNK];
  for (;;) {
    ERR_clear_error();
    int n = SSL_read(c->ssl, buf, sizeof buf);
    if (n > 0) {
      if (!take_chunk(c, buf, (size_t)n)) return 0;
      continue;
    }
    int err = SSL_get_error(c->ssl, n);
    if (err == SSL_ERROR_WANT_READ) return 1;
    if (err == SSL_ERROR_WANT_WRITE) {
      set_events(c, EPOLLIN | EPOLLOUT);
      return 1;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      /* The client's close_notify (it sends nothing after it): answer with ours and close. */
      SSL_shutdown(c->ssl);
      conn_close(c);
      return 0;
    }
    /* A reset or a broken record after the handshake (a silent EOF is no error: IGNORE_UNEXPECTED_EOF). */
    COUNT(c->worker, socket_errors);
    conn_close(c);
    return 0;
  }
}

static void on_conn_event(conn_t *c, uint32_t events) {
  if (c->linger_until > 0) {
    drain(c);
    return;
  }
  if (!c->established) {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
      count_handshake(c);
    } else {
      int saved_errno = errno;
      int err = SSL_get_error(c->ssl, rc);
      if (err == SSL_ERROR_WANT_READ) {
        set_events(c, EPOLLIN);
        return;
      }
      if (err == SSL_ERROR_WANT_WRITE) {
        set_events(c, EPOLLIN | EPOLLOUT);
        return;
      }
      if (c->read_finished) {
        /* Complete for the client, then the tickets could not go out (it closed or reset first). */
        count_handshake(c);
        COUNT(c->worker, socket_errors);
      } else {
        count_failure(c, err, saved_errno);
        if (err == SSL_ERROR_SSL) {
          linger(c);
          return;
        }
      }
      conn_close(c);
      return;
    }
  }
  (void)events;
  if (!read_client(c)) return;
  flush(c);
}

static void accept_clients(worker_t *w) {
  target_server_t *s = w->server;
  for (;;) {
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, s->listen_fd, NULL);
        w->accept_paused = 1;
      }
      return;   /* EAGAIN, or a connection that went before we took it */
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn_t *c = calloc(1, sizeof *c);
    SSL *ssl = c ? SSL_new(s->ctx) : NULL;
    if (!ssl || !SSL_set_fd(ssl, fd) || !SSL_set_ex_data(ssl, conn_index, c)) {
      SSL_free(ssl);
      free(c);
      close(fd);
      ERR_clear_error();
      continue;
    }
    SSL_set_accept_state(ssl);
    c->worker = w;
    c->fd = fd;
    c->ssl = ssl;
    c->accepted_at = monotonic_ms();
    c->events = EPOLLIN;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      SSL_free(ssl);
      free(c);
      close(fd);
      continue;
    }
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
  }
}

static void resume_accepting(worker_t *w) {
  struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL };
  if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->server->listen_fd, &ev) == 0) w->accept_paused = 0;
}

/*
 * Handshakes older than the handshake timeout fail (as Node's server's handshakeTimeout): a client
 * that connects and stalls, or vanished without a FIN, does not hold a connection for ever; a
 * lingering close ends at its deadline.
 */
static void sweep_handshakes(worker_t *w, double now) {
  w->next_sweep = now + SWEEP_MS;
  double timeout = w->server->handshake_timeout_ms;
  for (conn_t *c = w->conns, *next; c; c = next) {
    next = c->next;
    if (c->linger_until > 0) {
      if (now >= c->linger_until) conn_close(c);
      continue;
    }
    if (timeout <= 0 || c->established || now - c->accepted_at < timeout) continue;
    COUNT(w, failed);
    note_error(w->server, "ERR_TLS_HANDSHAKE_TIMEOUT");
    conn_close(c);
  }
}

/* How long epoll may wait: until the next sweep while connections exist, a pause, or for ever. */
static int wait_ms(const worker_t *w, double now) {
  int ms = -1;
  if (w->conns) ms = w->next_sweep > now ? (int)(w->next_sweep - now) + 1 : 0;
  if (w->accept_paused && (ms < 0 || ms > ACCEPT_PAUSE_MS)) ms = ACCEPT_PAUSE_MS;
  return ms;
}

/* data.ptr: NULL for the listener, the worker itself for the stop signal, else a connection. */
static void *worker_main(void *arg) {
  worker_t *w = arg;
  struct epoll_event events[EVENTS_PER_WAIT];
  w->next_sweep = monotonic_ms() + SWEEP_MS;
  for (;;) {
    int n = epoll_wait(w->epfd, events, EVENTS_PER_WAIT, wait_ms(w, monotonic_ms()));
    if (n < 0 && errno != EINTR) break;
    if (w->accept_paused) resume_accepting(w);
    double now = monotonic_ms();
    if (now >= w->next_sweep) sweep_handshakes(w, now);
    for (int i = 0; i < n; i++) {
      void *p = events[i].data.ptr;
      if (p == w) goto stopped;
      if (p == NULL) accept_clients(w);
      else on_conn_event(p, events[i].events);
    }
  }
stopped:
  while (w->conns) conn_close(w->conns);
  return NULL;
}

/* ---- setup ---- */

static int listen_on(target_server_t *s, const char *host, int port, char *err, size_t err_len) {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  memset(&addr, 0, sizeof addr);
  if (strchr(host, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) goto bad_host;
    addr_len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&addr;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) goto bad_host;
    addr_len = sizeof *a;
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
      || bind(fd, (struct sockaddr *)&addr, addr_len) != 0 || listen(fd, 4096) != 0) {
    /* Node's words for the usual causes, so the serve command reports them as it does for the Node server. */
    const char *name = errno_code(errno);
    snprintf(err, err_len, "listen %s %s:%d: %s", name ? name : "failed", host, port, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &bound_len);
  s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);
  s->listen_fd = fd;
  return 0;
bad_host:
  snprintf(err, err_len, "host must be an IP address, got '%s'", host);
  return -1;
}

static SSL_CTX *make_context(const target_config_t *cfg, target_server_t *s, char *err, size_t err_len) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    openssl_failure(err, err_len, "SSL_CTX_new");
    return NULL;
  }
  const char *failed = NULL;
  if (!SSL_CTX_set_min_proto_version(ctx, cfg->min_version) || !SSL_CTX_set_max_proto_version(ctx, cfg->max_version)) failed = "versions";
  else if (cfg->ciphers && !SSL_CTX_set_cipher_list(ctx, cfg->ciphers)) failed = "ciphers";
  else if (cfg->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites)) failed = "ciphersuites";
  else if (cfg->groups && !SSL_CTX_set1_groups_list(ctx, cfg->groups)) failed = "groups";
  else if (!pem_use_certificate_chain(ctx, cfg->cert_pem, cfg->key_pem, NULL)) failed = "server certificate or key";
  /* Resumption needs a session ID context once client certificates are asked for; harmless otherwise. */
  else if (!SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tlsbench", 8)) failed = "session id context";
  else if (cfg->ticket_keys && SSL_CTX_set_tlsext_ticket_keys(ctx, (void *)cfg->ticket_keys, 48) != 1) failed = "ticket keys";
  if (!failed && cfg->mtls) {
    if (pem_add_certificates(SSL_CTX_get_cert_store(ctx), ctx, cfg->ca_pem) <= 0) {
      failed = "client CA";
    } else {
      /* OpenSSL verifies inside the handshake and fails it with the alert for the reason. */
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (cfg->mtls == MTLS_REQUIRED ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
      if (cfg->crl_pem && !trust_add_crl(ctx, cfg->crl_pem)) failed = "crl";
    }
  }
  if (failed) {
    openssl_failure(err, err_len, failed);
    SSL_CTX_free(ctx);
    return NULL;
  }
  /* Writes of the shared response buffers may complete in parts; a silent EOF is a close, not an error. */
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (cfg->session_cache) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, cfg->session_cache_entries > 0 ? cfg->session_cache_entries : 20000);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  if (!cfg->tickets) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    /* TLS 1.3 then issues stateful tickets (the session cache's IDs); with no cache either, none. */
    if (!cfg->session_cache) SSL_CTX_set_num_tickets(ctx, 0);
  }
  SSL_CTX_set_session_ticket_cb(ctx, NULL, on_ticket, NULL);
  SSL_CTX_set_msg_callback(ctx, on_message);
  if (cfg->ocsp) {
    SSL_CTX_set_tlsext_status_cb(ctx, on_status_request);
    SSL_CTX_set_tlsext_status_arg(ctx, s);
  }
  return ctx;
}

static unsigned char *copy_bytes(const unsigned char *data, size_t len) {
  unsigned char *copy = malloc(len ? len : 1);
  if (copy && len) memcpy(copy, data, len);
  return copy;
}

target_server_t *target_start(const target_config_t *cfg, char *err, size_t err_len) {
  pthread_once(&index_once, make_index);
  ERR_clear_error();
  if (conn_index < 0) {
    snprintf(err, err_len, "SSL_get_ex_new_index failed");
    return NULL;
  }
  if (cfg->threads < 1 || cfg->threads > 256) {
    snprintf(err, err_len, "threads must be 1–256, got %d", cfg->threads);
    return NULL;
  }
  target_server_t *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  pthread_mutex_init(&s->lock, NULL);
  s->listen_fd = -1;
  s->stop_fd = -1;
  s->mtls = cfg->mtls;
  s->handshake_timeout_ms = cfg->handshake_timeout_ms;
  s->keep_alive = copy_bytes(cfg->keep_alive, cfg->keep_alive_len);
  s->keep_alive_len = cfg->keep_alive_len;
  s->close_response = copy_bytes(cfg->close_response, cfg->close_response_len);
  s->close_response_len = cfg->close_response_len;
  s->raw = copy_bytes(cfg->raw, cfg->raw_len);
  s->raw_len = cfg->raw_len;
  s->workers = calloc((size_t)cfg->threads, sizeof *s->workers);
  if (!s->keep_alive || !s->close_response || !s->raw || !s->workers) {
    snprintf(err, err_len, "out of memory");
    target_stop(s);
    return NULL;
  }
  if (!(s->ctx = make_context(cfg, s, err, err_len)) || listen_on(s, cfg->host, cfg->port, err, err_len) != 0) {
    target_stop(s);
    return NULL;
  }
  s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->stop_fd < 0) {
    snprintf(err, err_len, "eventfd: %s", strerror(errno));
    target_stop(s);
    return NULL;
  }
  for (int i = 0; i < cfg->threads; i++) {
    worker_t *w = &s->workers[i];
    w->server = s;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->nworkers = i + 1;
    struct epoll_event listen_ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL };
    struct epoll_event stop_ev = { .events = EPOLLIN, .data.ptr = w };
    if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->listen_fd, &listen_ev) != 0
        || epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->stop_fd, &stop_ev) != 0
        || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
      snprintf(err, err_len, "starting server thread %d: %s", i + 1, strerror(errno));
      target_stop(s);
      return NULL;
    }
    w->started = 1;
  }
  return s;
}

int target_port(const target_server_t *s) { return s->port; }

void target_stats(target_server_t *s, target_stats_t *out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < s->nworkers; i++) {
    const uint64_t *from = (const uint64_t *)&s->workers[i].stats;
    uint64_t *to = (uint64_t *)out;
    for (size_t k = 0; k < sizeof *out / sizeof(uint64_t); k++) to[k] += __atomic_load_n(&from[k], __ATOMIC_RELAXED);
  }
  /* staple_bytes is a size, not a count: the last one any thread stapled. */
  out->staple_bytes = 0;
  for (int i = 0; i < s->nworkers; i++) {
    uint64_t b = __atomic_load_n(&s->workers[i].stats.staple_bytes, __ATOMIC_RELAXED);
    if (b) out->staple_bytes = b;
  }
  /* Lookups by session ID that found nothing, and sessions the full cache pushed out: OpenSSL's counts. */
  out->cache_misses = (uint64_t)SSL_CTX_sess_misses(s->ctx);
  out->cache_evicted = (uint64_t)SSL_CTX_sess_cache_full(s->ctx);
}

size_t target_last_errors(target_server_t *s, char out[][LAST_ERROR_LEN], size_t max) {
  pthread_mutex_lock(&s->lock);
  size_t n = s->last_count < max ? s->last_count : max;
  size_t first = (s->last_next + LAST_ERRORS_KEPT - s->last_count) % LAST_ERRORS_KEPT;
  for (size_t i = 0; i < n; i++) memcpy(out[i], s->last_errors[(first + s->last_count - n + i) % LAST_ERRORS_KEPT], LAST_ERROR_LEN);
  pthread_mutex_unlock(&s->lock);
  return n;
}

int target_set_staple(target_server_t *s, const unsigned char *der, size_t len) {
  unsigned char *copy = len ? malloc(len) : NULL;
  if (len && !copy) return 0;
  if (len) memcpy(copy, der, len);
  pthread_mutex_lock(&s->lock);
  free(s->staple);
  s->staple = copy;
  s->staple_len = len;
  pthread_mutex_unlock(&s->lock);
  return 1;
}

void target_stop(target_server_t *s) {
  if (!s) return;
  if (s->stop_fd >= 0) {
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof one) < 0) { /* the threads stop on any readable value */ }
  }
  for (int i = 0; i < s->nworkers; i++) {
    worker_t *w = &s->workers[i];
    if (w->started) pthread_join(w->thread, NULL);
    if (w->epfd >= 0) close(w->epfd);
  }
  if (s->listen_fd >= 0) close(s->listen_fd);
  if (s->stop_fd >= 0) close(s->stop_fd);
  SSL_CTX_free(s->ctx);
  free(s->workers);
  free(s->keep_alive);
  free(s->close_response);
  free(s->raw);
  free(s->staple);
  pthread_mutex_destroy(&s->lock);
  free(s);
}
