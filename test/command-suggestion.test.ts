// A mistyped command is said to be one (exit 2, with the command meant), not read as a target.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { suggestCommand } from '../src/cli/command-suggestion.js';
import { runCli } from './support/cli.js';

const COMMANDS = ['run', 'serve', 'report', 'certs', 'matrix', 'compare', 'merge', 'observe'];

test('tlsbench rnu: "did you mean run?", exit 2, before any work', async () => {
  for (const [typo, meant] of [['rnu', 'run'], ['mtrix', 'matrix'], ['comapre', 'compare'], ['serv', 'serve']] as const) {
    const out = await runCli([typo, '-d', '1s']);
    assert.equal(out.code, 2, `${typo}: exit ${out.code}\n${out.stderr}`);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, new RegExp(`^tlsbench: '${typo}' is not a command: did you mean ${meant}\\?`));
    assert.doesNotMatch(out.stderr, /\n\s+at /);
  }
});

test('a word far from every command is still read as a target, and told it lacks a port', async () => {
  const out = await runCli(['example.com']);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /^tlsbench: target 'example\.com': the port is missing/);
});

test('suggestCommand: typos of a command, never a target or a real command', () => {
  assert.equal(suggestCommand('rnu', COMMANDS), 'run');
  assert.equal(suggestCommand('RUN', COMMANDS), 'run');
  assert.equal(suggestCommand('reprot', COMMANDS), 'report');
  assert.equal(suggestCommand('obsrve', COMMANDS), 'observe');
  assert.equal(suggestCommand('run', COMMANDS), null, 'a command is no typo');
  assert.equal(suggestCommand('run:443', COMMANDS), null, 'a host called run, with its port');
  assert.equal(suggestCommand('localhost', COMMANDS), null);
  assert.equal(suggestCommand('ab', COMMANDS), null);
  assert.equal(suggestCommand('--rnu', COMMANDS), null);
});
