/**
 * Findings and warnings repeat (the same "client saturated" in every cell and phase): each
 * distinct line once, in first-seen order, with how often it came up.
 */
export function collapseRepeated(lines: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, n]) => (n > 1 ? `${line} (×${n})` : line));
}
