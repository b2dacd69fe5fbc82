// `tlsbench serve --ready-json` and the run that started it talk in lines over the child's stdin
// and stdout: the ready line, a 'stats' request, its JSON answer. One reader splits a stream into
// those lines, at both ends.
import type { Readable } from 'node:stream';

/**
 * Calls `each` with every complete line `stream` brings from now on, trimmed. Returns a function
 * that stops reading: no line is handed over after it is called, not even one already buffered.
 */
export function onLines(stream: Readable, each: (line: string) => void): () => void {
  let pending = '';
  let stopped = false;
  const onData = (text: string) => {
    pending += text;
    let newline: number;
    while (!stopped && (newline = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      each(line);
    }
  };
  stream.setEncoding('utf8');
  stream.on('data', onData);
  return () => {
    stopped = true;
    stream.off('data', onData);
  };
}

/** The JSON value a line holds, or undefined for a line that is not JSON (not one of ours). */
export function parseJsonLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}
