/*
 * The native handshake engine's core: one epoll loop per piscina worker driving that worker's
 * slots (TCP connect → TLS handshake → close_notify → read until the server closes), plain C on
 * the running Node's own OpenSSL. The N-API glue (addon.c) is the only caller.
 */
#ifndef TLSBENCH_HANDSHAKE_LOOP_H
#define TLSBENCH_HANDSHAKE_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <openssl/ssl.h>

#include "trust.h"

/* Outcome fields, one double each (a Float64Array shared with JS). Keep in step with native-engine.ts. */
enum {
  OUT_SLOT, OUT_FLAGS, OUT_STARTED_AT, OUT_TCP_US, OUT_TLS_US, OUT_HANDSHAKE_AT, OUT_COMPLETED_AT, OUT_DETAIL,
  OUT_INTENDED_AT,          /* open loop: the arrival's intended start (ms); -1 in a closed loop */
  OUT_BYTES_READ,           /* request phase: response bytes read */
  OUT_TTFB_AT, OUT_TTFB_COUNT,   /* request phase: this outcome's ttfb µs in loop_ttfbs() */
  /* request phase: the HTTP status classes of the complete responses, as 8 × (2xx responses) + the
     class of the non-2xx one that ended the exchanges (0: none). A non-2xx response is always the last. */
  OUT_STATUSES,
  /* --early-data: enum early_data's outcome of this attempt (EARLY_NONE when it did not apply). */
  OUT_EARLY_DATA,
  /* request phase: TCP connected → the first response byte of the connection, µs (-1: none). */
  OUT_FIRST_BYTE_US,
  /* --ocsp (trust.h's trust_slot_t): the staple (0 not judged, -1 none, k: staple k) and the verdict acted on. */
  OUT_STAPLE, OUT_OCSP_VERDICT,
  OUT_FIELDS
};

/*
 * --early-data (TLS 1.3 0-RTT): what became of the request's first bytes on an attempt that offered
 * a session. NONE: not applicable (no --early-data, or no session offered). The two NOT_OFFERED
 * reasons are read from the offered session's max_early_data before anything is sent.
 */
enum early_data {
  EARLY_NONE = 0,
  EARLY_NOT_OFFERED_NONE_ALLOWED = 1,   /* the session's ticket allows no early data (max_early_data 0) */
  EARLY_NOT_OFFERED_TOO_FEW = 2,        /* it allows fewer bytes than --early-data */
  EARLY_ACCEPTED = 3,
  EARLY_REJECTED = 4,                   /* sent, refused by the server: the request went again after the handshake */
  EARLY_PENDING = 5,                    /* in flight only: to be written with the ClientHello */
  EARLY_SENT = 6                        /* in flight only: written, the server's verdict comes with the handshake */
};

/* OUT_FLAGS bits. */
#define F_MEASURED 1u
#define F_OFFERED 2u
#define F_HANDSHAKE 4u          /* the client's side of the handshake completed (reused is valid) */
#define F_REUSED 8u
#define F_SESSION 16u           /* the server issued a session this attempt */
#define F_CLOSE_WAIT_EXPIRED 32u   /* the server did not close within the close wait */
#define F_ABORTED 64u
#define F_DETAIL 128u
#define F_NO_KEEP_ALIVE 256u    /* request phase verdict: the server closed (or said it would) before the last exchange */
#define F_BETWEEN_EXCHANGES 512u   /* failed in the request phase after a complete response, before the next one's first byte */
#define F_DROPPED 1024u         /* open loop: an arrival that found no free slot (OUT_INTENDED_AT: when it was due) */
/* 3 bits from here: how the offered session resumes if the server takes it (with F_OFFERED):
 * 1 tls12-ticket, 2 tls12-session-id, 3 tls13-psk-stateless, 4 tls13-psk-stateful. */
#define F_MECH_SHIFT 11

enum phase { PHASE_TCP = 0, PHASE_TLS = 1, PHASE_CLOSE = 2, PHASE_APP = 3 };

