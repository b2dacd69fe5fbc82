/*
 * The native engine's trust features, kept apart from the loop (handshake_loop.c calls in at a few
 * points): the client's CRL (--crl), the stapled OCSP response (--ocsp, --require-staple) and what
 * the server asked of the client's certificate. The verdict on a staple is TypeScript's
 * (src/trust/ocsp-staple.ts, the Node engine's too): this side only hands each distinct staple to
 * JS once, remembers the verdict JS gave for as long as it holds, and applies it.
 */
#ifndef TLSBENCH_TRUST_H
#define TLSBENCH_TRUST_H

#include <stddef.h>
#include <openssl/ssl.h>

typedef struct trust_config {
  const char *crl_pem;       /* --crl: the one CRL (PEM), or NULL */
  int ocsp;                  /* ask for a staple (status_request) and have it judged */
  int missing_verdict;       /* the verdict for a full handshake without a staple (0: accepted) */
} trust_config_t;

/* Per attempt (a field of the loop's slot). */
typedef struct trust_slot {
  /* OUT_STAPLE: 0 not judged (no --ocsp, resumed, or no completed handshake), -1 nothing stapled,
     k ≥ 1: staple k (trust_pending's id). */
  double staple;
  /* OUT_OCSP_VERDICT: 0 accepted; else the number JS gave for the class that rejects it. */
  int verdict;
  int waiting;               /* the staple's verdict is awaited from JS */
  /* A sampled handshake: the server sent a CertificateRequest; the client's Certificate carried one. */
  int cert_requested, cert_sent;
} trust_slot_t;

typedef struct trust trust_t;

/*
 * As Node's SecureContext.addCRL: the CRL (PEM) into ctx's store, every certificate below the anchor
 * checked against it (X509_V_FLAG_CRL_CHECK | CRL_CHECK_ALL). 1 on success. The client's --crl and
 * the built-in server's --crl alike.
 */
int trust_add_crl(SSL_CTX *ctx, const char *pem);
/* NULL with a message in err on failure (a CRL that does not load). Configures ctx. */
trust_t *trust_create(SSL_CTX *ctx, const trust_config_t *config, char *err, size_t err_len);
void trust_destroy(trust_t *trust);
/* A new attempt on the slot. */
void trust_begin(trust_slot_t *slot);
/* The attempt's SSL, before its handshake: a staple asked for; a sampled one watches the messages. */
void trust_prepare(trust_t *trust, trust_slot_t *slot, SSL *ssl, int sample);
/*
 * After a full handshake (--ocsp): looks at the staple. Returns 1 when the verdict is set
 * (slot->verdict), 0 when it is awaited from JS (trust_pending / trust_set_verdict), then
 * trust_resolve tells when it has come. Resumed handshakes carry no staple: not called for them.
 */
int trust_judge(trust_t *trust, trust_slot_t *slot, SSL *ssl);
/* For a slot waiting on a verdict: 1 once set (slot->verdict), 0 still awaited. */
int trust_resolve(trust_t *trust, trust_slot_t *slot);
/* Whether any verdict is awaited from JS (the loop then ends its slice early). */
int trust_awaiting(const trust_t *trust);

/* A staple JS is asked to judge; the pointers are valid until the next call into the loop. */
typedef struct trust_request {
  int id;
  const unsigned char *staple; size_t staple_len;
  const unsigned char *leaf; size_t leaf_len;
  const unsigned char *issuer; size_t issuer_len;   /* NULL: no issuer in the verified chain */
} trust_request_t;

/* The staples awaiting a verdict: fills up to max requests, returns how many there are. */
size_t trust_pending(trust_t *trust, trust_request_t *out, size_t max);
/* JS's verdict on staple `id`, holding from valid_from to valid_until (wall-clock epoch ms). */
void trust_set_verdict(trust_t *trust, int id, int verdict, double valid_from, double valid_until);

#endif
