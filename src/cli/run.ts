// `forwardpass run <model> --input NAME=FILE.npy ... --out DIR`: run a model folder on .npy inputs, write .npy outputs.
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readNpyFile, writeNpyFile } from '../node.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { flag, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { loadModelFolder } from './model-folder.js';
import { parsePrecision, selectBackend, type Precision } from './backend.js';
import { cast } from '../ops/elementwise.js';
import type { ConfiguredModel } from '../nn/models/config.js';
import { isQuantized, quantize } from '../quant/quantize.js';
import { quantizationReport } from '../quant/report.js';
import { runOnnxFile } from './onnx-run.js';
import { RUN_SPEC, RUN_USAGE } from './specs.js';
import { applyThreadsFlag } from './threads.js';
import { warnNonFinite } from './non-finite.js';
import { isHfFolder } from '../io/hf/node.js';
import { runHfFolder } from './hf-run.js';


/** Parse `--input NAME=FILE` flags into a name -> path map; repeated names are an error. */
export function inputFlags(args: ParsedArgs, command: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const spec of args.flags.get('input') ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`${command}: --input expects NAME=FILE.npy, got '${spec}'`);
    const name = spec.slice(0, eq);
    if (out.has(name)) throw new UsageError(`${command}: input '${name}' was given twice`);
    out.set(name, spec.slice(eq + 1));
  }
  return out;
}

/**
 * Check that `--out DIR` can be a folder we write into, before any work: the nearest existing path on the way must
 * be a folder we may write (DIR itself when it exists). One sentence naming the path otherwise; nothing is created.
 */
