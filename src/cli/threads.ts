// --threads T (run, generate, bench, serve): how many threads the CPU fast path splits its large kernels across.
import { MAX_THREADS, setNumThreads } from '../backends/cpu/wasm/threads.js';
import { intFlag, UsageError, type ParsedArgs } from './args.js';
import type { FlagSpec } from './args.js';

/** The option's row in a command's table (specs.ts). */
export const THREADS_FLAG: FlagSpec = {
  value: true, arg: 'T', default: 'the number of cores, or FORWARDPASS_THREADS',
  help: `threads the CPU fast path splits large matrix products (linear, matmul, conv2d) across, 1 to ${MAX_THREADS}; 1 runs no worker threads; results are the same bit for bit`,
};

/** Apply --threads when given (a usage error names a bad value). */
export function applyThreadsFlag(args: ParsedArgs, command: string): void {
  if (!args.flags.has('threads')) return;
  const n = intFlag(args, 'threads', 1, command);
  if (n > MAX_THREADS) throw new UsageError(`${command}: --threads must be at most ${MAX_THREADS}, got '${n}'`);
  setNumThreads(n);
}
