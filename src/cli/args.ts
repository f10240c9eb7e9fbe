// Command-line argument parsing against a command's option table (positionals, `--flag value`, `--flag=value`,
// repeated flags, switches, `-h`/`--help`), and the help text made from that same table.

export class UsageError extends Error {}

/** Thrown by parseArgs for `-h`/`--help`: main prints `text` to stdout and exits 0. */
export class HelpRequest extends Error {
  constructor(readonly text: string) {
    super('help requested');
  }
}

export interface FlagSpec {
  /** Takes a value (`--out DIR`) or is a switch (`--json`). */
  value: boolean;
  /** May be given several times (`--input a=x.npy --input b=y.npy`). */
  repeat?: boolean;
  /** What the value looks like in the help (`DIR`, `N`, `cpu|webgpu|auto`). */
  arg?: string;
  /** One line: what the option does. */
  help: string;
  /** The value used when the option is absent, as the help shows it. */
  default?: string;
}

/** A command's usage, options and examples: the parser's table and the help text both come from it. */
export interface CommandSpec {
  /** 'run', or 'bench compare' for a subcommand. */
  name: string;
  /** One line for `forwardpass --help`. */
  summary: string;
  /** Usage lines, each starting with `forwardpass <name>`. */
  usage: string[];
  options: Record<string, FlagSpec>;
  /** One-letter aliases: `{ o: 'out' }` makes `-o X` mean `--out X`. */
  short?: Record<string, string>;
  /** Paragraph lines printed after the usage (what the positionals are, what gets written). */
  about?: string[];
  /** Example command lines. */
  examples: string[];
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

/** The help text of a command: usage, description, one line per option with its default, examples. */
export function formatHelp(spec: CommandSpec): string {
  const shortOf = (name: string) => Object.entries(spec.short ?? {}).find(([, long]) => long === name)?.[0];
  const rows = Object.entries(spec.options).map(([name, s]) => {
    const short = shortOf(name);
    const left = `${short ? `-${short}, ` : ''}--${name}${s.value ? ` ${s.arg ?? 'VALUE'}` : ''}`;
    const notes = [s.repeat ? 'repeatable' : '', s.default !== undefined ? `default: ${s.default}` : ''].filter(Boolean);
    return [left, `${s.help}${notes.length ? ` (${notes.join('; ')})` : ''}`] as const;
  });
  rows.push(['-h, --help', 'print this help and exit']);
  const width = Math.min(30, Math.max(...rows.map(([l]) => l.length)));
  const pad = (l: string) => (l.length > width ? `${l}\n${' '.repeat(width + 4)}` : l.padEnd(width + 2));
  return [
    `forwardpass ${spec.name}: ${spec.summary}`,
    '',
    'usage:',
    ...spec.usage.map((u) => `  ${u}`),
    ...(spec.about?.length ? ['', ...spec.about] : []),
    '',
    'options:',
    ...rows.map(([l, r]) => `  ${pad(l)}${r}`),
    '',
    'examples:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}

/**
 * Parse `argv` against the command's option table; unknown options and missing values are usage errors naming the
 * option, `-h`/`--help` throws a HelpRequest with the command's help.
 * @example parseArgs(['m', '--out', 'o'], RUN_SPEC).flags.get('out') // ['o']
 */
export function parseArgs(argv: readonly string[], cmd: CommandSpec): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  const { options, name: command } = cmd;
  const see = `see forwardpass ${command} --help`;
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (a === '--help' || a === '-h') throw new HelpRequest(formatHelp(cmd));
    const short = /^-([A-Za-z])$/.exec(a)?.[1];
    if (short !== undefined) {
      const long = cmd.short?.[short];
      if (!long) throw new UsageError(`${command}: unknown option -${short}; ${see}`);
      a = `--${long}`;
    }
    if (!a.startsWith('--')) { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq > 0 ? eq : undefined);
    const s = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!s) throw new UsageError(`${command}: unknown option --${name} (expected one of ${Object.keys(options).map((k) => '--' + k).join(', ') || 'none'}); ${see}`);
    let value = 'true';
    if (s.value) {
      if (eq > 0) value = a.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new UsageError(`${command}: option --${name} needs a value (${s.arg ?? 'VALUE'}); ${see}`);
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
