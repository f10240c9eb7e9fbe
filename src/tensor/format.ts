// PyTorch-style printing of tensor values: aligned columns, summarized with '...' when large.
import type { DataArray, DType } from './dtype.js';
import { numel, type Shape } from './shape.js';

const THRESHOLD = 1000;
const EDGE = 3;

/** Format values like PyTorch: `tensor([[1.0000, 2.0000], ...], dtype=float16)`. */
export function formatTensor(data: DataArray, shape: Shape, dtype: DType, device = 'cpu'): string {
  const summarize = numel(shape) > THRESHOLD;
  const isFloat = dtype === 'float32' || dtype === 'float16';
  const shown: number[] = [];
  collect(data, shape, 0, 0, summarize, shown);
  const fmt = makeFormatter(shown, isFloat, dtype === 'bool');
  const width = Math.max(1, ...shown.map((v) => fmt(v).length));
  const cell = (v: number) => fmt(v).padStart(width);
  const body = shape.length === 0 ? fmt(data[0]!) : render(data, shape, 0, 0, summarize, cell, 'tensor('.length + 1);
  const extras: string[] = [];
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') extras.push(`dtype=${dtype}`);
  if (dtype === 'int32') extras.push('dtype=int32');
  if (device !== 'cpu') extras.push(`device='${device}'`);
  if (summarize || numel(shape) === 0) extras.push(`shape=[${shape.join(', ')}]`);
  return `tensor(${body}${extras.length ? ', ' + extras.join(', ') : ''})`;
}

function collect(data: DataArray, shape: Shape, dim: number, off: number, summ: boolean, out: number[]): void {
  if (shape.length === 0) { out.push(data[0]!); return; }
  const n = shape[dim]!;
  const step = numel(shape.slice(dim + 1));
  const idx = summ && n > 2 * EDGE ? [...range(0, EDGE), ...range(n - EDGE, n)] : range(0, n);
  for (const i of idx) {
    if (dim === shape.length - 1) out.push(data[off + i]!);
    else collect(data, shape, dim + 1, off + i * step, summ, out);
  }
}

function range(a: number, b: number): number[] {
  return Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
}

function makeFormatter(vals: number[], isFloat: boolean, isBool: boolean): (v: number) => string {
  if (isBool) return (v) => (v ? 'True' : 'False');
  if (!isFloat) return (v) => String(v);
  const finite = vals.filter((v) => Number.isFinite(v));
  const allInt = finite.every((v) => Number.isInteger(v));
  const maxAbs = Math.max(0, ...finite.map(Math.abs));
  const minAbs = Math.min(...finite.filter((v) => v !== 0).map(Math.abs), Infinity);
  const sci = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity) || (maxAbs / (minAbs || 1) > 1e3 && minAbs < 1e-2);
  return (v) => {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (sci) return v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
    if (allInt) return `${v.toFixed(0)}.`;
    return v.toFixed(4);
  };
}

function render(data: DataArray, shape: Shape, dim: number, off: number, summ: boolean, cell: (v: number) => string, indent: number): string {
  const n = shape[dim]!;
  const step = numel(shape.slice(dim + 1));
  const cut = summ && n > 2 * EDGE;
  const idx = cut ? [...range(0, EDGE), -1, ...range(n - EDGE, n)] : range(0, n);
  if (dim === shape.length - 1) return '[' + idx.map((i) => (i < 0 ? '...' : cell(data[off + i]!))).join(', ') + ']';
  const sep = ',' + '\n'.repeat(shape.length - dim - 1) + ' '.repeat(indent + dim);
  return '[' + idx.map((i) => (i < 0 ? '...' : render(data, shape, dim + 1, off + i * step, summ, cell, indent))).join(sep) + ']';
}
