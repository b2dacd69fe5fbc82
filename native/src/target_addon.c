/*
 * Node-API glue for the native built-in target (target_server.c): new TargetServer(options) listens
 * at once; port; stats(); staple(buffer); stop(). The TypeScript side is src/server/native-target.ts.
 */
#include "napi_options.h"
#include "target_addon.h"
#include "target_server.h"
#include "error_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

static void finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  target_server_t **holder = data;
  target_stop(*holder);
  free(holder);
}

static target_server_t *server_of(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || !data || !*(target_server_t **)data) {
    napi_throw_error(env, NULL, "the target server is stopped");
    return NULL;
  }
  return *(target_server_t **)data;
}

/* new TargetServer({ host, port, cert, key, minVersion, maxVersion, …, keepAlive, closeResponse, raw }) */
static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "TargetServer(options)");
    return NULL;
  }
  napi_value o = argv[0];
  target_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  char *strings[10] = { 0 };
  unsigned char *bytes[4] = { 0 };
  size_t ticket_keys_len = 0;
  cfg.host = strings[0] = option_string(env, o, "host");
  cfg.cert_pem = strings[1] = option_string(env, o, "cert");
  cfg.key_pem = strings[2] = option_string(env, o, "key");
  cfg.ciphers = strings[3] = option_string(env, o, "ciphers");
  cfg.ciphersuites = strings[4] = option_string(env, o, "ciphersuites");
  cfg.groups = strings[5] = option_string(env, o, "groups");
  cfg.ca_pem = strings[6] = option_string(env, o, "ca");
  cfg.crl_pem = strings[7] = option_string(env, o, "crl");
  cfg.port = (int)option_number(env, o, "port", 0);
  cfg.min_version = (int)option_number(env, o, "minVersion", 0);
  cfg.max_version = (int)option_number(env, o, "maxVersion", 0);
  cfg.tickets = option_number(env, o, "tickets", 1) != 0;
  cfg.session_cache = option_number(env, o, "sessionCache", 1) != 0;
  cfg.session_cache_entries = (long)option_number(env, o, "sessionCacheEntries", 20000);
  cfg.mtls = (int)option_number(env, o, "mtls", MTLS_OFF);
  cfg.ocsp = option_number(env, o, "ocsp", 0) != 0;
  cfg.threads = (int)option_number(env, o, "threads", 1);
  cfg.handshake_timeout_ms = option_number(env, o, "handshakeTimeoutMs", 120000);
  cfg.ticket_keys = bytes[0] = option_bytes(env, o, "ticketKeys", &ticket_keys_len);
  cfg.keep_alive = bytes[1] = option_bytes(env, o, "keepAlive", &cfg.keep_alive_len);
  cfg.close_response = bytes[2] = option_bytes(env, o, "closeResponse", &cfg.close_response_len);
  cfg.raw = bytes[3] = option_bytes(env, o, "raw", &cfg.raw_len);

  char err[512] = "";
  target_server_t *server = NULL;
  if (!cfg.host || !cfg.cert_pem || !cfg.key_pem || !cfg.keep_alive || !cfg.close_response || !cfg.raw) snprintf(err, sizeof err, "host, cert, key and the three responses are required");
  else if (cfg.ticket_keys && ticket_keys_len != 48) snprintf(err, sizeof err, "ticketKeys must be 48 bytes, got %zu", ticket_keys_len);
  else if (cfg.mtls && !cfg.ca_pem) snprintf(err, sizeof err, "mtls needs ca");
  else server = target_start(&cfg, err, sizeof err);
  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) free(strings[i]);
  for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) free(bytes[i]);
  if (!server) {
    napi_throw_error(env, NULL, err[0] ? err : "the native target did not start");
    return NULL;
  }
  target_server_t **holder = malloc(sizeof *holder);
  if (!holder || napi_wrap(env, self, holder, finalize, NULL, NULL) != napi_ok) {
    free(holder);
    target_stop(server);
    return throw_last(env);
  }
  *holder = server;
  return self;
}

static napi_value port(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  target_server_t *server = server_of(env, info, &argc, NULL);
  if (!server) return NULL;
  napi_value v;
  CHECK(napi_create_uint32(env, (uint32_t)target_port(server), &v));
  return v;
}