/* What JS needs beyond the numbers: rare (errors, 1-in-64 samples), so kept aside. */
typedef struct detail {
  int has_error;
  int phase;                /* enum phase of the error */
  char code[96];            /* Node-style error code: ECONNRESET, ERR_SSL_…, a verify code, PHASE_TIMEOUT */
  char syscall[8];          /* "read"/"write"/"connect" for socket errors, "" otherwise */
  int has_sample;
  char protocol[16];
  char cipher[64];
  char group[48];
  char alpn[64];
  char certificate[48];
  int client_certificate;             /* the client's Certificate carried one */
  int client_certificate_requested;   /* the server sent a CertificateRequest */
} detail_t;

typedef struct loop_config {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  const char *servername;   /* SNI, or NULL */
  int verify;               /* 0 with --insecure */
  const char *verify_host;  /* host-name check, or NULL */
  const char *verify_ip;    /* IP check (no SNI, IP target), or NULL */
  const char *ca_pem;
  const char *cert_pem, *key_pem, *passphrase;
  int min_version, max_version;   /* TLS1_VERSION … TLS1_3_VERSION */
  const char *ciphers, *ciphersuites, *groups, *sigalgs;
  const unsigned char *alpn; size_t alpn_len;
  int resume;               /* 0 none, 1 ticket, 2 id (no ticket extension) */
  double resume_ratio;
  int scope_worker;
  double connect_ms, handshake_ms, close_wait_ms;
  const char *keylog_file;
  int slots;                /* closed loop: slots; open loop: the cap on attempts in flight */
  int open_loop;            /* arrivals come from loop_schedule(), not from slots restarting */
  /* The request phase: `request` written after the handshake, per_connection times, each response
     framed as response_reader.h says; NULL: none. */
  const unsigned char *request; size_t request_len;
  int framing; double framing_count;
  double per_connection;
  double response_ms;
  /* --early-data: the request's first early_data bytes go as TLS 1.3 early data on resumed attempts; 0: off. */
  size_t early_data;
  size_t outcome_capacity;
  trust_config_t trust;     /* --crl, --ocsp, --require-staple */
} loop_config_t;

typedef struct handshake_loop handshake_loop_t;

/* NULL with a message in err on failure (bad cipher string, unreadable key, …). */
handshake_loop_t *loop_create(const loop_config_t *config, double *outcomes, char *err, size_t err_len);
/* The phase clock in CLOCK_MONOTONIC ms; measured < 0: no quota (timed window). */
void loop_begin(handshake_loop_t *loop, double start_at, double ramp_end_at, double window_at, double end_at, double measured);
/*
 * Runs the loop until slice_ms has passed, the outcome buffer is full, or every slot is done.
 * Returns the number of outcomes written; *finished is set once nothing is left to do.
 */
size_t loop_run(handshake_loop_t *loop, double slice_ms, int *finished);
/*
 * Open loop: queues arrivals' intended start times (monotonic ms, ascending), computed by the
 * TypeScript pacing (arrivals.ts). Returns how many it took (the queue is bounded).
 */
size_t loop_schedule(handshake_loop_t *loop, const double *times, size_t n);
/* Aborts what is in flight (each comes out as an aborted outcome on the next loop_run). */
void loop_stop(handshake_loop_t *loop);
const detail_t *loop_detail(handshake_loop_t *loop, size_t index);
/* The request phase: every ttfb (µs) of the last loop_run's outcomes (OUT_TTFB_AT/COUNT index it). */
const double *loop_ttfbs(handshake_loop_t *loop, size_t *count);
size_t loop_in_flight(handshake_loop_t *loop);
/* --ocsp: the loop's trust side, for staples awaiting JS's verdict (trust_pending, trust_set_verdict). */
trust_t *loop_trust(handshake_loop_t *loop);
/* Milliseconds spent waiting in epoll_wait since creation: the loop's idle time. */
double loop_idle_ms(handshake_loop_t *loop);
void loop_destroy(handshake_loop_t *loop);
double monotonic_ms(void);

#endif
