/*
 * N-API glue for the handshake loop: a HandshakeLoop object per worker, and openssl(), which tells
 * which OpenSSL the addon's calls reach (the running Node's own, whatever headers it was built with).
 * Node-API is ABI-stable, so one build loads on Node 20 and Node 24.
 */
#include "napi_options.h"
#include "target_addon.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "handshake_loop.h"

typedef struct wrapper {
  handshake_loop_t *loop;
  napi_ref outcomes_ref;   /* keeps the Float64Array the loop writes into alive */
  /* Strings the loop config points at, owned here. */
  char *strings[24];
  int nstrings;
  unsigned char *alpn;
  unsigned char *request;
} wrapper_t;

static void wrapper_free(napi_env env, wrapper_t *w) {
  if (!w) return;
  loop_destroy(w->loop);
  w->loop = NULL;
  if (w->outcomes_ref) napi_delete_reference(env, w->outcomes_ref);
  w->outcomes_ref = NULL;
  for (int i = 0; i < w->nstrings; i++) free(w->strings[i]);
  w->nstrings = 0;
  free(w->alpn);
  w->alpn = NULL;
  free(w->request);
  w->request = NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  wrapper_free(env, data);
  free(data);
}

/* An own copy of options[key] as a C string, kept with the loop; NULL when absent, null or undefined. */
static char *get_string(napi_env env, napi_value obj, const char *key, wrapper_t *w) {
  char *s = option_string(env, obj, key);
  if (s && w->nstrings < (int)(sizeof w->strings / sizeof w->strings[0])) w->strings[w->nstrings++] = s;
  else if (s) {
    free(s);
    s = NULL;
  }
  return s;
}

static wrapper_t *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || !data || !((wrapper_t *)data)->loop) {
    napi_throw_error(env, NULL, "the handshake loop is closed");
    return NULL;
  }
  return data;
}

