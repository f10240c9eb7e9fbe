// The `forwardpass` command: dispatches to run, inspect, generate, quantize, trace, bench, serve and tokenize; `--help` on
// its own or after a command prints help (stdout, exit 0); errors are one line and a non-zero exit.
import { HelpRequest, UsageError, formatHelp } from './args.js';
import { runCommand } from './run.js';
import { inspectCommand } from './inspect.js';
import { generateCommand } from './generate.js';
import { quantizeCommand } from './quantize.js';
import { traceCommand } from './trace.js';
import { benchCommand } from './bench.js';
import { serveCommand } from './serve.js';
import { tokenizeCommand } from './tokenize.js';
import { BENCH_COMPARE_SPEC, COMMAND_SPECS } from './specs.js';

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  run: runCommand,
  inspect: inspectCommand,
  generate: generateCommand,
  quantize: quantizeCommand,
  trace: (argv) => traceCommand(argv),
  bench: benchCommand,
  serve: serveCommand,
  tokenize: tokenizeCommand,
};

const width = Math.max(...COMMAND_SPECS.map((s) => s.name.length));
const HELP = `forwardpass: run frozen models in pure TypeScript

usage: forwardpass <command> [options]

commands:
${COMMAND_SPECS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`).join('\n')}

  forwardpass <command> --help   that command's usage, options and examples
  forwardpass --version          the version

A model folder holds config.json and model.safetensors (see test/fixtures/README.md for the layout);
run, inspect and trace also take a .onnx file; run, inspect and generate also take a Hugging Face folder
(config.json with model_type, model.safetensors, tokenizer.json).`;

/** Run the CLI on \`argv\` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') { process.stdout.write(HELP + '\n'); return cmd ? 0 : 2; }
  if (cmd === '--version' || cmd === '-v') { process.stdout.write(`${VERSION}\n`); return 0; }
  if (cmd === 'help') {
    const spec = [...COMMAND_SPECS, BENCH_COMPARE_SPEC].find((s) => s.name === rest.join(' '));
    process.stdout.write(`${spec ? formatHelp(spec) : HELP}\n`);
    return 0;
  }
  const run = COMMANDS[cmd];
  try {
    if (!run) throw new UsageError(`unknown command '${cmd}' (expected ${Object.keys(COMMANDS).join(', ')}); see forwardpass --help`);
    await run(rest);
    return 0;
  } catch (e) {
    if (e instanceof HelpRequest) { process.stdout.write(`${e.text}\n`); return 0; }
    const msg = (e as Error).message ?? String(e);
    process.stderr.write((e instanceof UsageError ? `forwardpass: ${msg}` : msg.startsWith('forwardpass:') ? msg : `forwardpass: ${cmd}: ${msg}`).split('\n')[0] + '\n');
    if (process.env.FORWARDPASS_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

declare const __FORWARDPASS_VERSION__: string | undefined;
const VERSION = typeof __FORWARDPASS_VERSION__ === 'string' ? __FORWARDPASS_VERSION__ : '0.1.0';
