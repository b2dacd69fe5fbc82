/**
 * Bad input from the user. The CLI prints the message alone (no stack) and exits 2,
 * so the message must say what was wrong and what to do instead.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A file the user named that cannot be read: which option, which file, why, and what to do. */
export function cannotRead(file: string, err: unknown, option?: string): UsageError {
  const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new UsageError(`${option ? `${option}: ` : ''}cannot read '${file}' (${why}); check the path and its permissions`);
}

/**
 * A setting that is well-formed but that this runtime's OpenSSL (or this server) cannot do, such as
 * X25519MLKEM768 on Node 20. A matrix keeps such a cell as skipped; any other UsageError in a
 * cell is a typo that fails the whole grid before it starts.
 */
export class UnsupportedHere extends UsageError {
  override name = 'UnsupportedHere';
}
