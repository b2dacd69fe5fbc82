/** The whole result, exactly as `--out` writes it: the input of `report`, `merge` and `compare`. */
export function renderJson(result: unknown): string {
  return JSON.stringify(result, null, 2);
}
