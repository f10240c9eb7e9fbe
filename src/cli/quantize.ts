// `forwardpass quantize <folder> -o <out>`: quantize a float model folder to int8 once and write a folder that
// `run`, `generate` and `inspect` take as it is (config.json + model.safetensors with the `quantization` metadata).
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNpyFile } from '../node.js';
import { parseSafetensors } from '../io/safetensors.js';
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { isQuantized, quantize, type LayerChoice } from '../quant/quantize.js';
import { saveQuantized } from '../quant/serialize.js';
import { formatReport, quantizationReport } from '../quant/report.js';
import { WEIGHT_SCHEMES } from '../quant/qtensor.js';
import { ACTIVATION_MODES, type ActivationMode } from '../quant/modules.js';
import type { WeightScheme } from '../quant/formats.js';
import { flag, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { loadModelFolder } from './model-folder.js';
import { QUANTIZE_SPEC, QUANTIZE_USAGE } from './specs.js';
import { quantizeGguf } from './gguf.js';


/** `--calibration FILE.npy` (the model's first input) or `NAME=FILE.npy`, repeatable. */
async function calibrationFlags(args: ParsedArgs): Promise<Record<string, Tensor> | Tensor | undefined> {
  const specs = args.flags.get('calibration') ?? [];
  if (specs.length === 0) return undefined;
  const named = specs.map((s) => {
    const eq = s.indexOf('=');
    return eq > 0 && !s.slice(0, eq).includes('/') ? [s.slice(0, eq), s.slice(eq + 1)] : ['', s];
  });
  if (named.length === 1 && named[0]![0] === '') return readNpyFile(named[0]![1]!);
  const out: Record<string, Tensor> = {};
  for (const [name, path] of named) {
    if (!name) throw new UsageError(`quantize: with several --calibration files, name each input: --calibration NAME=FILE.npy`);
    if (out[name!]) throw new UsageError(`quantize: calibration input '${name}' was given twice`);
    out[name!] = await readNpyFile(path!);
  }
  return out;
}

const list = (v: string | undefined) => (v === undefined ? [] : v.split(',').map((s) => s.trim()).filter(Boolean));

export async function quantizeCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, QUANTIZE_SPEC);
  const [dir, ...extra] = args.positionals;
  if (!dir || extra.length) throw new UsageError(`quantize: expected one model folder, got ${args.positionals.length}; usage: ${QUANTIZE_USAGE}`);
  const out = flag(args, 'out');
  if (!out) throw new UsageError(`quantize: -o <out-folder> is required; usage: ${QUANTIZE_USAGE}`);
  if (resolve(out) === resolve(dir)) throw new UsageError(`quantize: the output folder must differ from the model folder '${dir}'`);
  if (/\.gguf$/i.test(dir)) return quantizeGguf(dir, out);
  const weights = flag(args, 'weights', 'per-channel') as WeightScheme;
  if (!WEIGHT_SCHEMES.includes(weights)) throw new UsageError(`quantize: --weights must be one of ${WEIGHT_SCHEMES.join(', ')}, got '${weights}'`);
  const activations = flag(args, 'activations', 'dynamic') as ActivationMode;
  if (!ACTIVATION_MODES.includes(activations)) throw new UsageError(`quantize: --activations must be one of ${ACTIVATION_MODES.join(', ')}, got '${activations}'`);
  const p = flag(args, 'percentile');
  const percentile = p === undefined ? undefined : Number(p);
  if (percentile !== undefined && !(percentile > 0 && percentile <= 100)) throw new UsageError(`quantize: --percentile must be a number in (0, 100], got '${p}'`);
  const layers: Record<string, LayerChoice> = Object.fromEntries(list(flag(args, 'weight-only')).map((n) => [n, { activations: 'none' as const }]));
  const calibration = await calibrationFlags(args);
  if (activations === 'static' && calibration === undefined) throw new UsageError(`quantize: --activations static needs --calibration FILE.npy (sample inputs)`);

  const { config, model } = loadModelFolder(dir);
  try {
    if (isQuantized(model)) throw new Error(`forwardpass: quantize: '${dir}' already holds a quantized model; quantize the float model folder`);
    await quantize(model, { weights, activations, layers, skip: list(flag(args, 'skip')), ...(calibration ? { calibration } : {}), ...(percentile !== undefined ? { percentile } : {}) });
    const src = join(dir, 'model.safetensors');
    const { quantization: _old, ...meta } = parseSafetensors(readFileSync(src), { name: src }).metadata;
    const bytes = await saveQuantized(model, meta);
    if (existsSync(out) && !statSync(out).isDirectory()) throw new Error(`forwardpass: quantize: '${out}' exists and is not a folder`);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'config.json'), readFileSync(join(dir, 'config.json')));
    writeFileSync(join(out, 'model.safetensors'), bytes);
    const report = quantizationReport(model);
    process.stdout.write(`${formatReport(report)}\n`);
    process.stdout.write(`quantized ${config.name ?? dir}: int8 weights are ${report.ratio.toFixed(3)}x their float32 bytes; wrote ${join(out, 'model.safetensors')} (${bytes.length} bytes) and config.json\n`);
  } finally {
    model.dispose();
    for (const t of calibration === undefined ? [] : isTensor(calibration) ? [calibration] : Object.values(calibration)) t.dispose();
  }
}
