// `forwardpass trace <model-folder|model.onnx>`: one line per op of a forward pass (stats, sparkline, time), optional
// PyTorch-style values, stepping with Enter (or one stdin line per step from a pipe), and compare mode against
// another precision or backend.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { loadFixtureCases, readNpyFile } from '../node.js';
import { loadOnnx } from '../io/onnx/session.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import type { ConfiguredModel } from '../nn/models/config.js';
import { isQuantized, quantize } from '../quant/quantize.js';
import { steps, trace } from '../trace/trace.js';
import { moveInputs } from '../trace/compare.js';
import { compareRuns } from '../trace/divergence.js';
import { formatComparison, formatRecord, formatValues, pathWidthOf, timingText } from '../trace/format.js';
import type { Traceable, TraceOptions } from '../trace/types.js';
import { flag, intFlag, parseArgs, UsageError } from './args.js';
import { loadModelFolder } from './model-folder.js';
import { PRECISIONS, selectBackend, type Precision } from './backend.js';
import { checkInputs, inputFlags } from './run.js';
import { TRACE_SPEC, TRACE_USAGE } from './specs.js';



/** Where the lines go and where step confirmations come from (tests pass their own). */
export interface TraceIo {
  stdin?: Readable & { isTTY?: boolean };
}

interface Setting { backend: string; precision: Precision }

interface Loaded {
  model: Traceable;
  inputNames?: string[];
  declared?: { name: string }[];
  dispose(): void;
}

/** Load a model folder or an .onnx file on `s.backend` at `s.precision`. */
async function load(path: string, s: Setting): Promise<Loaded> {
  if (!existsSync(path)) throw new Error(`forwardpass: trace: '${path}' does not exist`);
  if (statSync(path).isFile()) {
    if (!path.endsWith('.onnx')) throw new Error(`forwardpass: trace: expected a model folder or a .onnx file, got '${path}'`);
    const model = await loadOnnx(new Uint8Array(readFileSync(path)), { backend: s.backend, precision: s.precision, name: path });
    return { model, dispose: () => model.dispose() };
  }
  const { model, config } = loadModelFolder(path, s.backend);
  await applyPrecision(model, s.precision, path);
  return { model, inputNames: model.inputNames, declared: (config.inputs ?? [{ name: 'input' }]) as { name: string }[], dispose: () => model.dispose() };
}

async function applyPrecision(model: ConfiguredModel, precision: Precision, dir: string): Promise<void> {
  if (isQuantized(model)) {
    if (precision === 'f16') throw new Error(`forwardpass: trace: '${dir}' holds an int8 model; --precision f16 applies to float models only`);
    return;
  }
  if (precision === 'f16') await model.to({ dtype: 'float16' });
  if (precision === 'int8') await quantize(model);
}

/** `--compare` value: a precision, a backend, or BACKEND:PRECISION; the rest is taken from `main`. */
function parseCompare(v: string, main: Setting): { backend: string; precision: Precision } {
  const parts = v.split(':');
  let backend: string | undefined, precision: Precision | undefined;
  for (const p of parts) {
    if ((PRECISIONS as readonly string[]).includes(p) && precision === undefined) precision = p as Precision;
    else if (['cpu', 'webgpu', 'auto'].includes(p) && backend === undefined) backend = p;
    else throw new UsageError(`trace: --compare expects a precision (${PRECISIONS.join(', ')}), a backend (cpu, webgpu) or BACKEND:PRECISION, got '${v}'`);
  }
  return { backend: backend ?? main.backend, precision: precision ?? main.precision };
}

/** The folder of a model folder or of an .onnx file. */
const folderOf = (path: string) => (statSync(path).isDirectory() ? path : dirname(path));

/**
 * Inputs from --input files, or the first io.json case of the model's folder (fixture layout), read into `inputs`
 * (the caller frees them, also when reading or checking fails part way).
 */
async function readInputs(path: string, files: Map<string, string>, s: Setting, loaded: Loaded, inputs: Record<string, Tensor>): Promise<void> {
  if (files.size) {
    for (const [name, file] of files) inputs[name] = await readNpyFile(file, { device: s.backend });
  } else if (existsSync(join(folderOf(path), 'io.json'))) {
    const cases = await loadFixtureCases(folderOf(path), { device: s.backend });
    const [first, ...rest] = cases;
    for (const c of rest) for (const t of Object.values(c.inputs)) t.dispose();
    if (!first) throw new Error(`forwardpass: trace: '${join(folderOf(path), 'io.json')}' has no cases; give --input NAME=FILE.npy`);
    process.stderr.write(`forwardpass: trace: no --input given; using io case '${first.name}' from io.json\n`);
    Object.assign(inputs, first.inputs);
  } else {
    throw new UsageError(`trace: give the model's inputs with --input NAME=FILE.npy; usage: ${TRACE_USAGE}`);
  }
  if (loaded.declared) {
    try {
      checkInputs(loaded.declared, new Map(Object.entries(inputs)));
    } catch (e) {
      (e as Error).message = (e as Error).message.replace('forwardpass: run:', 'forwardpass: trace:');
      throw e;
    }
  }
}