/* The reason a client certificate was rejected, as the Node server's counters name it. */
static void reject_reason(int slot, char *out, size_t len) {
  const char *name = verify_code_name(slot);
  if (slot == REJECT_NO_CERTIFICATE) snprintf(out, len, "no certificate");
  else if (slot == 0) snprintf(out, len, "unverified");
  else if (name) snprintf(out, len, "%s", name);
  else snprintf(out, len, "X509_V_ERR_%d", slot);
}

/* stats() → the fields of TargetServerStats, as plain numbers (the TypeScript side shapes them). */
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  target_server_t *server = server_of(env, info, &argc, NULL);
  if (!server) return NULL;
  target_stats_t s;
  target_stats(server, &s);
  napi_value obj, rejected, errors, v;
  CHECK(napi_create_object(env, &obj));
  set_number(env, obj, "handshakes", (double)s.handshakes);
  set_number(env, obj, "resumed", (double)s.resumed);
  set_number(env, obj, "tlsClientErrors", (double)s.failed);
  set_number(env, obj, "socketErrors", (double)s.socket_errors);
  set_number(env, obj, "requests", (double)s.requests);
  set_number(env, obj, "cacheHits", (double)s.cache_hits);
  set_number(env, obj, "cacheMisses", (double)s.cache_misses);
  set_number(env, obj, "cacheStored", (double)s.cache_stored);
  set_number(env, obj, "cacheEvicted", (double)s.cache_evicted);
  set_number(env, obj, "staples", (double)s.staples);
  set_number(env, obj, "stapleBytes", (double)s.staple_bytes);
  set_number(env, obj, "certRequested", (double)s.cert_requested);
  set_number(env, obj, "certSent", (double)s.cert_sent);
  set_number(env, obj, "certAccepted", (double)s.cert_accepted);
  CHECK(napi_create_object(env, &rejected));
  for (int i = 0; i < REJECT_SLOTS; i++) {
    if (!s.rejected[i]) continue;
    char reason[64];
    reject_reason(i, reason, sizeof reason);
    set_number(env, rejected, reason, (double)s.rejected[i]);
  }
  CHECK(napi_set_named_property(env, obj, "rejected", rejected));
  char last[LAST_ERRORS_KEPT][LAST_ERROR_LEN];
  size_t n = target_last_errors(server, last, LAST_ERRORS_KEPT);
  CHECK(napi_create_array_with_length(env, n, &errors));
  for (size_t i = 0; i < n; i++) {
    CHECK(napi_create_string_utf8(env, last[i], NAPI_AUTO_LENGTH, &v));
    CHECK(napi_set_element(env, errors, (uint32_t)i, v));
  }
  CHECK(napi_set_named_property(env, obj, "lastErrors", errors));
  return obj;
}

/* staple(der: Buffer): the OCSP response stapled from now on. */
static napi_value staple(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  target_server_t *server = server_of(env, info, &argc, argv);
  if (!server) return NULL;
  void *data = NULL;
  size_t len = 0;
  bool is_buffer = false;
  if (argc < 1 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "staple(der: Buffer)");
    return NULL;
  }
  if (!target_set_staple(server, data, len)) napi_throw_error(env, NULL, "out of memory");
  return NULL;
}

/* stop(): every connection closed and the threads joined before it returns. */
static napi_value stop(napi_env env, napi_callback_info info) {
  napi_value self;
  void *data = NULL;
  CHECK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  if (napi_unwrap(env, self, &data) == napi_ok && data) {
    target_server_t **holder = data;
    target_stop(*holder);
    *holder = NULL;
  }
  return NULL;
}

napi_status target_addon_register(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
    { "port", NULL, port, NULL, NULL, NULL, napi_default, NULL },
    { "stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL },
    { "staple", NULL, staple, NULL, NULL, NULL, napi_default, NULL },
    { "stop", NULL, stop, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_value cls;
  napi_status status = napi_define_class(env, "TargetServer", NAPI_AUTO_LENGTH, construct, NULL, sizeof methods / sizeof methods[0], methods, &cls);
  if (status != napi_ok) return status;
  return napi_set_named_property(env, exports, "TargetServer", cls);
}