export function checkOutDir(outDir: string, command: string): void {
  let p = resolve(outDir);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  const st = statSync(p);
  const what = p === resolve(outDir) ? `--out '${outDir}'` : `--out '${outDir}': '${p}'`;
  if (!st.isDirectory()) throw new Error(`forwardpass: ${command}: ${what} is a file; expected a folder to write the outputs into`);
  try {
    accessSync(p, constants.W_OK);
  } catch (e) {
    throw new Error(`forwardpass: ${command}: ${what} is a folder this user cannot write into (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** mkdir -p `outDir` and write each output there, with errors that name the file. */
export function makeOutDir(outDir: string, command: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new Error(`forwardpass: ${command}: cannot create the --out folder '${outDir}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

interface IoSpec { name: string; dtype?: string; shape?: (number | string)[] }

/** Check given inputs against the config's declared inputs: names, integer vs float, rank and fixed/symbolic dims. */
export function checkInputs(declared: IoSpec[], given: Map<string, Tensor>): void {
  const names = declared.map((d) => d.name);
  const unknown = [...given.keys()].filter((n) => !names.includes(n));
  if (unknown.length) throw new Error(`forwardpass: run: unknown input ${unknown.map((n) => `'${n}'`).join(', ')}; the model takes ${names.map((n) => `'${n}'`).join(', ')}`);
  const missing = names.filter((n) => !given.has(n));
  if (missing.length) throw new Error(`forwardpass: run: missing input ${missing.map((n) => `'${n}'`).join(', ')} (give --input ${missing[0]}=FILE.npy)`);
  const symbols = new Map<string, [number, string]>();
  for (const d of declared) {
    const t = given.get(d.name)!;
    const wantsInt = /int/.test(d.dtype ?? '');
    const isInt = t.dtype === 'int32' || t.dtype === 'int8' || t.dtype === 'uint8';
    if (wantsInt && !isInt) throw new TypeError(`forwardpass: run: input '${d.name}' must hold integers (int32 or int64 .npy), got ${t.dtype}`);
    if (!wantsInt && isInt) throw new TypeError(`forwardpass: run: input '${d.name}' must be float32 (or float16), got ${t.dtype}`);
    if (!d.shape) continue;
    if (t.rank !== d.shape.length) throw new RangeError(`forwardpass: run: input '${d.name}' must have shape [${d.shape.join(', ')}] (rank ${d.shape.length}), got ${shapeStr(t.shape)}`);
    d.shape.forEach((dim, i) => {
      const got = t.shape[i]!;
      if (typeof dim === 'number' && dim !== got) throw new RangeError(`forwardpass: run: input '${d.name}' must have shape [${d.shape!.join(', ')}], got ${shapeStr(t.shape)} (dim ${i} is ${got}, expected ${dim})`);
      if (typeof dim === 'string') {
        const seen = symbols.get(dim);
        if (seen && seen[0] !== got) throw new RangeError(`forwardpass: run: dim '${dim}' is ${seen[0]} in input '${seen[1]}' but ${got} in input '${d.name}'`);
        symbols.set(dim, [got, d.name]);
      }
    });
  }
}

/**
 * Bring a loaded model to `precision`: f16 casts the weights; int8 quantizes a float model on the fly (dynamic
 * W8A8, weights per channel). A quantized folder runs as stored. Returns the scheme for the summary line.
 */
async function applyPrecision(model: ConfiguredModel, precision: Precision, dir: string): Promise<string> {
  if (isQuantized(model)) {
    if (precision === 'f16') throw new Error(`forwardpass: run: '${dir}' holds an int8 model; --precision f16 applies to float models only`);
    return `int8 ${describeSchemes(model)}`;
  }
  if (precision === 'f16') await model.to({ dtype: 'float16' });
  if (precision === 'int8') {
    await quantize(model);
    return `int8 ${describeSchemes(model)}, quantized on load`;
  }
  return precision;
}

/** 'per-channel/dynamic' or a list when layers differ. */
function describeSchemes(model: ConfiguredModel): string {
  const kinds = new Set(quantizationReport(model).layers.map((l) => `${l.weights}/${l.activations}`));
  return [...kinds].join(', ');
}

export async function runCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, RUN_SPEC);
  applyThreadsFlag(args, 'run');
  const [dir, ...extra] = args.positionals;
  if (!dir || extra.length) throw new UsageError(`run: expected one model folder or .onnx file, got ${args.positionals.length}; usage: ${RUN_USAGE}`);
  const outDir = flag(args, 'out');
  if (!outDir) throw new UsageError(`run: --out DIR is required; usage: ${RUN_USAGE}`);
  const precision = parsePrecision(flag(args, 'precision', 'f32')!, 'run', ['f32', 'f16', 'int8']);
  const inputPaths = inputFlags(args, 'run');
  checkOutDir(outDir, 'run');
  const backend = await selectBackend(flag(args, 'backend', 'cpu')!, 'run');
  if (dir.toLowerCase().endsWith('.onnx')) return runOnnxFile(dir, { inputs: inputPaths, outDir, backend, precision });
  if (await isHfFolder(dir)) return runHfFolder(dir, { inputs: inputPaths, outDir, backend, precision });
  const { config, model } = loadModelFolder(dir, backend);
  const scheme = await applyPrecision(model, precision, dir);
  const inputs = new Map<string, Tensor>();
  for (const [name, path] of inputPaths) inputs.set(name, await readNpyFile(path, { device: backend }));
  checkInputs((config.inputs ?? [{ name: 'input' }]) as IoSpec[], inputs);
  // f16: float inputs are stored as halves too (arithmetic stays f32 inside each op)
  const fed = Object.fromEntries([...inputs].map(([k, t]) => [k, precision === 'f16' && t.dtype === 'float32' ? cast(t, 'float16') : t]));
  const t0 = performance.now();
  const outputs = model.run(fed);
  const values = new Map<string, Tensor>(Object.entries(outputs).map(([k, t]) => [k, t.dtype === 'float16' ? cast(t, 'float32') : t]));
  makeOutDir(outDir, 'run');
  for (const [name, t] of values) {
    const path = join(outDir, `${name}.npy`);
    await writeNpyFile(path, t);
    process.stdout.write(`${name}: ${shapeStr(t.shape)} ${t.dtype} -> ${path}\n`);
    await warnNonFinite(name, t);
  }
  process.stdout.write(`ran ${config.name ?? dir} on ${backend} (${scheme}) in ${(performance.now() - t0).toFixed(1)} ms\n`);
  for (const t of [...inputs.values(), ...values.values()]) t.dispose();
  model.dispose();
}
