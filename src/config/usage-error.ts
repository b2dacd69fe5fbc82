/**
 * Bad input from the user. The CLI prints the message alone (no stack) and exits 2,
 * so the message must say what was wrong and what to do instead.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
