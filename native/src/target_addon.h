#ifndef TLSBENCH_TARGET_ADDON_H
#define TLSBENCH_TARGET_ADDON_H

#include "napi_options.h"

/* Defines exports.TargetServer (the native built-in target). */
napi_status target_addon_register(napi_env env, napi_value exports);

#endif
