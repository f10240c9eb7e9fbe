// The `forwardpass` command: dispatches to run, inspect, generate, quantize, trace, bench and serve; errors are one line and a non-zero exit.
import { UsageError } from './args.js';
import { RUN_USAGE, runCommand } from './run.js';
import { INSPECT_USAGE, inspectCommand } from './inspect.js';
import { GENERATE_USAGE, generateCommand } from './generate.js';
import { QUANTIZE_USAGE, quantizeCommand } from './quantize.js';
import { TRACE_USAGE, traceCommand } from './trace.js';
import { BENCH_USAGE, benchCommand } from './bench.js';
import { SERVE_USAGE, serveCommand } from './serve.js';
import { tokenizeCommand } from './tokenize.js';

const HELP = `forwardpass: run frozen models in pure TypeScript

usage:
  ${RUN_USAGE}
  ${INSPECT_USAGE}
  ${GENERATE_USAGE}
  ${QUANTIZE_USAGE}
  ${TRACE_USAGE}
  ${BENCH_USAGE}
  ${SERVE_USAGE}
  forwardpass --help | --version

A model folder holds config.json and model.safetensors (see test/fixtures/README.md for the layout);
run and inspect also take a .onnx file.`;

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

/** Run the CLI on `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') { process.stdout.write(HELP + '\n'); return cmd ? 0 : 2; }
  if (cmd === '--version') { process.stdout.write(`${VERSION}\n`); return 0; }
  const run = COMMANDS[cmd];
  try {
    if (!run) throw new UsageError(`unknown command '${cmd}' (expected ${Object.keys(COMMANDS).join(', ')}); see forwardpass --help`);
    await run(rest);
    return 0;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    process.stderr.write((e instanceof UsageError ? `forwardpass: ${msg}` : msg.startsWith('forwardpass:') ? msg : `forwardpass: ${cmd}: ${msg}`).split('\n')[0] + '\n');
    if (process.env.FORWARDPASS_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

declare const __FORWARDPASS_VERSION__: string | undefined;
const VERSION = typeof __FORWARDPASS_VERSION__ === 'string' ? __FORWARDPASS_VERSION__ : '0.1.0';

const isEntry = typeof process !== 'undefined' && process.argv[1] !== undefined && /(?:cli|main)\.(?:c?js|ts)$/.test(process.argv[1]);
// exit explicitly once stdout is flushed: a WebGPU device (Dawn) would otherwise keep the process alive
if (isEntry) main(process.argv.slice(2)).then((code) => process.stdout.write('', () => process.exit(code)));
