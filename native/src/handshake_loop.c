/*
 * One epoll loop per worker thread. Each slot runs one attempt at a time:
 *   connect (non-blocking) → SSL_do_handshake → SSL_shutdown (close_notify) → SSL_read until the
 *   server closes (its close_notify or FIN), bounded by the close wait → close().
 * Latency ends at SSL_do_handshake returning 1; the close wait is not latency. Reading to the
 * server's close picks up TLS 1.3 NewSessionTickets (the newest is kept) and any alert a server
 * sends after the client's Finished (a rejected client certificate), and lets the socket close
 * with a FIN, never a reset. Sessions stay SSL_SESSION* in memory: no DER round trip per offer.
 *
 * Modelled on wrk's and h2load's one-loop-per-thread shape; every buffer is fixed-size, every
 * phase has a deadline, and every SSL / SSL_SESSION is freed on every path.
 */
#define _GNU_SOURCE
#include "handshake_loop.h"
#include "response_reader.h"
#include "error_names.h"
#include "pem_credentials.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* S_WAITING: closed loop, the slot restarts at its deadline; S_IDLE: open loop, free for an arrival. */
/* S_JUDGING: the handshake completed and its staple awaits JS's verdict (trust.c). */
enum state { S_WAITING, S_IDLE, S_CONNECTING, S_HANDSHAKE, S_JUDGING, S_APP, S_CLOSING, S_DONE };
#define CONNECTED(state) ((state) == S_CONNECTING || (state) == S_HANDSHAKE || (state) == S_JUDGING || (state) == S_APP || (state) == S_CLOSING)

typedef struct slot {
  int index;
  enum state state;
  uint32_t generation;      /* tags epoll events, so a late event of an old connection is ignored */
  int fd;
  SSL *ssl;
  double deadline;          /* ms; for S_WAITING: when the slot (re)starts */
  int measured, sample, offered;
  int mechanism;            /* how the offered session resumes if taken (F_MECH_SHIFT's values), 0: none offered */
  int shutdown_sent;
  long verify_error;        /* the last chain error (as Node reports it), X509_V_OK when none */
  int name_mismatch;        /* the host-name / IP check failed */
  double started_at, connected_at, handshake_at;
  double intended_at;       /* open loop: the arrival's intended start; -1 in a closed loop */
  double tcp_us, tls_us;
  int handshake_done, reused, tls13;
  SSL_SESSION *session;     /* the slot's last session (scope slot) */
  SSL_SESSION *fresh;       /* newest session the server issued on this connection */
  SSL_SESSION *offer;       /* the session this attempt offers (a reference of its own) */
  detail_t *detail;         /* while the attempt runs: its pending detail, or NULL */
  detail_t pending;
  /* the request phase */
  response_reader_t *reader;
  double exchanges_left;
  size_t written;           /* bytes of the request written so far */
  double written_at;
  double bytes_read;
  double *ttfb;             /* this attempt's ttfb µs, one per response */
  size_t nttfb, ttfb_cap;
  double responses_done;
  double ok_statuses;       /* complete responses with a 2xx status line */
  int end_status;           /* the class of the non-2xx response that ended the exchanges, 0: none */
  int no_keep_alive;        /* the verdict: the server closed, or announced it, before the last exchange */
  double first_byte_us;     /* TCP connected → the connection's first response byte; -1 until it comes */
  /* --early-data */
  int early;                /* enum early_data */
  double early_at;          /* when the early data (the request's first bytes) was written */
  trust_slot_t trust;       /* the staple and its verdict; the client-certificate request (sampled) */
} slot_t;

struct handshake_loop {
  loop_config_t cfg;
  SSL_CTX *ctx;
  trust_t *trust;
  int judging;              /* slots in S_JUDGING */
  int epfd;
  int keylog_fd;
  slot_t *slots;
  int nslots;
  double *outcomes;
  detail_t *details;
  size_t capacity, count, ndetails;
  /* clock */
  double start_at, ramp_end_at, window_at, end_at;
  double measured_left;     /* < 0: no quota */
  long measured_in_flight;
  long measured_started;
  size_t in_flight;
  int done_slots;           /* slots that will start no more attempts */
  int stop_requested, finished, begun;
  double closing_at;        /* when the loop first saw the stop or the window's end (0: not yet) */
  /* learn_server_close */
  int await_server_close;
  int close_waits_in_a_row;
  long server_closes_seen;
  /* sessions */
  SSL_SESSION *shared;      /* scope worker: the newest session of any slot */
  double offer_credit;
  double next_scan;
  double idle_ms;
  /* open loop: queued arrivals (intended starts, ascending) and the slots free for them */
  double *arrivals;
  size_t arrivals_head, arrivals_tail;
  int arrivals_done;        /* an arrival could not be claimed: the schedule is over */
  int *free_slots;
  int nfree;
  /* the request phase: ttfb µs of this batch's outcomes */
  double *ttfb_batch;
  size_t ttfb_count, ttfb_cap;
  unsigned char sink[16384];   /* application data read while waiting for the close: discarded */
};

/* Negotiated-sample cadence, as the Node engine: the first attempts, then one in this many. */
#define SAMPLE_FIRST 8
#define SAMPLE_EVERY 64
/* Bytes discarded per readiness event while waiting for the server's close: bounds a chatty server. */
#define CLOSE_READ_BUDGET (256 * 1024)
#define MAX_EVENTS 256
/* Consecutive connections whose server never answered our close_notify before the loop stops waiting (engine.ts). */
#define CLOSE_WAIT_GIVE_UP 3
/* Open loop: arrivals queued at most (JS feeds a slice's worth at a time). */
#define ARRIVALS_CAPACITY 65536

static int slot_ex_index = -1;

double monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double elapsed_us(double from_ms, double to_ms) {
  double us = (to_ms - from_ms) * 1e3;
  return us < 0 ? 0 : (double)(long long)us;   /* integer µs, as the Node engine records */
}

/* ---------- sessions ---------- */

/*
 * Takes `session` (a reference of its own) as the newest session of the slot's connection, when it
 * can be resumed at all: a TLS 1.2 server with no session cache and tickets off issues a session
 * with neither an ID nor a ticket. Node never hands such a session to JS (OpenSSL does not pass it
 * to the new-session callback), so neither engine keeps or offers it. Returns whether it was kept.
 */
static int capture_session(slot_t *slot, SSL_SESSION *session) {
  if (!SSL_SESSION_is_resumable(session)) return 0;
  /* Some servers issue two TLS 1.3 tickets and honour only the last: keep the newest. */
  if (slot->fresh) SSL_SESSION_free(slot->fresh);
  slot->fresh = session;
  return 1;
}

static int on_new_session(SSL *ssl, SSL_SESSION *session) {
  slot_t *slot = SSL_get_ex_data(ssl, slot_ex_index);
  if (!slot) return 0;
  return capture_session(slot, session);   /* 1: we own the reference now */
}

static SSL_SESSION *session_to_offer(handshake_loop_t *loop, slot_t *slot) {
  if (loop->cfg.resume == 0) return NULL;
  SSL_SESSION *session = loop->cfg.scope_worker ? loop->shared : slot->session;
  if (!session) return NULL;
  /* The resume ratio, applied exactly by error diffusion (0.3 offers on 3 in 10 attempts). */
  loop->offer_credit += loop->cfg.resume_ratio;
  if (loop->offer_credit < 1 - 1e-9) return NULL;
  loop->offer_credit -= 1;
  return session;
}

