/**
 * `tlsbench rnu` would otherwise reach the default command as a target and fail on a missing port.
 * A first word that is not a command, cannot be a target (no port) and is a typo or two away
 * from a command is taken for a mistyped command.
 */

/** Edits (insert, delete, substitute, swap two neighbours) between two words: `rnu` → `run` is 1. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The command the user most likely meant by `word`, or null when the word is not close to one. */
export function suggestCommand(word: string, commands: readonly string[]): string | null {
  // A target always has a port (host:port, [v6]:port, https://…): a word with a colon is one.
  if (word.startsWith('-') || word.includes(':') || commands.includes(word)) return null;
  const lower = word.toLowerCase();
  let best: { name: string; distance: number } | null = null;
  for (const name of commands) {
    const distance = editDistance(lower, name);
    // Short names tolerate one edit, longer ones two: `rn` is run, `ab` is nothing.
    const allowed = name.length <= 4 ? 1 : 2;
    if (distance <= allowed && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name ?? null;
}