/* new HandshakeLoop(options, outcomes: Float64Array) */
static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "HandshakeLoop(options, outcomes)");
    return NULL;
  }
  napi_typedarray_type ta_type;
  size_t ta_length;
  void *ta_data;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[1], &ta_type, &ta_length, &ta_data, &ab, &offset) != napi_ok || ta_type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "outcomes must be a Float64Array");
    return NULL;
  }
  wrapper_t *w = calloc(1, sizeof *w);
  if (!w) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_value o = argv[0];
  loop_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  char *host = get_string(env, o, "host", w);
  int port = (int)option_number(env, o, "port", 0);
  if (host && strchr(host, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&cfg.addr;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) host = NULL;
    cfg.addr_len = sizeof *a;
  } else if (host) {
    struct sockaddr_in *a = (struct sockaddr_in *)&cfg.addr;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) host = NULL;
    cfg.addr_len = sizeof *a;
  }
  if (!host) {
    wrapper_free(env, w);
    free(w);
    napi_throw_type_error(env, NULL, "host must be an IP address (the coordinator resolves names once)");
    return NULL;
  }
  cfg.servername = get_string(env, o, "servername", w);
  cfg.verify = option_number(env, o, "verify", 1) != 0;
  cfg.verify_host = get_string(env, o, "verifyHost", w);
  cfg.verify_ip = get_string(env, o, "verifyIp", w);
  cfg.ca_pem = get_string(env, o, "ca", w);
  cfg.cert_pem = get_string(env, o, "cert", w);
  cfg.key_pem = get_string(env, o, "key", w);
  cfg.passphrase = get_string(env, o, "passphrase", w);
  cfg.min_version = (int)option_number(env, o, "minVersion", 0);
  cfg.max_version = (int)option_number(env, o, "maxVersion", 0);
  cfg.ciphers = get_string(env, o, "ciphers", w);
  cfg.ciphersuites = get_string(env, o, "ciphersuites", w);
  cfg.groups = get_string(env, o, "groups", w);
  cfg.sigalgs = get_string(env, o, "sigalgs", w);
  cfg.keylog_file = get_string(env, o, "keylogFile", w);
  cfg.trust.crl_pem = get_string(env, o, "crl", w);
  cfg.trust.ocsp = option_number(env, o, "ocsp", 0) != 0;
  cfg.trust.missing_verdict = (int)option_number(env, o, "ocspMissingVerdict", 0);
  size_t alpn_len = 0;
  w->alpn = option_bytes(env, o, "alpn", &alpn_len);
  if (w->alpn && alpn_len > 0 && alpn_len < 65536) {
    cfg.alpn = w->alpn;
    cfg.alpn_len = alpn_len;
  }
  cfg.resume = (int)option_number(env, o, "resume", 0);
  cfg.resume_ratio = option_number(env, o, "resumeRatio", 1);
  cfg.scope_worker = option_number(env, o, "scopeWorker", 0) != 0;
  cfg.connect_ms = option_number(env, o, "connectMs", 10000);
  cfg.handshake_ms = option_number(env, o, "handshakeMs", 10000);
  cfg.close_wait_ms = option_number(env, o, "closeWaitMs", 1000);
  cfg.slots = (int)option_number(env, o, "slots", 1);
  cfg.open_loop = option_number(env, o, "openLoop", 0) != 0;
  size_t len = 0;
  /* An empty request still starts the exchange (the response is read), as the Node engine. */
  if ((w->request = option_bytes(env, o, "request", &len)) != NULL) {
    cfg.request = w->request;
    cfg.request_len = len;
    cfg.framing = (int)option_number(env, o, "framing", 0);
    cfg.framing_count = option_number(env, o, "framingCount", 0);
    cfg.per_connection = option_number(env, o, "perConnection", 1);
    cfg.response_ms = option_number(env, o, "responseMs", 10000);
    double early = option_number(env, o, "earlyData", 0);
    if (early < 0 || early > (double)len) {
      wrapper_free(env, w);
      free(w);
      napi_throw_range_error(env, NULL, "earlyData must be 0 to the request's length");
      return NULL;
    }
    cfg.early_data = (size_t)early;
  }
  cfg.outcome_capacity = ta_length / OUT_FIELDS;
  if (cfg.slots < 1 || cfg.outcome_capacity < (size_t)cfg.slots * 2 + 512) {
    wrapper_free(env, w);
    free(w);
    napi_throw_range_error(env, NULL, "outcomes must hold at least 2·slots + 512 outcomes");
    return NULL;
  }
  char err[512] = "";
  w->loop = loop_create(&cfg, ta_data, err, sizeof err);
  if (!w->loop) {
    wrapper_free(env, w);
    free(w);
    napi_throw_error(env, NULL, err[0] ? err : "handshake loop setup failed");
    return NULL;
  }
  if (napi_create_reference(env, argv[1], 1, &w->outcomes_ref) != napi_ok || napi_wrap(env, self, w, finalize, NULL, NULL) != napi_ok) {
    wrapper_free(env, w);
    free(w);
    return throw_last(env);
  }
  return self;
}

/* begin(startAt, rampEndAt, windowAt, endAt, measured): the phase clock, in monotonic ms. */
static napi_value begin(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  wrapper_t *w = unwrap(env, info, &argc, argv);
  if (!w) return NULL;
  double v[5] = { 0, 0, 0, 0, -1 };
  for (size_t i = 0; i < argc && i < 5; i++) napi_get_value_double(env, argv[i], &v[i]);
  loop_begin(w->loop, v[0], v[1], v[2], v[3], v[4]);
  return NULL;
}

/* run(sliceMs) → outcomes written; the `finished` property says whether anything is left to do. */
static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self, result, finished;
  void *data = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (napi_unwrap(env, self, &data) != napi_ok || !data || !((wrapper_t *)data)->loop) {
    napi_throw_error(env, NULL, "the handshake loop is closed");
    return NULL;
  }
  wrapper_t *w = data;
  double slice = 10;
  if (argc > 0) napi_get_value_double(env, argv[0], &slice);
  int done = 0;
  size_t n = loop_run(w->loop, slice, &done);
  CHECK(napi_get_boolean(env, done != 0, &finished));
  CHECK(napi_set_named_property(env, self, "finished", finished));
  CHECK(napi_create_uint32(env, (uint32_t)n, &result));
  return result;
}

