#include "error_names.h"

#include <errno.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/x509.h>

/* The macro name without its prefix, as Node's crypto_common.cc. */
const char *verify_code_name(long v) {
  switch (v) {
#define V(name) case X509_V_ERR_##name: return #name;
    V(UNABLE_TO_GET_ISSUER_CERT) V(UNABLE_TO_GET_CRL) V(UNABLE_TO_DECRYPT_CERT_SIGNATURE)
    V(UNABLE_TO_DECRYPT_CRL_SIGNATURE) V(UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY) V(CERT_SIGNATURE_FAILURE)
    V(CRL_SIGNATURE_FAILURE) V(CERT_NOT_YET_VALID) V(CERT_HAS_EXPIRED) V(CRL_NOT_YET_VALID)
    V(CRL_HAS_EXPIRED) V(ERROR_IN_CERT_NOT_BEFORE_FIELD) V(ERROR_IN_CERT_NOT_AFTER_FIELD)
    V(ERROR_IN_CRL_LAST_UPDATE_FIELD) V(ERROR_IN_CRL_NEXT_UPDATE_FIELD) V(OUT_OF_MEM)
    V(DEPTH_ZERO_SELF_SIGNED_CERT) V(SELF_SIGNED_CERT_IN_CHAIN) V(UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
    V(UNABLE_TO_VERIFY_LEAF_SIGNATURE) V(CERT_CHAIN_TOO_LONG) V(CERT_REVOKED) V(INVALID_CA)
    V(PATH_LENGTH_EXCEEDED) V(INVALID_PURPOSE) V(CERT_UNTRUSTED) V(CERT_REJECTED)
#undef V
    /* Node checks the name in JS and reports this; OpenSSL's own check says HOSTNAME_MISMATCH. */
    case X509_V_ERR_HOSTNAME_MISMATCH: case X509_V_ERR_IP_ADDRESS_MISMATCH: return "ERR_TLS_CERT_ALTNAME_INVALID";
    default: return NULL;
  }
}

void openssl_error_code(unsigned long e, char *out, size_t len) {
  const char *reason = ERR_reason_error_string(e);
  if (!reason) {
    snprintf(out, len, "ERR_SSL_REASON_%lu", (unsigned long)ERR_GET_REASON(e));
    return;
  }
  size_t n = (size_t)snprintf(out, len, "ERR_SSL_");
  for (const char *p = reason; *p && n + 1 < len; p++) out[n++] = *p == ' ' ? '_' : (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
  out[n] = 0;
}

const char *errno_code(int e) {
  switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ECONNABORTED: return "ECONNABORTED";
    case EPIPE: return "EPIPE";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case ENETDOWN: return "ENETDOWN";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EADDRINUSE: return "EADDRINUSE";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: return NULL;
  }
}

void openssl_failure(char *err, size_t len, const char *what) {
  unsigned long e = ERR_peek_last_error();
  char reason[256] = "";
  if (e) ERR_error_string_n(e, reason, sizeof reason);
  snprintf(err, len, "%s%s%s", what, e ? ": " : "", reason);
  ERR_clear_error();
}
