/*
 * Reading an options object and building result objects, for every class the addon defines
 * (HandshakeLoop in addon.c, TargetServer in target_addon.c).
 */
#ifndef TLSBENCH_NAPI_OPTIONS_H
#define TLSBENCH_NAPI_OPTIONS_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) return throw_last(env);    \
  } while (0)

/* Throws the last N-API error unless an exception is already pending; returns NULL. */
napi_value throw_last(napi_env env);
/* A malloc'd copy of obj[key]; NULL when it is absent or not a string. */
char *option_string(napi_env env, napi_value obj, const char *key);
/* obj[key] as a number (a boolean as 0/1); fallback when absent or of another type. */
double option_number(napi_env env, napi_value obj, const char *key, double fallback);
/* A malloc'd copy of the Buffer obj[key] (len set; at least one byte allocated); NULL when absent. */
unsigned char *option_bytes(napi_env env, napi_value obj, const char *key, size_t *len);
/* obj[key] = value (a string / a number). */
void set_string(napi_env env, napi_value obj, const char *key, const char *value);
void set_number(napi_env env, napi_value obj, const char *key, double value);

#endif
