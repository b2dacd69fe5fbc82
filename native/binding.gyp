{
  # The native handshake engine. Built against Node's own headers (include/node, OpenSSL's included);
  # its OpenSSL symbols resolve to the running Node's OpenSSL, and Node-API keeps one binary loading
  # on Node 20 (OpenSSL 3.0) and Node 24 (OpenSSL 3.5). `sanitize=1`: ASan + UBSan (scripts/sanitize.sh).
  "variables": { "sanitize%": 0 },
  "targets": [
    {
      "target_name": "tlsbench_native",
      "sources": ["src/addon.c", "src/handshake_loop.c", "src/response_reader.c", "src/trust.c", "src/error_names.c", "src/pem_credentials.c", "src/target_server.c", "src/target_addon.c", "src/napi_options.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-strict-aliasing"],
      "conditions": [
        ["sanitize==1", {
          "cflags": ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
