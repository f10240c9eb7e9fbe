// `forwardpass <command> --help` for every command: usage, one explained line per option the parser accepts (the
// option list is read back from the parser's own unknown-option error), examples; --version; usage errors point to help.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BENCH_COMPARE_SPEC, COMMAND_SPECS } from '../../src/cli/specs.js';
import { captureCli } from './capture.js';

const io = captureCli();
const specs = [...COMMAND_SPECS, BENCH_COMPARE_SPEC];

/** The options the command's parser accepts, as its unknown-option error lists them. */
async function acceptedOptions(words: string[]): Promise<string[]> {
  io.err = '';
  expect(await main([...words, '--no-such-option'])).toBe(2);
  const m = /unknown option --no-such-option \(expected one of (.*)\); see forwardpass (.*) --help\n$/.exec(io.err);
  expect(m, io.err).not.toBeNull();
  expect(m![2]).toBe(words.join(' '));
  return m![1]!.split(', ').map((o) => o.replace(/^--/, ''));
}

describe('forwardpass <command> --help', () => {
  it('lists the eight commands', () => {
    expect(COMMAND_SPECS.map((s) => s.name)).toEqual(['run', 'inspect', 'generate', 'quantize', 'trace', 'bench', 'serve', 'tokenize']);
  });

  for (const spec of specs) {
    const words = spec.name.split(' ');
    it(`${spec.name}: --help and -h print usage, every accepted option with what it does and its default, examples; exit 0`, async () => {
      expect(await main([...words, '--help'])).toBe(0);
      const help = io.out;
      expect(io.err).toBe('');
      expect(help).toMatch(new RegExp(`^forwardpass ${spec.name}: \\S`));
      expect(help).toMatch(new RegExp(`\\nusage:\\n  forwardpass ${spec.name} `));
      expect(help).toMatch(/\nexamples:\n {2}forwardpass /);
      const options = await acceptedOptions(words);
      expect(options.sort()).toEqual(Object.keys(spec.options).sort());
      for (const name of options) {
        const line = help.split('\n').findIndex((l) => new RegExp(`^ {2}(-[a-z], )?--${name}( \\S+)?( {2,}\\S|$)`).test(l));
        expect(line, `--${name} in ${spec.name} --help`).toBeGreaterThan(0);
        // the explanation is on the same line, or on the next when the option column is too wide
        const [here, next] = help.split('\n').slice(line, line + 2);
        const after = here!.replace(new RegExp(`^ {2}(-[a-z], )?--${name}( \\S+)?`), '').trim();
        const text = after || next!.trim();
        expect(text, `explanation of --${name}`).toMatch(/^[a-z(].*\S \S/i);
        if (spec.options[name]!.default !== undefined) expect(text).toContain(`default: ${spec.options[name]!.default}`);
      }
      io.out = '';
      expect(await main([...words, '-h'])).toBe(0);
      expect(io.out).toBe(help);
      io.out = '';
      expect(await main(['help', ...words])).toBe(0);
      expect(io.out).toBe(help);
    });
  }

  it('explains the options the issue names', async () => {
    const helpOf = async (...w: string[]) => { io.out = ''; await main([...w, '--help']); return io.out; };
    const trace = await helpOf('trace');
    for (const o of ['threshold X', 'full', 'bins N', 'sync', 'step', 'compare SETTING']) expect(trace).toMatch(new RegExp(`--${o}\\s+\\w`));
    const bench = await helpOf('bench');
    for (const o of ['time-ms MS', 'rounds N', 'batch LIST', 'no-accuracy']) expect(bench).toMatch(new RegExp(`--${o}\\s+\\w`));
    expect(await helpOf('quantize')).toMatch(/-o, --out DIR\s+the folder to write/);
  });

  it('--help stops parsing even after other options, and wins over missing required ones', async () => {
    expect(await main(['run', 'some-folder', '--backend', 'cpu', '--help'])).toBe(0);
    expect(io.out).toMatch(/^forwardpass run: /);
    expect(io.err).toBe('');
  });
});

describe('forwardpass --help and --version', () => {
  it('--help lists every command with a one-line summary; no arguments prints it as a usage error', async () => {
    expect(await main(['--help'])).toBe(0);
    for (const s of COMMAND_SPECS) expect(io.out).toMatch(new RegExp(`\\n {2}${s.name} +${s.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(io.out).toMatch(/forwardpass <command> --help/);
    io.out = '';
    expect(await main(['-h'])).toBe(0);
    expect(io.out).toMatch(/^forwardpass: run frozen models/);
    expect(await main([])).toBe(2);
  });

  it('--version and -v print the version', async () => {
    expect(await main(['--version'])).toBe(0);
    expect(io.out).toMatch(/^\d+\.\d+\.\d+\n$/);
    io.out = '';
    expect(await main(['-v'])).toBe(0);
    expect(io.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('unknown options and short flags are usage errors (exit 2) that point to the command help', async () => {
    expect(await main(['trace', 'm', '--frobnicate'])).toBe(2);
    expect(io.err).toMatch(/^forwardpass: trace: unknown option --frobnicate \(expected one of --input, .*\); see forwardpass trace --help\n$/);
    io.err = '';
    expect(await main(['run', 'm', '-x'])).toBe(2);
    expect(io.err).toBe('forwardpass: run: unknown option -x; see forwardpass run --help\n');
    io.err = '';
    expect(await main(['bench', 'm', '--time-ms'])).toBe(2);
    expect(io.err).toBe('forwardpass: bench: option --time-ms needs a value (MS); see forwardpass bench --help\n');
  });
});
