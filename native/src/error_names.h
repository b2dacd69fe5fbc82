/*
 * OpenSSL's failures under the names Node gives them, so that a class or a reason reads the same
 * whichever engine (client) or server produced it.
 */
#ifndef TLSBENCH_ERROR_NAMES_H
#define TLSBENCH_ERROR_NAMES_H

#include <stddef.h>

/* X509_V_ERR_* as Node names them (crypto_common.cc); NULL for a code Node has no name for. */
const char *verify_code_name(long v);
/* Node's TLS error code for an OpenSSL error: ERR_SSL_ + the reason string in capitals. */
void openssl_error_code(unsigned long e, char *out, size_t len);
/* An errno as Node names it (ECONNRESET, …); NULL for one without a name here. */
const char *errno_code(int e);
/* "what: OpenSSL's last error" into err, and the error queue cleared. */
void openssl_failure(char *err, size_t len, const char *what);

#endif