/*
 * A TLS 1.3 ticket shorter than this cannot carry the session it resumes (a 32-byte resumption
 * secret and a 16-byte tag alone take 48): it is a reference into the server's cache, a stateful
 * ticket. The same rule as session-der.ts's, for the same counts on both engines.
 */
#define STATEFUL_TICKET_MAX 47

/* How `session` resumes if the server takes it (F_MECH_SHIFT's values). An OpenSSL server that
 * cannot decrypt an offered TLS 1.2 ticket does not fall back to the ID, so a ticket-bearing
 * session that resumed resumed by its ticket. */
static int offered_mechanism(const SSL_SESSION *session) {
  const unsigned char *ticket = NULL;
  size_t length = 0;
  SSL_SESSION_get0_ticket(session, &ticket, &length);
  if (SSL_SESSION_get_protocol_version(session) == TLS1_3_VERSION) return length <= STATEFUL_TICKET_MAX ? 4 : 3;
  return length > 0 ? 1 : 2;
}

static void store_session(handshake_loop_t *loop, slot_t *slot, SSL_SESSION *session) {
  if (loop->cfg.scope_worker) {
    if (loop->shared) SSL_SESSION_free(loop->shared);
    loop->shared = session;
  } else {
    if (slot->session) SSL_SESSION_free(slot->session);
    slot->session = session;
  }
}

static void keylog_line(const SSL *ssl, const char *line) {
  handshake_loop_t *loop = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
  if (!loop || loop->keylog_fd < 0) return;
  struct iovec iov[2] = { { (void *)line, strlen(line) }, { "\n", 1 } };
  /* O_APPEND makes each short line one atomic append, whichever worker writes it. */
  ssize_t n = writev(loop->keylog_fd, iov, 2);
  (void)n;
}

/* ---------- error codes, named as Node names them so errors.ts classifies both engines ---------- */

static void set_error(slot_t *slot, int phase, const char *code, const char *syscall) {
  detail_t *d = &slot->pending;
  slot->detail = d;
  d->has_error = 1;
  d->phase = phase;
  snprintf(d->code, sizeof d->code, "%s", code);
  snprintf(d->syscall, sizeof d->syscall, "%s", syscall ? syscall : "");
}

static void set_errno_error(slot_t *slot, int phase, int e, const char *syscall) {
  const char *name = errno_code(e);
  char buf[32];
  if (!name) {
    snprintf(buf, sizeof buf, "ERRNO_%d", e);
    name = buf;
  }
  set_error(slot, phase, name, syscall);
}

/* The one error class input of a failed SSL call. */
static void set_ssl_error(handshake_loop_t *loop, slot_t *slot, int phase, int ssl_error, int saved_errno) {
  (void)loop;
  if (ssl_error == SSL_ERROR_SSL) {
    /* Certificate errors never fail the handshake here (on_verify): this is the peer or the protocol. */
    unsigned long e = ERR_peek_error();
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    /* OpenSSL 3 reports a FIN during the handshake this way; Node reports it as a close. */
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      set_error(slot, phase, "EARLY_CLOSE", NULL);
      return;
    }
#endif
    if (e == 0) {
      set_error(slot, phase, "EARLY_CLOSE", NULL);
      return;
    }
    char code[96];
    openssl_error_code(e, code, sizeof code);
    set_error(slot, phase, code, NULL);
    return;
  }
  if (ssl_error == SSL_ERROR_SYSCALL) {
    if (saved_errno == 0 || saved_errno == EAGAIN) set_error(slot, phase, "EARLY_CLOSE", NULL);
    else set_errno_error(slot, phase, saved_errno, saved_errno == EPIPE ? "write" : "read");
    return;
  }
  /* SSL_ERROR_ZERO_RETURN: the server sent close_notify before the handshake ended. */
  set_error(slot, phase, "EARLY_CLOSE", NULL);
}

/*
 * Certificate verification as Node does it: the chain is checked to the end and the LAST chain
 * error is the one reported (Node's verify callback accepts every certificate and reads
 * SSL_get_verify_result after the handshake); the host name only counts when the chain verified,
 * as Node checks it after the chain. So one server yields the same tls.verify.* class on both engines.
 */
static int on_verify(int preverify_ok, X509_STORE_CTX *store) {
  if (preverify_ok) return 1;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  slot_t *slot = ssl ? SSL_get_ex_data(ssl, slot_ex_index) : NULL;
  if (!slot) return 0;
  int e = X509_STORE_CTX_get_error(store);
  if (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH) slot->name_mismatch = 1;
  else slot->verify_error = e;
  return 1;
}

/* After the handshake: the verdict on_verify collected, as an error of the tls phase; 0 when trusted. */
static int verification_failed(handshake_loop_t *loop, slot_t *slot) {
  if (!loop->cfg.verify || slot->reused) return 0;
  long v = slot->verify_error;
  if (v == X509_V_OK && !slot->name_mismatch) return 0;
  const char *name = v != X509_V_OK ? verify_code_name(v) : "ERR_TLS_CERT_ALTNAME_INVALID";
  char buf[40];
  if (!name) {
    snprintf(buf, sizeof buf, "VERIFY_ERROR_%ld", v);
    name = buf;
  }
  set_error(slot, PHASE_TLS, name, NULL);
  return 1;
}

/* ---------- the negotiated sample ---------- */

typedef const char *(*group_name_fn)(const SSL *);
static group_name_fn get0_group_name;   /* OpenSSL ≥ 3.2 only: looked up at run time */

static void describe_key(EVP_PKEY *key, char *out, size_t len) {
  if (!key) {
    snprintf(out, len, "none");
    return;
  }
  int id = EVP_PKEY_get_base_id(key);
  int bits = EVP_PKEY_get_bits(key);
  char group[48] = "?";
  size_t glen = 0;
  switch (id) {
    case EVP_PKEY_RSA: snprintf(out, len, "RSA-%d", bits); break;
    case EVP_PKEY_RSA_PSS: snprintf(out, len, "RSA-PSS-%d", bits); break;
    case EVP_PKEY_EC:
      EVP_PKEY_get_group_name(key, group, sizeof group, &glen);
      snprintf(out, len, "ECDSA %s", group);
      break;
    case EVP_PKEY_ED25519: snprintf(out, len, "Ed25519"); break;
    case EVP_PKEY_ED448: snprintf(out, len, "Ed448"); break;
    default: snprintf(out, len, "%s", OBJ_nid2sn(id)); break;
  }
}

/* The key-exchange group, named as Node's getEphemeralKeyInfo() names it. */
static void describe_group(SSL *ssl, int reused, char *out, size_t len) {
  EVP_PKEY *key = NULL;
  if (SSL_get_peer_tmp_key(ssl, &key) && key) {
    int id = EVP_PKEY_get_base_id(key);
    size_t glen = 0;
    if (id == EVP_PKEY_EC && EVP_PKEY_get_group_name(key, out, len, &glen)) {
      /* prime256v1, as Node says */
    } else if (id == EVP_PKEY_X25519) {
      snprintf(out, len, "X25519");
    } else if (id == EVP_PKEY_X448) {
      snprintf(out, len, "X448");
    } else if (get0_group_name && get0_group_name(ssl)) {
      snprintf(out, len, "%s", get0_group_name(ssl));
    } else {
      snprintf(out, len, "%s", OBJ_nid2sn(id));
    }
    EVP_PKEY_free(key);
    return;
  }
  if (get0_group_name && get0_group_name(ssl)) {
    snprintf(out, len, "%s", get0_group_name(ssl));
    return;
  }
  snprintf(out, len, "%s", reused ? "none (resumed)" : "unknown");
}

