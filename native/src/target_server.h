/*
 * The built-in target on OpenSSL directly (`serve --engine native`): the same handshake behaviour as
 * the Node server (src/server/target-server.ts), the same counters, and one thing Node's server
 * cannot do: reject a client certificate inside the handshake, with OpenSSL's alert. Node verifies a
 * client certificate after the handshake and drops the connection without an alert, after the TLS 1.3
 * tickets have gone out, so a client cannot tell the rejection from a close. Here OpenSSL's own
 * verification fails the handshake (certificate_revoked, unknown_ca, …) before any ticket.
 *
 * One epoll loop per thread, all accepting on one listening socket, one SSL_CTX shared.
 */
#ifndef TLSBENCH_TARGET_SERVER_H
#define TLSBENCH_TARGET_SERVER_H

#include <stddef.h>
#include <stdint.h>

enum target_mtls { MTLS_OFF = 0, MTLS_REQUIRED = 1, MTLS_OPTIONAL = 2 };

typedef struct target_config {
  const char *host;                 /* an IP address */
  int port;                         /* 0: a free one */
  const char *cert_pem;             /* the server certificate, then any intermediates */
  const char *key_pem;
  int min_version, max_version;     /* TLS1_VERSION … TLS1_3_VERSION */
  const char *ciphers;              /* TLS 1.2 and below, or NULL */
  const char *ciphersuites;         /* TLS 1.3, or NULL */
  const char *groups;               /* or NULL */
  int tickets;
  int session_cache;
  long session_cache_entries;
  const unsigned char *ticket_keys; /* 48 bytes (name, HMAC, AES, as Node's ticketKeys), or NULL */
  int mtls;                         /* enum target_mtls */
  const char *ca_pem;               /* with mtls: the CA client certificates must chain to */
  const char *crl_pem;              /* with mtls: revoked client certificates, or NULL */
  int ocsp;                         /* staple what target_set_staple gave to clients that ask */
  /* The answers (src/server/responses.ts builds them for both servers); copied. */
  const unsigned char *keep_alive; size_t keep_alive_len;     /* to an HTTP request */
  const unsigned char *close_response; size_t close_response_len; /* to one with Connection: close */
  const unsigned char *raw; size_t raw_len;                   /* to any other chunk (may be empty) */
  int threads;
  double handshake_timeout_ms;      /* a handshake not done by then fails (0: none) */
} target_config_t;

/* Rejection reasons are X509_V_ERR_* codes below this; REJECT_NO_CERTIFICATE is the last slot. */
#define REJECT_SLOTS 128
#define REJECT_NO_CERTIFICATE (REJECT_SLOTS - 1)
#define LAST_ERRORS_KEPT 10
#define LAST_ERROR_LEN 160

typedef struct target_stats {
  uint64_t handshakes, resumed, failed, socket_errors, requests;
  uint64_t cache_hits, cache_misses, cache_stored, cache_evicted;
  uint64_t staples, staple_bytes;
  uint64_t cert_requested, cert_sent, cert_accepted;
  uint64_t rejected[REJECT_SLOTS];
} target_stats_t;

typedef struct target_server target_server_t;

/* Listening once it returns; NULL with a message in err on failure. Strings are only read here. */
target_server_t *target_start(const target_config_t *config, char *err, size_t err_len);
int target_port(const target_server_t *server);
/* The counters now (summed over threads). */
void target_stats(target_server_t *server, target_stats_t *out);
/* The last few handshake failures, oldest first; returns how many were copied. */
size_t target_last_errors(target_server_t *server, char out[][LAST_ERROR_LEN], size_t max);
/* The OCSP response to staple from now on (copied). 0 on allocation failure. */
int target_set_staple(target_server_t *server, const unsigned char *der, size_t len);
/* Stops every thread, closes every connection and the listener, frees the server. */
void target_stop(target_server_t *server);

#endif
