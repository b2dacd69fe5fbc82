#!/usr/bin/env node
// Builds the native handshake engine (native/) with node-gyp at `npm install` / `npm ci`.
// Never fails the install: without a compiler (or headers) tlsbench runs on the Node engine and
// says so once in the run line. The build log goes to native/build-native.log.
//
// Env: TLSBENCH_SKIP_NATIVE=1 skips the build; TLSBENCH_NATIVE_SANITIZE=1 builds with ASan+UBSan;
// TLSBENCH_NATIVE_DIR builds a copy of native/ in another folder.
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** node-gyp of the npm found on PATH (npm's bin is npm-cli.js in npm/bin, node-gyp in npm/node_modules). */
function npmOnPathGyp() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const npm = path.join(dir, 'npm');
    if (!dir || !existsSync(npm)) continue;
    try {
      return path.resolve(path.dirname(realpathSync(npm)), '../node_modules/node-gyp/bin/node-gyp.js');
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// TLSBENCH_NATIVE_DIR: build a copy elsewhere (scripts/sanitize.sh), leaving native/build alone.
const dir = process.env.TLSBENCH_NATIVE_DIR || path.join(root, 'native');
const log = path.join(dir, 'build-native.log');

if (process.env.TLSBENCH_SKIP_NATIVE === '1') {
  console.log('tlsbench: native engine build skipped (TLSBENCH_SKIP_NATIVE=1): the Node engine will be used');
  process.exit(0);
}

// npm names its bundled node-gyp in npm_config_node_gyp; outside npm, npm's own copy beside this
// Node, else the copy of the npm on PATH (a Node without npm, e.g. .runtimes/node24, runs this
// script in scripts/sanitize.sh), else a node-gyp on PATH.
const bundled = path.resolve(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
const gyp = [process.env.npm_config_node_gyp, bundled, npmOnPathGyp()].find((file) => file && existsSync(file));
const [command, prefix] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
const env = { ...process.env };
// Headers: npm's nodedir setting when there is one, else the running Node's own include/node
// (Debian's /usr/include/node, or a Node package's include/node): never a download.
if (!env.npm_config_nodedir) {
  const own = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(own, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = own;
}
const args = [...prefix, 'rebuild'];
if (process.env.TLSBENCH_NATIVE_SANITIZE === '1') args.push('--sanitize=1');

const fd = openSync(log, 'w');
const result = spawnSync(command, args, { cwd: dir, env, stdio: ['ignore', fd, fd] });
closeSync(fd);
if (result.status === 0) {
  console.log(`tlsbench: native engine built (${path.join(dir, 'build/Release/tlsbench_native.node')})`);
} else {
  const why = result.error ? result.error.message : `node-gyp exited ${result.status}`;
  console.log(`tlsbench: native engine not built (${why}; see ${log}): the Node engine will be used`);
  // The sanitizer job needs its build: there a failed build is a failure.
  if (process.env.TLSBENCH_NATIVE_SANITIZE === '1') process.exit(1);
}