static void take_sample(handshake_loop_t *loop, slot_t *slot) {
  detail_t *d = &slot->pending;
  SSL *ssl = slot->ssl;
  slot->detail = d;
  d->has_sample = 1;
  snprintf(d->protocol, sizeof d->protocol, "%s", SSL_get_version(ssl));
  const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
  const char *standard = cipher ? SSL_CIPHER_standard_name(cipher) : NULL;
  snprintf(d->cipher, sizeof d->cipher, "%s", standard ? standard : cipher ? SSL_CIPHER_get_name(cipher) : "unknown");
  describe_group(ssl, slot->reused, d->group, sizeof d->group);
  const unsigned char *alpn = NULL;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn_len >= sizeof d->alpn) alpn_len = sizeof d->alpn - 1;
  if (alpn_len) memcpy(d->alpn, alpn, alpn_len);
  d->alpn[alpn_len] = 0;
  if (slot->reused) {
    snprintf(d->certificate, sizeof d->certificate, "not sent (resumed)");
  } else {
    X509 *peer = SSL_get0_peer_certificate(ssl);
    describe_key(peer ? X509_get0_pubkey(peer) : NULL, d->certificate, sizeof d->certificate);
  }
  /* Seen on the wire (trust.c's message callback): asked for, and one sent. */
  d->client_certificate = slot->trust.cert_requested && slot->trust.cert_sent;
  d->client_certificate_requested = slot->trust.cert_requested;
}

/* ---------- TLS 1.3 early data (--early-data) ---------- */

/*
 * On a resumed attempt (the session is set): may the request's first early_data bytes go as early
 * data? The offered session says how much its ticket allows (the server's max_early_data); a ticket
 * that allows none or too few bytes is "not offered", with the reason, and the request goes after
 * the handshake as on any attempt.
 */
static void early_data_plan(handshake_loop_t *loop, slot_t *slot) {
  slot->early = EARLY_NONE;
  if (!loop->cfg.early_data || !loop->cfg.request || loop->cfg.early_data > loop->cfg.request_len || !slot->offer) return;
  uint32_t allowed = SSL_SESSION_get_max_early_data(slot->offer);
  if (allowed == 0) slot->early = EARLY_NOT_OFFERED_NONE_ALLOWED;
  else if (allowed < loop->cfg.early_data) slot->early = EARLY_NOT_OFFERED_TOO_FEW;
  else slot->early = EARLY_PENDING;
}

/*
 * Before the handshake proper: SSL_write_early_data sends the ClientHello and the early data in one
 * flight. Returns 1 when done (or nothing to send), 0 to wait for the socket (called again with the
 * same bytes, as OpenSSL asks), -1 when it failed (the error is set, as for the handshake).
 */
static int early_data_write(handshake_loop_t *loop, slot_t *slot, double now) {
  if (slot->early != EARLY_PENDING) return 1;
  size_t written = 0;
  ERR_clear_error();
  errno = 0;
  if (SSL_write_early_data(slot->ssl, loop->cfg.request, loop->cfg.early_data, &written) == 1) {
    slot->early = EARLY_SENT;
    slot->early_at = now;
    return 1;
  }
  int saved_errno = errno;
  int e = SSL_get_error(slot->ssl, 0);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  set_ssl_error(loop, slot, PHASE_TLS, e, saved_errno);
  return -1;
}

/*
 * After the handshake, with the first exchange started: the server's verdict. Accepted, the request
 * left with the ClientHello (its ttfb counts from then) and only its rest is written now; rejected,
 * the server dropped it, and the whole request is written again, as a real client must.
 */
static void early_data_settle(handshake_loop_t *loop, slot_t *slot) {
  if (slot->early != EARLY_SENT) return;
  if (SSL_get_early_data_status(slot->ssl) == SSL_EARLY_DATA_ACCEPTED) {
    slot->early = EARLY_ACCEPTED;
    slot->written = loop->cfg.early_data;
    slot->written_at = slot->early_at;
  } else {
    slot->early = EARLY_REJECTED;
  }
}

/* ---------- attempts ---------- */

static void set_deadline(handshake_loop_t *loop, slot_t *slot, double at) {
  slot->deadline = at;
  if (at < loop->next_scan) loop->next_scan = at;
}

/* Grows *buf to hold `need` doubles (doubling); 0 when out of memory. */
static int grow(double **buf, size_t *cap, size_t need) {
  if (need <= *cap) return 1;
  size_t n = *cap ? *cap : 64;
  while (n < need) n *= 2;
  double *p = realloc(*buf, n * sizeof *p);
  if (!p) return 0;
  *buf = p;
  *cap = n;
  return 1;
}

static void emit(handshake_loop_t *loop, slot_t *slot, unsigned flags, double now) {
  double *o = loop->outcomes + loop->count * OUT_FIELDS;
  if (slot->measured) flags |= F_MEASURED;
  if (slot->offered) flags |= F_OFFERED;
  if (slot->handshake_done) {
    flags |= F_HANDSHAKE;
    if (slot->reused) flags |= F_REUSED;
  }
  if (slot->offered) flags |= (unsigned)slot->mechanism << F_MECH_SHIFT;
  o[OUT_SLOT] = slot->index;
  o[OUT_STARTED_AT] = slot->started_at;
  o[OUT_TCP_US] = slot->tcp_us;
  o[OUT_TLS_US] = slot->tls_us;
  o[OUT_HANDSHAKE_AT] = slot->handshake_at;
  o[OUT_COMPLETED_AT] = now;
  o[OUT_DETAIL] = -1;
  o[OUT_INTENDED_AT] = slot->intended_at;
  o[OUT_BYTES_READ] = slot->bytes_read;
  o[OUT_TTFB_AT] = (double)loop->ttfb_count;
  o[OUT_TTFB_COUNT] = 0;
  o[OUT_STATUSES] = slot->ok_statuses * 8 + slot->end_status;
  o[OUT_EARLY_DATA] = slot->early;
  o[OUT_FIRST_BYTE_US] = flags & F_ABORTED ? -1 : slot->first_byte_us;
  o[OUT_STAPLE] = slot->trust.staple;
  o[OUT_OCSP_VERDICT] = slot->trust.verdict;
  if (slot->no_keep_alive) flags |= F_NO_KEEP_ALIVE;
  if (slot->state == S_APP && slot->responses_done > 0 && slot->reader->bytes == 0) flags |= F_BETWEEN_EXCHANGES;
  if (slot->nttfb && !(flags & F_ABORTED) && grow(&loop->ttfb_batch, &loop->ttfb_cap, loop->ttfb_count + slot->nttfb)) {
    memcpy(loop->ttfb_batch + loop->ttfb_count, slot->ttfb, slot->nttfb * sizeof *slot->ttfb);
    loop->ttfb_count += slot->nttfb;
    o[OUT_TTFB_COUNT] = (double)slot->nttfb;
  }
  if (slot->detail && !(flags & F_ABORTED)) {
    flags |= F_DETAIL;
    o[OUT_DETAIL] = (double)loop->ndetails;
    loop->details[loop->ndetails++] = *slot->detail;
  }
  o[OUT_FLAGS] = flags;
  loop->count++;
}