/* schedule(times: Float64Array) → how many of the arrivals' intended starts the loop took. */
static napi_value schedule(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  wrapper_t *w = unwrap(env, info, &argc, argv);
  if (!w) return NULL;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  napi_value ab;
  size_t offset;
  if (argc < 1 || napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "schedule(times: Float64Array)");
    return NULL;
  }
  size_t taken = loop_schedule(w->loop, data, length);
  CHECK(napi_create_uint32(env, (uint32_t)taken, &result));
  return result;
}

/* ttfbs() → a Float64Array (a copy) of every ttfb µs of the last run()'s outcomes. */
static napi_value ttfbs(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  wrapper_t *w = unwrap(env, info, &argc, NULL);
  if (!w) return NULL;
  size_t n = 0;
  const double *values = loop_ttfbs(w->loop, &n);
  void *data = NULL;
  napi_value ab, array;
  CHECK(napi_create_arraybuffer(env, n * sizeof(double), &data, &ab));
  if (n) memcpy(data, values, n * sizeof(double));
  CHECK(napi_create_typedarray(env, napi_float64_array, n, ab, 0, &array));
  return array;
}

/* detail(i) → { phase, code, syscall } and/or { protocol, cipher, … } of the batch's i-th detail. */
static napi_value detail(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  wrapper_t *w = unwrap(env, info, &argc, argv);
  if (!w) return NULL;
  uint32_t index = 0;
  if (argc > 0) napi_get_value_uint32(env, argv[0], &index);
  const detail_t *d = loop_detail(w->loop, index);
  napi_value obj, v;
  if (!d) {
    napi_get_null(env, &obj);
    return obj;
  }
  CHECK(napi_create_object(env, &obj));
  if (d->has_error) {
    static const char *phases[] = { "tcp", "tls", "close", "app" };
    set_string(env, obj, "phase", phases[d->phase]);
    set_string(env, obj, "code", d->code);
    if (d->syscall[0]) set_string(env, obj, "syscall", d->syscall);
  }
  if (d->has_sample) {
    set_string(env, obj, "protocol", d->protocol);
    set_string(env, obj, "cipher", d->cipher);
    set_string(env, obj, "group", d->group);
    set_string(env, obj, "alpn", d->alpn);
    set_string(env, obj, "certificate", d->certificate);
    napi_get_boolean(env, d->client_certificate != 0, &v);
    napi_set_named_property(env, obj, "clientCertificate", v);
    napi_get_boolean(env, d->client_certificate_requested != 0, &v);
    napi_set_named_property(env, obj, "clientCertificateRequested", v);
  }
  return obj;
}

static napi_value buffer_copy(napi_env env, const unsigned char *data, size_t len) {
  napi_value v;
  void *copy = NULL;
  if (napi_create_buffer_copy(env, len, data, &copy, &v) != napi_ok) return NULL;
  return v;
}

/* staples() → [{ id, staple, leaf, issuer }]: the staples awaiting a verdict (--ocsp; trust.h). */
static napi_value staples(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  wrapper_t *w = unwrap(env, info, &argc, NULL);
  if (!w) return NULL;
  trust_t *trust = loop_trust(w->loop);
  napi_value array, obj, v;
  size_t n = trust_pending(trust, NULL, 0);
  CHECK(napi_create_array_with_length(env, n, &array));
  if (n == 0) return array;
  trust_request_t *requests = malloc(n * sizeof *requests);
  if (!requests) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  trust_pending(trust, requests, n);
  for (size_t i = 0; i < n; i++) {
    const trust_request_t *r = &requests[i];
    if (napi_create_object(env, &obj) != napi_ok) break;
    napi_create_int32(env, r->id, &v);
    napi_set_named_property(env, obj, "id", v);
    if ((v = buffer_copy(env, r->staple, r->staple_len))) napi_set_named_property(env, obj, "staple", v);
    if ((v = buffer_copy(env, r->leaf, r->leaf_len))) napi_set_named_property(env, obj, "leaf", v);
    if (r->issuer) v = buffer_copy(env, r->issuer, r->issuer_len);
    else napi_get_null(env, &v);
    if (v) napi_set_named_property(env, obj, "issuer", v);
    napi_set_element(env, array, (uint32_t)i, obj);
  }
  free(requests);
  return array;
}

