// Command-line argument parsing: positionals, `--flag value`, `--flag=value`, repeated flags, booleans.

export class UsageError extends Error {}

export interface FlagSpec {
  /** Takes a value (`--out DIR`) or is a switch (`--json`). */
  value: boolean;
  /** May be given several times (`--input a=x.npy --input b=y.npy`). */
  repeat?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

/** Parse `argv` against `spec`; unknown flags and missing values are usage errors naming the flag. */
export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>, command: string): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('--')) { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq > 0 ? eq : undefined);
    const s = spec[name];
    if (!s) throw new UsageError(`${command}: unknown option --${name} (expected one of ${Object.keys(spec).map((k) => '--' + k).join(', ') || 'none'})`);
    let value = 'true';
    if (s.value) {
      if (eq > 0) value = a.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new UsageError(`${command}: option --${name} needs a value`);
        value = next;
        i++;
      }
    } else if (eq > 0) throw new UsageError(`${command}: option --${name} takes no value`);
    const list = flags.get(name) ?? [];
    if (list.length && !s.repeat) throw new UsageError(`${command}: option --${name} was given more than once`);
    list.push(value);
    flags.set(name, list);
  }
  return { positionals, flags };
}

/** The single value of a flag, or `fallback`. */
export function flag(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  return args.flags.get(name)?.[0] ?? fallback;
}

/** A flag that must be a positive integer. */
export function intFlag(args: ParsedArgs, name: string, fallback: number, command: string): number {
  const v = flag(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${command}: --${name} must be a positive integer, got '${v}'`);
  return n;
}
