// What the suite does when something a test needs is missing (nginx, Chromium, root for network
// namespaces): skip with the reason on a developer's machine, fail under CI=true, where
// .ci/run installs everything and a silent skip would hide a test that never ran.
import assert from 'node:assert/strict';

export function inCi(): boolean {
  return process.env.CI === 'true';
}

/** Skips the test with `reason` (returns true), or fails it under CI=true. */
export function skipUnlessCi(t: { skip(message: string): void }, reason: string): true {
  assert.ok(!inCi(), `${reason}, and CI=true: this test must run in CI`);
  t.skip(reason);
  return true;
}