static void release_connection(handshake_loop_t *loop, slot_t *slot) {
  if (slot->ssl) {
    SSL_free(slot->ssl);   /* closes nothing: the fd is ours */
    slot->ssl = NULL;
  }
  if (slot->fd >= 0) {
    close(slot->fd);       /* the kernel drops it from the epoll set */
    slot->fd = -1;
  }
  if (slot->fresh) {
    SSL_SESSION_free(slot->fresh);
    slot->fresh = NULL;
  }
  if (slot->offer) {
    SSL_SESSION_free(slot->offer);
    slot->offer = NULL;
  }
  if (CONNECTED(slot->state)) loop->in_flight--;
  if (slot->measured) loop->measured_in_flight--;
  slot->measured = 0;
  slot->generation++;
}

/* The attempt is over: one outcome, the newest session kept, the slot free to start again. */
static void finish(handshake_loop_t *loop, slot_t *slot, unsigned flags, double now) {
  if (slot->fresh && slot->trust.verdict) {
    /* The client rejected the handshake (its staple): nothing of it is kept, as the Node engine. */
    SSL_SESSION_free(slot->fresh);
    slot->fresh = NULL;
  }
  if (slot->fresh) {
    flags |= F_SESSION;
    store_session(loop, slot, slot->fresh);
    slot->fresh = NULL;
  }
  emit(loop, slot, flags, now);
  release_connection(loop, slot);
  if (loop->cfg.open_loop) {
    /* Free for the next arrival. */
    slot->state = S_IDLE;
    slot->deadline = 1e300;
    loop->free_slots[loop->nfree++] = slot->index;
    return;
  }
  slot->state = S_WAITING;
  set_deadline(loop, slot, now);   /* restart at once */
}

static void fail(handshake_loop_t *loop, slot_t *slot, double now) {
  finish(loop, slot, 0, now);
}

static void drive_close(handshake_loop_t *loop, slot_t *slot, double now);
static void learn_server_close(handshake_loop_t *loop, int closed, double now);
static void drive_app(handshake_loop_t *loop, slot_t *slot, double now);
static void start_close(handshake_loop_t *loop, slot_t *slot, double now);
static void start_request(handshake_loop_t *loop, slot_t *slot, double now);
static void session_cache_mode(handshake_loop_t *loop, int on);
static void after_handshake(handshake_loop_t *loop, slot_t *slot, double now);

static void handshake_done(handshake_loop_t *loop, slot_t *slot, double now) {
  SSL *ssl = slot->ssl;
  slot->reused = SSL_session_reused(ssl);
  if (verification_failed(loop, slot)) {
    /* An untrusted server: a failure, closed with close_notify but without waiting on it. */
    ERR_clear_error();
    SSL_shutdown(ssl);
    ERR_clear_error();
    slot->reused = 0;
    return fail(loop, slot, now);
  }
  slot->handshake_at = now;
  slot->tls_us = elapsed_us(slot->connected_at, now);
  slot->handshake_done = 1;
  slot->tls13 = SSL_version(ssl) == TLS1_3_VERSION;
  if (loop->cfg.resume && !slot->tls13) {
    /* TLS 1.2 sessions are complete at the end of the handshake: a new one unless the offered one resumed. */
    SSL_SESSION *session = SSL_get1_session(ssl);
    if (session && (session == slot->offer || !capture_session(slot, session))) SSL_SESSION_free(session);
  }
  if (slot->sample) take_sample(loop, slot);
  /* A full handshake's staple (--ocsp): judged now, or the slot waits for JS's verdict. */
  if (loop->cfg.trust.ocsp && !slot->reused && !trust_judge(loop->trust, &slot->trust, ssl)) {
    slot->state = S_JUDGING;
    slot->deadline = 1e300;   /* JS answers between two slices */
    loop->judging++;
    return;
  }
  after_handshake(loop, slot, now);
}

/*
 * The client's side of the handshake is done and judged: the request phase, or the close. A client
 * that rejected the staple sends no request (as the Node engine): it closes, and the attempt fails.
 */
static void after_handshake(handshake_loop_t *loop, slot_t *slot, double now) {
  if (loop->cfg.request && !slot->trust.verdict) {
    slot->state = S_APP;
    slot->exchanges_left = loop->cfg.per_connection;
    start_request(loop, slot, now);
    early_data_settle(loop, slot);
    return drive_app(loop, slot, now);
  }
  start_close(loop, slot, now);
}

/* The client is done: close_notify and FIN now, then read until the server closes (bounded). */
static void start_close(handshake_loop_t *loop, slot_t *slot, double now) {
  slot->state = S_CLOSING;
  slot->shutdown_sent = 0;
  set_deadline(loop, slot, now + loop->cfg.close_wait_ms);
  drive_close(loop, slot, now);
}

/* The next exchange: its response timer starts as its request is written. */
static void start_request(handshake_loop_t *loop, slot_t *slot, double now) {
  slot->exchanges_left--;
  reader_reset(slot->reader);
  slot->written = 0;
  slot->written_at = now;
  set_deadline(loop, slot, now + loop->cfg.response_ms);
}

/*
 * A response is complete (attempt.ts's responseComplete): the next exchange, or the close. A
 * non-2xx status ends the exchanges (the attempt is counted in its status class); so does a server
 * that announced (`Connection: close`) or did its close before the last of per_connection. The
 * verdict is given after the clean close, unless the close brings a failure of its own.
 */
static void response_complete(handshake_loop_t *loop, slot_t *slot, int server_closed, double now) {
  response_reader_t *reader = slot->reader;
  slot->responses_done++;
  int status = reader->status_class;
  if (status == 2) slot->ok_statuses++;
  if (status != 0 && status != 2) slot->end_status = status;
  else if (slot->exchanges_left > 0 && (server_closed || reader->server_closes)) slot->no_keep_alive = 1;
  else if (slot->exchanges_left > 0) return start_request(loop, slot, now);
  start_close(loop, slot, now);
}

/*
 * The request phase (attempt.ts's 'app' phase): write the request, read its response until the
 * reader says it is complete, again per_connection times, then close. The first byte of each
 * response is its ttfb. A server that closes mid-response fails the attempt (EARLY_CLOSE), unless
 * the response is framed by the close; one that closes or resets between exchanges is flagged
 * F_BETWEEN_EXCHANGES, for JS to count as no keep-alive (errors.ts's betweenExchanges).
 */
