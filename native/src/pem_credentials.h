/*
 * Certificates and keys from PEM text into OpenSSL objects, for the client (its CA list, its
 * client certificate) and the built-in server (its chain, the CA client certificates chain to).
 */
#ifndef TLSBENCH_PEM_CREDENTIALS_H
#define TLSBENCH_PEM_CREDENTIALS_H

#include <openssl/ssl.h>

/*
 * Every certificate in pem into store (and, for a server asking for client certificates, its name
 * into names_to's list of acceptable CAs): how many were added, -1 when pem cannot be read at all.
 */
int pem_add_certificates(X509_STORE *store, SSL_CTX *names_to, const char *pem);
/* The first certificate of cert_pem as ctx's own, the rest as its chain, and the key (1 on success). */
int pem_use_certificate_chain(SSL_CTX *ctx, const char *cert_pem, const char *key_pem, const char *passphrase);

#endif
