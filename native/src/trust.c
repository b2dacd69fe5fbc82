/*
 * The client's CRL, stapled OCSP responses and the client-certificate request, for the loop.
 *
 * A staple is judged by TypeScript (one source of truth for both engines). A server staples the same
 * bytes for hours, so each distinct staple (with the certificate it came with) is handed to JS once:
 * the slot that met it waits (its handshake latency is already taken) until JS, between two slices,
 * gives the verdict and the wall-clock span it holds for (a good staple turns stale at its
 * nextUpdate). Later handshakes with the same bytes take the remembered verdict while it holds;
 * after that JS is asked again. The Node engine's StapleChecker likewise parses a staple once.
 */
#define _GNU_SOURCE
#include "trust.h"
#include "error_names.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Judged staples kept beyond those awaiting a verdict (the least recently used goes first). */
#define STAPLES_KEPT 8

enum staple_state { STAPLE_PENDING, STAPLE_JUDGED };

typedef struct staple_entry {
  int id;
  enum staple_state state;
  unsigned char *bytes; size_t len;
  X509 *leaf;                       /* the certificate it came with (a reference of its own) */
  unsigned char *leaf_der; size_t leaf_len;
  unsigned char *issuer_der; size_t issuer_len;
  int verdict;
  double valid_from, valid_until;   /* wall-clock epoch ms */
  unsigned long used;               /* for least-recently-used eviction */
} staple_entry_t;

struct trust {
  trust_config_t cfg;
  staple_entry_t *entries;
  size_t n, cap;
  int next_id;
  unsigned long clock;
  size_t pending;
};

static double wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int trust_add_crl(SSL_CTX *ctx, const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  if (!bio) return 0;
  X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
  BIO_free(bio);
  if (!crl) return 0;
  X509_STORE *store = SSL_CTX_get_cert_store(ctx);
  int ok = X509_STORE_add_crl(store, crl) && X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  X509_CRL_free(crl);
  return ok;
}

trust_t *trust_create(SSL_CTX *ctx, const trust_config_t *config, char *err, size_t err_len) {
  trust_t *trust = calloc(1, sizeof *trust);
  if (!trust) {
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  trust->cfg = *config;
  if (config->crl_pem && !trust_add_crl(ctx, config->crl_pem)) {
    openssl_failure(err, err_len, "crl");
    free(trust);
    return NULL;
  }
  /* No status callback: OpenSSL keeps the staple for SSL_get_tlsext_status_ocsp_resp. */
  if (config->ocsp) SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
  return trust;
}

static void free_entry(staple_entry_t *e) {
  free(e->bytes);
  free(e->leaf_der);
  free(e->issuer_der);
  X509_free(e->leaf);
}

void trust_destroy(trust_t *trust) {
  if (!trust) return;
  for (size_t i = 0; i < trust->n; i++) free_entry(&trust->entries[i]);
  free(trust->entries);
  free(trust);
}

void trust_begin(trust_slot_t *slot) {
  memset(slot, 0, sizeof *slot);
}

/*
 * Handshake messages of a sampled attempt: a CertificateRequest read, and whether the client's
 * Certificate carried any certificate (its list is empty when it has none the server can take).
 */
static void on_message(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg) {
  (void)version;
  trust_slot_t *slot = arg;
  const unsigned char *p = buf;
  if (content_type != SSL3_RT_HANDSHAKE || len < 4) return;
  if (!write_p && p[0] == SSL3_MT_CERTIFICATE_REQUEST) {
    slot->cert_requested = 1;
    return;
  }
  /* RFC 8879 CompressedCertificate (25; OpenSSL 3.2+, when the server offers compression): OpenSSL
     compresses only a list that holds a certificate, and sends an empty one uncompressed. */
  if (write_p && p[0] == 25) {
    slot->cert_sent = 1;
    return;
  }
  if (!write_p || p[0] != SSL3_MT_CERTIFICATE) return;
  size_t at = 4;
  /* TLS 1.3 puts a request context before the list. */
  if (SSL_version(ssl) == TLS1_3_VERSION) {
    if (len < at + 1) return;
    at += 1 + (size_t)p[at];
  }
  if (len < at + 3) return;
  size_t list = ((size_t)p[at] << 16) | ((size_t)p[at + 1] << 8) | p[at + 2];
  slot->cert_sent = list > 0;
}

void trust_prepare(trust_t *trust, trust_slot_t *slot, SSL *ssl, int sample) {
  (void)trust;
  if (!sample) return;
  SSL_set_msg_callback(ssl, on_message);
  SSL_set_msg_callback_arg(ssl, slot);
}

static staple_entry_t *entry_by_id(trust_t *trust, int id) {
  for (size_t i = 0; i < trust->n; i++) {
    if (trust->entries[i].id == id) return &trust->entries[i];
  }
  return NULL;
}

/* Room for one more entry: the least recently used judged one goes once STAPLES_KEPT are judged. */
static staple_entry_t *new_entry(trust_t *trust) {
  size_t judged = trust->n - trust->pending;
  if (judged >= STAPLES_KEPT) {
    size_t lru = trust->n;
    for (size_t i = 0; i < trust->n; i++) {
      staple_entry_t *e = &trust->entries[i];
      if (e->state == STAPLE_JUDGED && (lru == trust->n || e->used < trust->entries[lru].used)) lru = i;
    }
    free_entry(&trust->entries[lru]);
    trust->entries[lru] = trust->entries[--trust->n];
  }
  if (trust->n == trust->cap) {
    size_t cap = trust->cap ? trust->cap * 2 : STAPLES_KEPT * 2;
    staple_entry_t *p = realloc(trust->entries, cap * sizeof *p);
    if (!p) return NULL;
    trust->entries = p;
    trust->cap = cap;
  }
  staple_entry_t *e = &trust->entries[trust->n++];
  memset(e, 0, sizeof *e);
  return e;
}

/* DER of `cert` in a fresh buffer; NULL when out of memory. */
static unsigned char *der_of(X509 *cert, size_t *len) {
  int n = i2d_X509(cert, NULL);
  if (n <= 0) return NULL;
  unsigned char *buf = malloc((size_t)n), *p = buf;
  if (!buf) return NULL;
  i2d_X509(cert, &p);
  *len = (size_t)n;
  return buf;
}

/* A staple met for the first time: kept, and asked of JS. NULL when out of memory. */
static staple_entry_t *remember(trust_t *trust, SSL *ssl, X509 *leaf, const unsigned char *bytes, size_t len) {
  staple_entry_t *e = new_entry(trust);
  if (!e) return NULL;
  e->id = ++trust->next_id;
  e->state = STAPLE_PENDING;
  trust->pending++;
  e->bytes = malloc(len);
  e->leaf_der = der_of(leaf, &e->leaf_len);
  /* The issuer the chain was verified through (with --insecure: as far as it was built). */
  STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl);
  if (chain && sk_X509_num(chain) > 1) e->issuer_der = der_of(sk_X509_value(chain, 1), &e->issuer_len);
  if (!e->bytes || !e->leaf_der || !X509_up_ref(leaf)) {
    /* Not kept: the entry is dropped again, and the slot counts it as not stapled. */
    free_entry(e);
    trust->pending--;
    trust->n--;
    return NULL;
  }
  e->leaf = leaf;
  memcpy(e->bytes, bytes, len);
  e->len = len;
  return e;
}

