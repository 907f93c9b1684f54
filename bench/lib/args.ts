/** Command-line flags shared by the bench drivers (run.ts, cluster.ts). */

/** The word after `flag`, if `flag` is there. */
export function argValue(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i === -1 ? undefined : argv[i + 1];
}

/** `--flag a,b`: the ids picked (all when the flag is absent); throws on an unknown one. */
export function argList(argv: string[], flag: string, all: readonly string[]): string[] {
  const value = argValue(argv, flag);
  if (!value) return [...all];
  const picked = value.split(',');
  for (const p of picked) if (!all.includes(p)) throw new Error(`${flag}: unknown ${p}; known: ${all.join(', ')}`);
  return picked;
}

/** `--repeats N`, within [1, max]; `fallback` without it. */
export function argRepeats(argv: string[], fallback: number, max = 20): number {
  const value = argValue(argv, '--repeats');
  return value ? Math.max(1, Math.min(max, Number(value) || 1)) : fallback;
}
