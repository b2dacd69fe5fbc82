/**
 * `-d -5s` would reach yargs as the option -d without a value and the short flags -5 and -s
 * ("Unknown arguments: 5, s"). Joined into `-d=-5s`, the value reaches validation, which says
 * what is wrong with it (negative) and what range is accepted.
 */
export function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    const previous = out[out.length - 1];
    if (/^-\.?\d/.test(arg) && previous !== undefined && /^--?[a-z]/i.test(previous) && !previous.includes('=')) {
      out[out.length - 1] = `${previous}=${arg}`;
    } else {
      out.push(arg);
    }
  }
  return out;
}