/* verdict(id, verdict, validFrom, validUntil): JS's verdict on a staple, and the wall-clock span (epoch ms) it holds for. */
static napi_value verdict(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  wrapper_t *w = unwrap(env, info, &argc, argv);
  if (!w) return NULL;
  double v[4] = { 0, 0, -1e300, 1e300 };
  for (size_t i = 0; i < argc && i < 4; i++) napi_get_value_double(env, argv[i], &v[i]);
  trust_set_verdict(loop_trust(w->loop), (int)v[0], (int)v[1], v[2], v[3]);
  return NULL;
}

static napi_value stop(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  wrapper_t *w = unwrap(env, info, &argc, NULL);
  if (w) loop_stop(w->loop);
  return NULL;
}

/* stats() → { inFlight, idleMs } */
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  wrapper_t *w = unwrap(env, info, &argc, NULL);
  if (!w) return NULL;
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  napi_create_double(env, (double)loop_in_flight(w->loop), &v);
  napi_set_named_property(env, obj, "inFlight", v);
  napi_create_double(env, loop_idle_ms(w->loop), &v);
  napi_set_named_property(env, obj, "idleMs", v);
  return obj;
}

/* close(): frees every SSL, session and socket now rather than at garbage collection. */
static napi_value close_loop(napi_env env, napi_callback_info info) {
  napi_value self;
  void *data = NULL;
  size_t argc = 0;
  CHECK(napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  if (napi_unwrap(env, self, &data) == napi_ok && data) {
    wrapper_t *w = data;
    loop_destroy(w->loop);
    w->loop = NULL;
  }
  return NULL;
}

static napi_value now_ms(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_double(env, monotonic_ms(), &v);
  return v;
}

/* The OpenSSL the addon's calls reach at run time, and the headers it was built with. */
static napi_value openssl(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  set_string(env, obj, "runtime", OpenSSL_version(OPENSSL_VERSION));
  set_string(env, obj, "headers", OPENSSL_VERSION_TEXT);
  return obj;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
    { "begin", NULL, begin, NULL, NULL, NULL, napi_default, NULL },
    { "run", NULL, run, NULL, NULL, NULL, napi_default, NULL },
    { "schedule", NULL, schedule, NULL, NULL, NULL, napi_default, NULL },
    { "ttfbs", NULL, ttfbs, NULL, NULL, NULL, napi_default, NULL },
    { "detail", NULL, detail, NULL, NULL, NULL, napi_default, NULL },
    { "staples", NULL, staples, NULL, NULL, NULL, napi_default, NULL },
    { "verdict", NULL, verdict, NULL, NULL, NULL, napi_default, NULL },
    { "stop", NULL, stop, NULL, NULL, NULL, napi_default, NULL },
    { "stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, close_loop, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_value cls, fn, fields;
  if (napi_define_class(env, "HandshakeLoop", NAPI_AUTO_LENGTH, construct, NULL, sizeof methods / sizeof methods[0], methods, &cls) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "HandshakeLoop", cls);
  napi_create_function(env, "now", NAPI_AUTO_LENGTH, now_ms, NULL, &fn);
  napi_set_named_property(env, exports, "now", fn);
  napi_create_function(env, "openssl", NAPI_AUTO_LENGTH, openssl, NULL, &fn);
  napi_set_named_property(env, exports, "openssl", fn);
  napi_create_uint32(env, OUT_FIELDS, &fields);
  napi_set_named_property(env, exports, "OUTCOME_FIELDS", fields);
  if (target_addon_register(env, exports) != napi_ok) return NULL;
  return exports;
}