static void drive_app(handshake_loop_t *loop, slot_t *slot, double now) {
  SSL *ssl = slot->ssl;
  /* Tickets may arrive with the response: the cache mode lets them through (see session_cache_mode). */
  session_cache_mode(loop, 1);
  size_t budget = CLOSE_READ_BUDGET;
  for (;;) {
    while (slot->written < loop->cfg.request_len) {
      ERR_clear_error();
      errno = 0;
      int w = SSL_write(ssl, loop->cfg.request + slot->written, (int)(loop->cfg.request_len - slot->written));
      if (w > 0) {
        slot->written += (size_t)w;
        continue;
      }
      int saved_errno = errno;
      int e = SSL_get_error(ssl, w);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return;
      set_ssl_error(loop, slot, PHASE_APP, e, saved_errno);
      return fail(loop, slot, now);
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(ssl, loop->sink, (int)sizeof loop->sink);
    if (r > 0) {
      response_reader_t *reader = slot->reader;
      if (reader->bytes == 0 && grow(&slot->ttfb, &slot->ttfb_cap, slot->nttfb + 1)) slot->ttfb[slot->nttfb++] = elapsed_us(slot->written_at, now);
      if (slot->first_byte_us < 0) slot->first_byte_us = elapsed_us(slot->connected_at, now);
      slot->bytes_read += r;
      int complete = reader_consume(reader, loop->sink, (size_t)r);
      if (complete < 0) {
        set_error(slot, PHASE_APP, "RESPONSE_HEAD_TOO_LARGE", NULL);
        return fail(loop, slot, now);
      }
      if (complete) {
        response_complete(loop, slot, 0, now);
        if (slot->state != S_APP) return;
        continue;
      }
      if ((size_t)r >= budget) return;   /* more at the next readiness event; the response timer bounds it */
      budget -= (size_t)r;
      continue;
    }
    int saved_errno = errno;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    int eof = e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && saved_errno == 0);
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    if (e == SSL_ERROR_SSL) {
      unsigned long err = ERR_peek_error();
      if (ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING) eof = 1;
    }
#endif
    if (eof) {
      /* The server closed: a response framed by the close is complete here (as onEnd). */
      if (reader_complete_at_end(slot->reader)) {
        ERR_clear_error();
        return response_complete(loop, slot, 1, now);
      }
      set_error(slot, PHASE_APP, "EARLY_CLOSE", NULL);
      return fail(loop, slot, now);
    }
    set_ssl_error(loop, slot, PHASE_APP, e, saved_errno);
    return fail(loop, slot, now);
  }
}


/*
 * The client session cache mode is on only while tickets may arrive (after the handshake): with it
 * on at the end of a TLS 1.3 handshake OpenSSL marks the session just used not resumable ("use
 * TLS 1.3 tickets once"), and the tickets that connection brings inherit the mark. Node escapes it
 * by re-reading every session from DER; the loop keeps SSL_SESSION* and turns the mode off instead.
 * One SSL_CTX per worker thread, so the switch never races.
 */
static void session_cache_mode(handshake_loop_t *loop, int on) {
  if (!loop->cfg.resume) return;
  SSL_CTX_set_session_cache_mode(loop->ctx, on ? SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE : SSL_SESS_CACHE_OFF);
}

static void drive_handshake(handshake_loop_t *loop, slot_t *slot, double now) {
  session_cache_mode(loop, 0);
  int early = early_data_write(loop, slot, now);
  if (early == 0) return;
  if (early < 0) return fail(loop, slot, now);
  ERR_clear_error();
  errno = 0;
  int r = SSL_do_handshake(slot->ssl);
  if (r == 1) return handshake_done(loop, slot, now);
  int saved_errno = errno;
  int e = SSL_get_error(slot->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
  set_ssl_error(loop, slot, PHASE_TLS, e, saved_errno);
  fail(loop, slot, now);
}

/*
 * After the handshake: send close_notify, then read (and discard) until the server closes. What
 * arrives meanwhile is processed by OpenSSL: tickets reach on_new_session, an alert ends SSL_read
 * with an error that JS classifies (an alert is a rejected handshake, anything else a success).
 */
static void drive_close(handshake_loop_t *loop, slot_t *slot, double now) {
  unsigned char *sink = loop->sink;
  SSL *ssl = slot->ssl;
  session_cache_mode(loop, 1);
  if (!slot->shutdown_sent) {
    ERR_clear_error();
    errno = 0;
    int r = SSL_shutdown(ssl);
    if (r < 0) {
      int e = SSL_get_error(ssl, r);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return;
      /* The server is already gone (EPIPE, reset): the handshake still completed. */
      ERR_clear_error();
      finish(loop, slot, 0, now);
      return learn_server_close(loop, 1, now);
    }
    slot->shutdown_sent = 1;
    if (r == 1) {
      finish(loop, slot, 0, now);
      return learn_server_close(loop, 1, now);
    }
    /* This server never answers a close_notify (learn_server_close): done once ours is sent. */
    if (!loop->await_server_close) return finish(loop, slot, 0, now);
  }
  size_t budget = CLOSE_READ_BUDGET;
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(ssl, sink, (int)sizeof loop->sink);
    if (r > 0) {
      if ((size_t)r >= budget) return;   /* more later; the close wait bounds it */
      budget -= (size_t)r;
      continue;
    }
    int saved_errno = errno;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    if (e == SSL_ERROR_SSL) {
      /* Maybe an alert (certificate_required after Finished); JS decides with errors.ts. */
      set_ssl_error(loop, slot, PHASE_CLOSE, e, saved_errno);
    }
    ERR_clear_error();
    finish(loop, slot, 0, now);   /* close_notify, FIN or reset: the server has closed */
    if (e != SSL_ERROR_SSL) learn_server_close(loop, 1, now);
    return;
  }
}

static void on_connected(handshake_loop_t *loop, slot_t *slot, double now) {
  slot->connected_at = now;
  slot->tcp_us = elapsed_us(slot->started_at, now);
  SSL *ssl = SSL_new(loop->ctx);
  if (!ssl) {
    set_error(slot, PHASE_TLS, "ERR_SSL_NEW_FAILED", NULL);
    return fail(loop, slot, now);
  }
  slot->ssl = ssl;
  SSL_set_ex_data(ssl, slot_ex_index, slot);
  trust_prepare(loop->trust, &slot->trust, ssl, slot->sample);
  SSL_set_fd(ssl, slot->fd);
  SSL_set_connect_state(ssl);
  if (loop->cfg.servername) SSL_set_tlsext_host_name(ssl, loop->cfg.servername);
  if (slot->offer) SSL_set_session(ssl, slot->offer);
  early_data_plan(loop, slot);
  slot->state = S_HANDSHAKE;
  set_deadline(loop, slot, now + loop->cfg.handshake_ms);
  drive_handshake(loop, slot, now);
}

/* Mirrors Engine.claim(): may an attempt start now, and is it measured? 0 none, 1 unmeasured, 2 measured. */
static int claim(handshake_loop_t *loop, double now) {
  if (loop->stop_requested || now >= loop->end_at) return 0;
  if (now < loop->window_at) return 1;
  if (loop->measured_left == 0) return 0;
  if (loop->measured_left > 0) loop->measured_left--;
  return 2;
}

