#include "napi_options.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

napi_value throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, info && info->error_message ? info->error_message : "N-API call failed");
  return NULL;
}

char *option_string(napi_env env, napi_value obj, const char *key) {
  napi_value v;
  napi_valuetype type;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return NULL;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_string) return NULL;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

double option_number(napi_env env, napi_value obj, const char *key, double fallback) {
  napi_value v;
  napi_valuetype type;
  double d;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return fallback;
  if (napi_typeof(env, v, &type) != napi_ok) return fallback;
  if (type == napi_boolean) {
    bool b;
    napi_get_value_bool(env, v, &b);
    return b ? 1 : 0;
  }
  if (type != napi_number || napi_get_value_double(env, v, &d) != napi_ok) return fallback;
  return d;
}

unsigned char *option_bytes(napi_env env, napi_value obj, const char *key, size_t *len) {
  napi_value v;
  bool is_buffer = false;
  *len = 0;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) return NULL;
  void *data;
  size_t n;
  if (napi_get_buffer_info(env, v, &data, &n) != napi_ok) return NULL;
  unsigned char *copy = malloc(n ? n : 1);
  if (!copy) return NULL;
  if (n) memcpy(copy, data, n);
  *len = n;
  return copy;
}

void set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok) napi_set_named_property(env, obj, key, v);
}

void set_number(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  if (napi_create_double(env, value, &v) == napi_ok) napi_set_named_property(env, obj, key, v);
}