/** Waits for a line on stdin between steps: Enter on a terminal, one line per step from a pipe; 'q' stops. */
function stepper(stdin: Readable & { isTTY?: boolean }): { next(): Promise<boolean>; close(): void } {
  const rl = createInterface({ input: stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  let ended = false;
  return {
    async next() {
      if (ended) return true;
      if (stdin.isTTY) process.stderr.write('[Enter: next op, q: quit] ');
      const r = await lines.next();
      if (r.done) { ended = true; return true; }
      return r.value.trim().toLowerCase() !== 'q';
    },
    close: () => rl.close(),
  };
}

/** Two header lines of compare mode: which run is which, which one is the reference, and what the rows show. */
function compareHeader(mine: Setting, other: Setting, mineIsRef: boolean, labels: { ref: string; other: string }, threshold: number, matched: number): string {
  const why = mine.precision !== other.precision ? 'the more precise run' : mine.backend !== other.backend ? 'the CPU run' : 'this run';
  return `compare: this run ${mine.backend} ${mine.precision} with ${other.backend} ${other.precision} (--compare); ` +
    `reference: ${mineIsRef ? 'this run' : 'the --compare run'}, ${labels.ref} (${why}); ${matched} ops matched\n` +
    `rows: op index and path in the ${labels.ref} run, op ${labels.ref}→${labels.other}; rel = max|${labels.other} - ${labels.ref}| / max|${labels.ref}|; diverges above ${threshold}\n`;
}

export async function traceCommand(argv: string[], io: TraceIo = {}): Promise<void> {
  const args = parseArgs(argv, TRACE_SPEC);
  const [path, ...extra] = args.positionals;
  if (!path || extra.length) throw new UsageError(`trace: expected one model folder or .onnx file, got ${args.positionals.length}; usage: ${TRACE_USAGE}`);
  const precision = flag(args, 'precision', 'f32')!;
  if (!(PRECISIONS as readonly string[]).includes(precision)) throw new UsageError(`trace: --precision must be one of ${PRECISIONS.join(', ')}, got '${precision}'`);
  const thresholdText = flag(args, 'threshold');
  const threshold = thresholdText === undefined ? undefined : Number(thresholdText);
  if (threshold !== undefined && !(threshold >= 0)) throw new UsageError(`trace: --threshold must be a number >= 0, got '${thresholdText}'`);
  const full = args.flags.has('full');
  const opts: TraceOptions = { values: full ? 'full' : 'stats', bins: intFlag(args, 'bins', 16, 'trace'), sync: args.flags.has('sync') };
  const files = inputFlags(args, 'trace');
  const mainSetting: Setting = { backend: await selectBackend(flag(args, 'backend', 'cpu')!, 'trace'), precision: precision as Precision };
  const cmp = flag(args, 'compare');
  const refSetting = cmp === undefined ? undefined : parseCompare(cmp, mainSetting);
  if (refSetting) refSetting.backend = await selectBackend(refSetting.backend, 'trace');
  const loaded = await load(path, mainSetting);
  const made: Loaded[] = [loaded];
  const raw: Record<string, Tensor> = {};
  const copies: Tensor[] = [];
  const stdin = io.stdin ?? process.stdin;
  try {
    await readInputs(path, files, mainSetting, loaded, raw);
    if (refSetting) {
      const ref = await load(path, refSetting);
      made.push(ref);
      const refTrace = await trace(ref.model, await moveInputs(raw, refSetting, ref.model, copies), { ...opts, values: 'full' });
      const mine = await trace(loaded.model, await moveInputs(raw, mainSetting, loaded.model, copies), { ...opts, values: 'full' });
      const rc = compareRuns({ trace: mine, setting: mainSetting }, { trace: refTrace, setting: refSetting }, threshold === undefined ? {} : { threshold });
      const c = rc.comparison;
      process.stdout.write(compareHeader(mainSetting, refSetting, rc.reference === 'a', rc.labels, c.threshold, c.rows.length));
      const lines = formatComparison(c, { labels: rc.labels }).split('\n');
      const step = args.flags.has('step') ? stepper(stdin) : null;
      try {
        for (const [i, line] of lines.entries()) {
          process.stdout.write(line + '\n');
          if (step && i < c.rows.length - 1 && !(await step.next())) break;
        }
      } finally {
        step?.close();
      }
      return;
    }
    const pathWidth = loaded.model instanceof Module ? pathWidthOf(loaded.model.namedModules().map(([p]) => ({ path: p }))) : 32;
    const step = args.flags.has('step') ? stepper(stdin) : null;
    let count = 0, total = 0;
    let timing = '';
    try {
      for await (const r of steps(loaded.model, await moveInputs(raw, mainSetting, loaded.model, copies), opts)) {
        if (count === 0) process.stdout.write(`trace: ${path} on ${mainSetting.backend} (${mainSetting.precision}); ms = ${timingText(r.timing)}\n`);
        process.stdout.write(formatRecord(r, { pathWidth }) + '\n');
        if (full) process.stdout.write(formatValues(r) + '\n');
        count++;
        total += r.ms;
        timing = r.timing;
        if (step && !(await step.next())) break;
      }
    } finally {
      step?.close();
    }
    process.stdout.write(`${count} ops, ${total.toFixed(3)} ms${timing ? ` (${timing})` : ''}\n`);
  } finally {
    for (const t of [...copies, ...Object.values(raw)]) t.dispose();
    for (const m of made) m.dispose();
  }
}