/* Starts an attempt on `slot`: claim 1 unmeasured, 2 measured; intended_at: the open loop's arrival, or -1. */
static void launch(handshake_loop_t *loop, slot_t *slot, int c, double intended_at, double now) {
  slot->intended_at = intended_at;
  memset(&slot->pending, 0, sizeof slot->pending);
  slot->detail = NULL;
  trust_begin(&slot->trust);
  slot->verify_error = X509_V_OK;
  slot->name_mismatch = 0;
  slot->measured = c == 2;
  if (slot->measured) {
    loop->measured_in_flight++;
    loop->measured_started++;
    slot->sample = loop->measured_started <= SAMPLE_FIRST || loop->measured_started % SAMPLE_EVERY == 0;
  } else {
    slot->sample = 0;
  }
  SSL_SESSION *offer = session_to_offer(loop, slot);
  slot->offered = offer != NULL;
  slot->mechanism = offer ? offered_mechanism(offer) : 0;
  /* Held until the attempt ends: another slot may replace the worker's shared session meanwhile. */
  if (offer && SSL_SESSION_up_ref(offer)) slot->offer = offer;
  slot->handshake_done = slot->reused = slot->tls13 = 0;
  slot->tcp_us = slot->tls_us = slot->handshake_at = 0;
  slot->bytes_read = 0;
  slot->nttfb = 0;
  slot->responses_done = slot->ok_statuses = 0;
  slot->end_status = slot->no_keep_alive = 0;
  slot->first_byte_us = -1;
  slot->early = EARLY_NONE;
  slot->started_at = now;
  slot->state = S_CONNECTING;
  loop->in_flight++;

  int family = loop->cfg.addr.ss_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    set_errno_error(slot, PHASE_TCP, errno, "socket");
    return fail(loop, slot, now);
  }
  slot->fd = fd;
  int one = 1;
  /* close_notify follows the client's Finished at once: Nagle would hold it for the server's ACK. */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                            .data.u64 = ((uint64_t)slot->generation << 32) | (uint32_t)slot->index };
  if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    set_errno_error(slot, PHASE_TCP, errno, "epoll");
    return fail(loop, slot, now);
  }
  if (connect(fd, (struct sockaddr *)&loop->cfg.addr, loop->cfg.addr_len) == 0) return on_connected(loop, slot, monotonic_ms());
  if (errno != EINPROGRESS) {
    set_errno_error(slot, PHASE_TCP, errno, "connect");
    return fail(loop, slot, now);
  }
  set_deadline(loop, slot, now + loop->cfg.connect_ms);
}

/* Closed loop: the slot's next attempt, if one may start. */
static void start_attempt(handshake_loop_t *loop, slot_t *slot, double now) {
  int c = claim(loop, now);
  if (c == 0) {
    slot->state = S_DONE;
    slot->deadline = 1e300;
    loop->done_slots++;
    return;
  }
  launch(loop, slot, c, -1, now);
}

/* Open loop: an arrival that found every slot busy, dropped on the spot (never queued). */
static void emit_drop(handshake_loop_t *loop, int c, double intended_at) {
  double *o = loop->outcomes + loop->count * OUT_FIELDS;
  for (int i = 0; i < OUT_FIELDS; i++) o[i] = 0;
  o[OUT_SLOT] = -1;
  o[OUT_FLAGS] = F_DROPPED | (c == 2 ? F_MEASURED : 0);
  o[OUT_STARTED_AT] = intended_at;
  o[OUT_COMPLETED_AT] = intended_at;
  o[OUT_DETAIL] = -1;
  o[OUT_INTENDED_AT] = intended_at;
  loop->count++;
}

/*
 * Open loop (open-loop.ts in C): every arrival due by `now` is claimed by its intended time, then
 * takes a free slot or is dropped. Each produces at most one outcome now (a drop, or a socket that
 * failed at once), so it stops while the batch has no room and goes on in the next slice.
 */
static void take_arrivals(handshake_loop_t *loop, double now) {
  while (!loop->arrivals_done && loop->arrivals_head < loop->arrivals_tail) {
    double at = loop->arrivals[loop->arrivals_head];
    if (at > now) return;
    if (loop->count + 2 * (size_t)loop->nslots + MAX_EVENTS + 1 > loop->capacity) return;
    loop->arrivals_head++;
    int c = claim(loop, at);
    if (c == 0) {
      loop->arrivals_done = 1;
      return;
    }
    if (loop->nfree == 0) {
      emit_drop(loop, c, at);
      continue;
    }
    slot_t *slot = &loop->slots[loop->free_slots[--loop->nfree]];
    launch(loop, slot, c, at, now);
  }
}

/*
 * Open loop, at the window's end (or a stop): arrivals due before it that the loop had not reached
 * yet (a late slice) still arrived. Each is dropped when every slot is busy, else counted as started
 * and at once unfinished (aborted before it dialled), as open-loop.ts does, so arrivals =
 * started + dropped and no arrival of the window goes uncounted. Needs room for every one.
 */
static void close_arrivals(handshake_loop_t *loop, double now) {
  double until = now < loop->end_at ? now : loop->end_at;
  while (!loop->arrivals_done && loop->arrivals_head < loop->arrivals_tail) {
    if (loop->count + (size_t)loop->nslots + 1 > loop->capacity) return;   /* abort_all needs its room */
    double at = loop->arrivals[loop->arrivals_head];
    if (at >= until) break;
    loop->arrivals_head++;
    int c = at < loop->window_at ? 1 : loop->measured_left == 0 ? 0 : 2;
    if (c == 0) break;
    if (c == 2 && loop->measured_left > 0) loop->measured_left--;
    if (loop->nfree == 0) {
      emit_drop(loop, c, at);
      continue;
    }
    slot_t *slot = &loop->slots[loop->free_slots[loop->nfree - 1]];
    slot->measured = c == 2;
    slot->offered = 0;
    slot->handshake_done = 0;
    slot->detail = NULL;
    trust_begin(&slot->trust);
    slot->started_at = at;
    slot->intended_at = at;
    slot->tcp_us = slot->tls_us = slot->handshake_at = 0;
    slot->early = EARLY_NONE;
    emit(loop, slot, F_ABORTED, now);
    slot->measured = 0;
  }
  loop->arrivals_done = 1;
}

size_t loop_schedule(handshake_loop_t *loop, const double *times, size_t n) {
  if (!loop->cfg.open_loop || loop->arrivals_done) return n;   /* nothing more will start: take and forget */
  if (loop->arrivals_head == loop->arrivals_tail) loop->arrivals_head = loop->arrivals_tail = 0;
  if (loop->arrivals_head > 0) {
    memmove(loop->arrivals, loop->arrivals + loop->arrivals_head, (loop->arrivals_tail - loop->arrivals_head) * sizeof *loop->arrivals);
    loop->arrivals_tail -= loop->arrivals_head;
    loop->arrivals_head = 0;
  }
  size_t room = ARRIVALS_CAPACITY - loop->arrivals_tail;
  if (n > room) n = room;
  memcpy(loop->arrivals + loop->arrivals_tail, times, n * sizeof *times);
  loop->arrivals_tail += n;
  return n;
}

