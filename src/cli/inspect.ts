// `forwardpass inspect <file>`: what a .safetensors, .npy or model folder holds (tensors, dtypes, shapes, bytes, metadata).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '../io/safetensors.js';
import { parseNpy } from '../io/npy.js';
import { flag, parseArgs, UsageError } from './args.js';
import { readConfig, readConfigFile } from './model-folder.js';
import type { ModelConfig } from '../nn/models/config.js';
import { inspectOnnx } from './onnx-inspect.js';
import { human, table } from './text.js';
import { printable } from './printable.js';
import { numel } from '../tensor/shape.js';
import { INSPECT_SPEC, INSPECT_USAGE } from './specs.js';
import { isHfFolder } from '../io/hf/node.js';
import { describeHfConfig, inspectHfFolder } from './hf-run.js';
import { isHfConfig } from '../io/hf/config.js';
import { inspectGguf } from './gguf.js';


function shorten(v: string, n = 100): string {
  return printable(v.length > n ? `${v.slice(0, n)}... (${v.length} chars)` : v);
}

interface TensorRow { name: string; dtype: string; shape: number[]; bytes: number; elements: number }

function inspectSafetensors(path: string): { summary: Record<string, unknown>; text: string } {
  const file = parseSafetensors(readFileSync(path), { name: path });
  const rows: TensorRow[] = [...file.tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape], bytes: t.byteLength, elements: numel(t.shape) }));
  const params = rows.reduce((a, r) => a + r.elements, 0);
  const bytes = rows.reduce((a, r) => a + r.bytes, 0);
  const lines = [
    `${path}: safetensors, ${rows.length} tensors, ${params.toLocaleString('en-US')} elements, ${human(bytes)} of data`,
    '',
    table([['name', 'dtype', 'shape', 'bytes'], ...rows.map((r) => [printable(r.name), printable(r.dtype), `[${r.shape.join(', ')}]`, String(r.bytes)])]),
  ];
  const meta = Object.entries(file.metadata);
  if (meta.length) lines.push('', 'metadata:', ...meta.map(([k, v]) => `  ${printable(k)}: ${shorten(v)}`));
  return { summary: { path, format: 'safetensors', tensors: rows, elements: params, bytes, metadata: file.metadata }, text: lines.join('\n') };
}

function inspectNpy(path: string): { summary: Record<string, unknown>; text: string } {
  const a = parseNpy(readFileSync(path), { name: path });
  const data = a.data as ArrayLike<number>;
  let min = Infinity, max = -Infinity, sum = 0;
  for (let i = 0; i < data.length; i++) { const v = Number(data[i]); min = Math.min(min, v); max = Math.max(max, v); sum += v; }
  const stats = data.length ? { min, max, mean: sum / data.length } : null;
  const text = `${path}: npy ${printable(a.descr)} -> ${a.dtype}, shape [${a.shape.join(', ')}], ${data.length} elements` +
    (stats ? `\nmin ${stats.min}  max ${stats.max}  mean ${stats.mean.toPrecision(6)}` : '');
  return { summary: { path, format: 'npy', descr: a.descr, dtype: a.dtype, shape: a.shape, elements: data.length, stats }, text };
}

/** A config.json alone (no weights): the model it describes. */
function inspectConfig(path: string): { summary: Record<string, unknown>; text: string } {
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(path, 'utf8')); } catch { raw = undefined; }
  if (isHfConfig(raw)) return describeHfConfig(path, raw);
  const r = describeConfig(path, readConfigFile(path));
  return { summary: { path, format: 'config', config: r.summary }, text: r.lines.join('\n') };
}

function describeConfig(where: string, config: ModelConfig): { summary: Record<string, unknown>; lines: string[] } {
  const io = (list: unknown) => (Array.isArray(list) ? (list as { name: string; shape?: unknown[]; dtype?: string }[]) : []).map((x) => printable(`${x.name} [${(x.shape ?? []).join(', ')}] ${x.dtype ?? ''}`.trim()));
  const lines = [
    `${where}: model '${printable(String(config.name ?? '?'))}' (${printable(String(config.architecture.type))})${config.task ? ` - ${printable(String(config.task))}` : ''}`,
    `inputs:  ${io(config.inputs).join('; ')}`,
    `outputs: ${io(config.outputs).join('; ')}`,
  ];
  if (Array.isArray(config.architecture.layers)) lines.push(`layers:  ${config.architecture.layers.map((l) => printable(`${l.name}:${l.type}`)).join(' ')}`);
  return { summary: { name: config.name, architecture: config.architecture.type, inputs: config.inputs, outputs: config.outputs }, lines };
}

function inspectFolder(dir: string): { summary: Record<string, unknown>; text: string } {
  const c = describeConfig(dir, readConfig(dir));
  const st = inspectSafetensors(join(dir, 'model.safetensors'));
  return { summary: { dir, config: c.summary, weights: st.summary }, text: [...c.lines, '', st.text].join('\n') };
}

export async function inspectCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, INSPECT_SPEC);
  const [path, ...extra] = args.positionals;
  if (!path || extra.length) throw new UsageError(`inspect: expected one path, got ${args.positionals.length}; usage: ${INSPECT_USAGE}`);
  let stat;
  try { stat = statSync(path); } catch { throw new Error(`forwardpass: inspect: '${path}' does not exist`); }
  const lower = path.toLowerCase();
  const r = stat.isDirectory() ? (await isHfFolder(path) ? await inspectHfFolder(path) : inspectFolder(path))
    : lower.endsWith('.safetensors') ? inspectSafetensors(path)
    : lower.endsWith('.npy') ? inspectNpy(path)
    : lower.endsWith('.gguf') ? inspectGguf(path)
    : lower.endsWith('.onnx') ? inspectOnnx(path)
    : lower.endsWith('.json') ? inspectConfig(path)
    : (() => { throw new Error(`forwardpass: inspect: cannot tell the format of '${path}'; expected a .safetensors, .npy, .onnx or config.json file or a model folder`); })();
  process.stdout.write((flag(args, 'json') ? JSON.stringify(r.summary, null, 2) : r.text) + '\n');
}
