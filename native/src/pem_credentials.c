#include "pem_credentials.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int pem_add_certificates(X509_STORE *store, SSL_CTX *names_to, const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  if (!bio) return -1;
  int added = 0;
  X509 *cert;
  while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if (X509_STORE_add_cert(store, cert) && (!names_to || SSL_CTX_add_client_CA(names_to, cert))) added++;
    X509_free(cert);
  }
  BIO_free(bio);
  ERR_clear_error();   /* the end of the PEM text reads as "no start line" */
  return added;
}

static int passphrase_cb(char *buf, int size, int rwflag, void *userdata) {
  (void)rwflag;
  const char *pass = userdata;
  if (!pass) return 0;
  int n = (int)strlen(pass);
  if (n > size) n = size;
  memcpy(buf, pass, (size_t)n);
  return n;
}

int pem_use_certificate_chain(SSL_CTX *ctx, const char *cert_pem, const char *key_pem, const char *passphrase) {
  BIO *bio = BIO_new_mem_buf(cert_pem, -1);
  if (!bio) return 0;
  X509 *leaf = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
  int ok = leaf && SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  X509 *extra;
  while (ok && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if (!SSL_CTX_add0_chain_cert(ctx, extra)) {   /* takes the reference on success */
      X509_free(extra);
      ok = 0;
    }
  }
  BIO_free(bio);
  if (!ok) return 0;
  ERR_clear_error();
  bio = BIO_new_mem_buf(key_pem, -1);
  if (!bio) return 0;
  EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, passphrase_cb, (void *)passphrase);
  BIO_free(bio);
  ok = key && SSL_CTX_use_PrivateKey(ctx, key) && SSL_CTX_check_private_key(ctx);
  EVP_PKEY_free(key);
  return ok;
}