static void on_event(handshake_loop_t *loop, slot_t *slot, uint32_t events, double now) {
  switch (slot->state) {
    case S_CONNECTING: {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      if (getsockopt(slot->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
      if (err) {
        set_errno_error(slot, PHASE_TCP, err, "connect");
        return fail(loop, slot, now);
      }
      if (events & EPOLLHUP) {
        set_error(slot, PHASE_TCP, "EARLY_CLOSE", NULL);
        return fail(loop, slot, now);
      }
      return on_connected(loop, slot, now);
    }
    case S_HANDSHAKE: return drive_handshake(loop, slot, now);
    case S_APP: return drive_app(loop, slot, now);
    case S_CLOSING: return drive_close(loop, slot, now);
    default: return;
  }
}

/*
 * Engine.learnServerClose in C: a server that never answers a close_notify would hold every slot
 * for the whole close wait. After CLOSE_WAIT_GIVE_UP such connections in a row, with no close ever
 * seen, the loop stops waiting for one, and releases the slots waiting now.
 */
static void learn_server_close(handshake_loop_t *loop, int closed, double now) {
  if (!loop->await_server_close) return;
  if (closed) {
    loop->server_closes_seen++;
    loop->close_waits_in_a_row = 0;
    return;
  }
  if (++loop->close_waits_in_a_row < CLOSE_WAIT_GIVE_UP || loop->server_closes_seen > 0) return;
  loop->await_server_close = 0;
  for (int i = 0; i < loop->nslots; i++) {
    slot_t *slot = &loop->slots[i];
    if (slot->state == S_CLOSING && slot->shutdown_sent) finish(loop, slot, 0, now);
  }
}

static void on_deadline(handshake_loop_t *loop, slot_t *slot, double now) {
  switch (slot->state) {
    case S_WAITING: return start_attempt(loop, slot, now);
    case S_CONNECTING:
      set_error(slot, PHASE_TCP, "PHASE_TIMEOUT", NULL);
      return fail(loop, slot, now);
    case S_HANDSHAKE:
      set_error(slot, PHASE_TLS, "PHASE_TIMEOUT", NULL);
      return fail(loop, slot, now);
    case S_APP:
      set_error(slot, PHASE_APP, "PHASE_TIMEOUT", NULL);
      return fail(loop, slot, now);
    case S_CLOSING:
      /* The server kept the connection open past the bound: the handshake still succeeded. */
      finish(loop, slot, F_CLOSE_WAIT_EXPIRED, now);
      return learn_server_close(loop, 0, now);
    default: return;
  }
}

/* Deadlines are scanned when the earliest one is due (O(slots) then, O(1) otherwise). */
static void scan_deadlines(handshake_loop_t *loop, double now) {
  if (now < loop->next_scan) return;
  double next = 1e300;
  for (int i = 0; i < loop->nslots; i++) {
    slot_t *slot = &loop->slots[i];
    if (slot->state == S_DONE) continue;
    if (slot->deadline <= now) on_deadline(loop, slot, now);
    if (slot->state != S_DONE && slot->deadline < next) next = slot->deadline;
  }
  loop->next_scan = next;
}

/* Ends every attempt in flight as an aborted outcome (unfinished, when the window had opened). */
static void abort_all(handshake_loop_t *loop, double now) {
  for (int i = 0; i < loop->nslots; i++) {
    slot_t *slot = &loop->slots[i];
    if (CONNECTED(slot->state)) {
      /* A handshake that completed gets its close_notify: the server sees a clean close. */
      if ((slot->state == S_CLOSING && !slot->shutdown_sent) || slot->state == S_APP || slot->state == S_JUDGING) {
        ERR_clear_error();
        SSL_shutdown(slot->ssl);
        ERR_clear_error();
      }
      /* Every one, measured or not (a warm-up attempt still undecided is carried in and unfinished), as the Node engine. */
      emit(loop, slot, F_ABORTED, now);
      release_connection(loop, slot);
    }
    slot->state = S_DONE;
  }
  loop->judging = 0;
  loop->done_slots = loop->nslots;
  loop->in_flight = 0;
  loop->finished = 1;
}

/* ---------- the loop ---------- */

/* Slots whose staple JS has judged since the last slice go on (close, or the request phase). */
static void resume_judged(handshake_loop_t *loop, double now) {
  for (int i = 0; i < loop->nslots && loop->judging > 0; i++) {
    slot_t *slot = &loop->slots[i];
    if (slot->state != S_JUDGING || !trust_resolve(loop->trust, &slot->trust)) continue;
    loop->judging--;
    after_handshake(loop, slot, now);
  }
}

size_t loop_run(handshake_loop_t *loop, double slice_ms, int *finished) {
  loop->count = 0;
  loop->ndetails = 0;
  loop->ttfb_count = 0;
  *finished = loop->finished;
  if (!loop->begun || loop->finished) return 0;
  double now = monotonic_ms();
  double slice_end = now + slice_ms;
  struct epoll_event events[MAX_EVENTS];
  resume_judged(loop, now);
  for (;;) {
    if (loop->stop_requested || now >= loop->end_at) {
      if (loop->closing_at == 0) loop->closing_at = now;
      if (loop->cfg.open_loop && !loop->arrivals_done) {
        close_arrivals(loop, loop->closing_at);
        if (!loop->arrivals_done) break;   /* the batch is full: the rest in the next one */
      }
      /* Aborted outcomes need room for every slot: with a partly filled batch, come back. */
      if (loop->count + (size_t)loop->nslots > loop->capacity) break;
      abort_all(loop, now);
      break;
    }
    /*
     * Room for every outcome the next step can produce: one per event, and per slot up to two (its
     * attempt ends, and the next one fails at once), which also covers learn_server_close releasing
     * every slot once.
     */
    if (loop->count + 2 * (size_t)loop->nslots + MAX_EVENTS > loop->capacity) break;
    if (loop->cfg.open_loop) take_arrivals(loop, now);
    scan_deadlines(loop, now);
    if (loop->measured_in_flight == 0 && loop->measured_left == 0 && now >= loop->window_at) {
      /* --handshakes: the quota is spent and the last measured attempt is in. */
      abort_all(loop, now);
      break;
    }
    if (now >= slice_end) break;
    /* A staple awaits JS's verdict: back to JS now, so its slot waits no longer than that. */
    if (loop->judging && trust_awaiting(loop->trust)) break;
    if (loop->done_slots == loop->nslots || (loop->arrivals_done && loop->in_flight == 0)) {
      loop->finished = 1;
      break;
    }
    double until = slice_end;
    if (loop->next_scan < until) until = loop->next_scan;
    if (!loop->arrivals_done && loop->arrivals_head < loop->arrivals_tail && loop->arrivals[loop->arrivals_head] < until) {
      until = loop->arrivals[loop->arrivals_head];
    }
    if (loop->end_at < until) until = loop->end_at;
    double wait = until - now;
    /* epoll's timeout is whole ms: round up, never spin on a sub-millisecond remainder. */
    int timeout = wait <= 0 ? 0 : (int)(wait + 0.999);
    double before = now;
    int n = epoll_wait(loop->epfd, events, MAX_EVENTS, timeout);
    now = monotonic_ms();
    loop->idle_ms += now - before;
    for (int i = 0; i < n; i++) {
      uint32_t index = (uint32_t)events[i].data.u64;
      uint32_t generation = (uint32_t)(events[i].data.u64 >> 32);
      if (index >= (uint32_t)loop->nslots) continue;
      slot_t *slot = &loop->slots[index];
      if (slot->generation != generation) continue;   /* an event of a connection already closed */
      on_event(loop, slot, events[i].events, now);
    }
  }
  *finished = loop->finished;
  return loop->count;
}

void loop_begin(handshake_loop_t *loop, double start_at, double ramp_end_at, double window_at, double end_at, double measured) {
  loop->start_at = start_at;
  loop->ramp_end_at = ramp_end_at;
  loop->window_at = window_at;
  loop->end_at = end_at;
  loop->measured_left = measured < 0 ? -1 : measured;
  loop->begun = 1;
  if (loop->cfg.open_loop) {
    /* Every slot free; slot 0 is taken first (open-loop.ts's stack). The ramp is in the arrival times. */
    loop->nfree = 0;
    for (int i = loop->nslots - 1; i >= 0; i--) {
      slot_t *slot = &loop->slots[i];
      slot->state = S_IDLE;
      slot->deadline = 1e300;
      loop->free_slots[loop->nfree++] = i;
    }
    loop->next_scan = 1e300;
    return;
  }
  /* With a ramp, slot i joins at start + ramp·i/slots (closed-loop.ts). */
  for (int i = 0; i < loop->nslots; i++) {
    slot_t *slot = &loop->slots[i];
    slot->state = S_WAITING;
    slot->deadline = start_at + (ramp_end_at - start_at) * i / loop->nslots;
  }
  loop->next_scan = start_at;
}

void loop_stop(handshake_loop_t *loop) {
  loop->stop_requested = 1;
}

const double *loop_ttfbs(handshake_loop_t *loop, size_t *count) {
  *count = loop->ttfb_count;
  return loop->ttfb_batch;
}

const detail_t *loop_detail(handshake_loop_t *loop, size_t index) {
  return index < loop->ndetails ? &loop->details[index] : NULL;
}

trust_t *loop_trust(handshake_loop_t *loop) {
  return loop->trust;
}

size_t loop_in_flight(handshake_loop_t *loop) {
  return loop->in_flight;
}

double loop_idle_ms(handshake_loop_t *loop) {
  return loop->idle_ms;
}

/* ---------- setup ---------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_process(void) {
  /* Node has initialised OpenSSL. SSL_get0_group_name exists from OpenSSL 3.2 (Node 22.?/24) on. */
  get0_group_name = (group_name_fn)dlsym(RTLD_DEFAULT, "SSL_get0_group_name");
  slot_ex_index = SSL_get_ex_new_index(0, "tlsbench slot", NULL, NULL, NULL);
}

handshake_loop_t *loop_create(const loop_config_t *config, double *outcomes, char *err, size_t err_len) {
  /* Workers create their loops concurrently; the process-wide lookups happen once. */
  pthread_once(&init_once, init_process);
  ERR_clear_error();
  if (slot_ex_index < 0) {
    snprintf(err, err_len, "SSL_get_ex_new_index failed");
    return NULL;
  }
  handshake_loop_t *loop = calloc(1, sizeof *loop);
  if (!loop) {
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  loop->cfg = *config;
  loop->epfd = -1;
  loop->keylog_fd = -1;
  loop->outcomes = outcomes;
  loop->capacity = config->outcome_capacity;
  loop->nslots = config->slots;
  loop->slots = calloc((size_t)config->slots, sizeof *loop->slots);
  loop->details = calloc(config->outcome_capacity, sizeof *loop->details);
  if (config->open_loop) {
    loop->arrivals = malloc(ARRIVALS_CAPACITY * sizeof *loop->arrivals);
    loop->free_slots = malloc((size_t)config->slots * sizeof *loop->free_slots);
  }
  if (!loop->slots || !loop->details || (config->open_loop && (!loop->arrivals || !loop->free_slots))) {
    snprintf(err, err_len, "out of memory");
    goto fail;
  }
  for (int i = 0; i < loop->nslots; i++) {
    loop->slots[i].index = i;
    loop->slots[i].fd = -1;
    loop->slots[i].state = S_DONE;
    if (config->request && !(loop->slots[i].reader = malloc(sizeof *loop->slots[i].reader))) {
      snprintf(err, err_len, "out of memory");
      goto fail;
    }
    if (config->request) {
      loop->slots[i].reader->framing = config->framing;
      loop->slots[i].reader->count = config->framing_count;
    }
  }
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->epfd < 0) {
    snprintf(err, err_len, "epoll_create1: %s", strerror(errno));
    goto fail;
  }
  SSL_CTX *ctx = loop->ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    openssl_failure(err, err_len, "SSL_CTX_new");
    goto fail;
  }
  SSL_CTX_set_app_data(ctx, loop);
  SSL_CTX_set_min_proto_version(ctx, config->min_version);
  SSL_CTX_set_max_proto_version(ctx, config->max_version);
  if (config->ciphers && !SSL_CTX_set_cipher_list(ctx, config->ciphers)) {
    openssl_failure(err, err_len, "ciphers");
    goto fail;
  }
  if (config->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, config->ciphersuites)) {
    openssl_failure(err, err_len, "ciphersuites");
    goto fail;
  }
  if (config->groups && !SSL_CTX_set1_groups_list(ctx, config->groups)) {
    openssl_failure(err, err_len, "groups");
    goto fail;
  }
  if (config->sigalgs && !SSL_CTX_set1_sigalgs_list(ctx, config->sigalgs)) {
    openssl_failure(err, err_len, "sigalgs");
    goto fail;
  }
  if (config->alpn && config->alpn_len && SSL_CTX_set_alpn_protos(ctx, config->alpn, (unsigned)config->alpn_len) != 0) {
    openssl_failure(err, err_len, "alpn");
    goto fail;
  }
  if (config->resume == 2) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  /* TLS 1.3 sessions come to on_new_session (see session_cache_mode); OpenSSL keeps no cache of its own. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (config->resume) SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  if (config->ca_pem && pem_add_certificates(SSL_CTX_get_cert_store(ctx), NULL, config->ca_pem) < 0) {
    openssl_failure(err, err_len, "ca");
    goto fail;
  }
  if (config->verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, on_verify);
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    /* Node's checkServerIdentity rules: DNS SANs, the CN only without them, wildcards allowed. */
    X509_VERIFY_PARAM_set_hostflags(param, 0);
    if (config->verify_host && !X509_VERIFY_PARAM_set1_host(param, config->verify_host, 0)) {
      openssl_failure(err, err_len, "host name");
      goto fail;
    }
    if (config->verify_ip && !X509_VERIFY_PARAM_set1_ip_asc(param, config->verify_ip)) {
      openssl_failure(err, err_len, "IP address");
      goto fail;
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  }
  if (!(loop->trust = trust_create(ctx, &config->trust, err, err_len))) goto fail;
  if (config->cert_pem && config->key_pem && !pem_use_certificate_chain(ctx, config->cert_pem, config->key_pem, config->passphrase)) {
    openssl_failure(err, err_len, "client certificate or key");
    goto fail;
  }
  if (config->keylog_file) {
    loop->keylog_fd = open(config->keylog_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (loop->keylog_fd < 0) {
      snprintf(err, err_len, "keylog %s: %s", config->keylog_file, strerror(errno));
      goto fail;
    }
    SSL_CTX_set_keylog_callback(ctx, keylog_line);
  }
  loop->end_at = 1e300;
  loop->next_scan = 1e300;
  loop->await_server_close = 1;
  return loop;
fail:
  loop_destroy(loop);
  return NULL;
}

void loop_destroy(handshake_loop_t *loop) {
  if (!loop) return;
  if (loop->slots) {
    for (int i = 0; i < loop->nslots; i++) {
      slot_t *slot = &loop->slots[i];
      if (CONNECTED(slot->state)) release_connection(loop, slot);
      if (slot->session) SSL_SESSION_free(slot->session);
      slot->session = NULL;
      free(slot->reader);
      free(slot->ttfb);
    }
  }
  if (loop->shared) SSL_SESSION_free(loop->shared);
  trust_destroy(loop->trust);
  if (loop->ctx) SSL_CTX_free(loop->ctx);
  if (loop->epfd >= 0) close(loop->epfd);
  if (loop->keylog_fd >= 0) close(loop->keylog_fd);
  free(loop->slots);
  free(loop->details);
  free(loop->arrivals);
  free(loop->free_slots);
  free(loop->ttfb_batch);
  free(loop);
}