int trust_judge(trust_t *trust, trust_slot_t *slot, SSL *ssl) {
  const unsigned char *bytes = NULL;
  long len = SSL_get_tlsext_status_ocsp_resp(ssl, &bytes);
  X509 *leaf = SSL_get0_peer_certificate(ssl);
  if (len <= 0 || !bytes || !leaf) {
    slot->staple = -1;
    slot->verdict = trust->cfg.missing_verdict;
    return 1;
  }
  staple_entry_t *e = NULL;
  for (size_t i = 0; i < trust->n && !e; i++) {
    staple_entry_t *c = &trust->entries[i];
    if (c->len == (size_t)len && memcmp(c->bytes, bytes, (size_t)len) == 0 && X509_cmp(c->leaf, leaf) == 0) e = c;
  }
  if (!e && !(e = remember(trust, ssl, leaf, bytes, (size_t)len))) {
    slot->staple = -1;
    slot->verdict = trust->cfg.missing_verdict;
    return 1;
  }
  e->used = ++trust->clock;
  slot->staple = e->id;
  if (e->state == STAPLE_JUDGED) {
    double now = wall_ms();
    if (now >= e->valid_from && now <= e->valid_until) {
      slot->verdict = e->verdict;
      return 1;
    }
    /* The verdict no longer holds (a staple past its nextUpdate): JS judges it again. */
    e->state = STAPLE_PENDING;
    trust->pending++;
  }
  slot->waiting = 1;
  return 0;
}

int trust_resolve(trust_t *trust, trust_slot_t *slot) {
  staple_entry_t *e = entry_by_id(trust, (int)slot->staple);
  /* Awaited entries are never evicted, so e is there. */
  if (e && e->state != STAPLE_JUDGED) return 0;
  slot->verdict = e ? e->verdict : trust->cfg.missing_verdict;
  slot->waiting = 0;
  return 1;
}

int trust_awaiting(const trust_t *trust) {
  return trust->pending > 0;
}

size_t trust_pending(trust_t *trust, trust_request_t *out, size_t max) {
  size_t k = 0;
  for (size_t i = 0; i < trust->n; i++) {
    staple_entry_t *e = &trust->entries[i];
    if (e->state != STAPLE_PENDING) continue;
    if (k < max) {
      out[k] = (trust_request_t){ e->id, e->bytes, e->len, e->leaf_der, e->leaf_len, e->issuer_der, e->issuer_len };
    }
    k++;
  }
  return k;
}

void trust_set_verdict(trust_t *trust, int id, int verdict, double valid_from, double valid_until) {
  staple_entry_t *e = entry_by_id(trust, id);
  if (!e) return;
  if (e->state == STAPLE_PENDING) trust->pending--;
  e->state = STAPLE_JUDGED;
  e->verdict = verdict;
  e->valid_from = valid_from;
  e->valid_until = valid_until;
}
