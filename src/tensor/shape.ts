// Shapes and strides: element counts, contiguous strides, NumPy broadcasting, axis normalization.

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The row-major multi-index of flat position `flat` in `shape`. @example unravelIndex(5, [2, 3]) // [1, 2] */
export function unravelIndex(flat: number, shape: Shape): number[] {
  const pos = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    pos[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return pos;
}

/** True when `strides` walk `shape` in row-major order with no gaps (size-1 dims may have any stride). */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== acc) return false;
    acc *= shape[i]!;
  }
  return true;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws unless every dim is a non-negative integer. */
export function checkShape(shape: Shape, what = 'shape'): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`forwardpass: ${what} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

/** NumPy broadcasting of two shapes; `op` names the caller in the error. */
export function broadcastShapes(a: Shape, b: Shape, op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`forwardpass: ${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast (dim ${i - n} is ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Broadcast any number of shapes together. */
export function broadcastAll(shapes: Shape[], op = 'broadcast'): number[] {
  return shapes.reduce<number[]>((acc, s) => broadcastShapes(acc, s, op), []);
}

/** Strides that read a tensor of `shape`/`strides` as if it had `outShape` (0 stride on broadcast dims). */
export function broadcastStrides(shape: Shape, strides: readonly number[], outShape: Shape): number[] {
  const n = outShape.length;
  const out = new Array<number>(n).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const j = n - shape.length + i;
    out[j] = shape[i] === 1 && outShape[j] !== 1 ? 0 : strides[i]!;
  }
  return out;
}

/** Resolves a possibly negative axis against `rank`; `op` names the caller in the error. */
export function normAxis(axis: number, rank: number, op = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new RangeError(`forwardpass: ${op}: axis ${axis} is out of range for a tensor of rank ${rank} (expected ${-rank}..${Math.max(rank - 1, 0)})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Resolves a list of axes (undefined = all), sorted and deduplicated. */
export function normAxes(axes: number | readonly number[] | undefined, rank: number, op = 'axes'): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(a, rank, op)))].sort((x, y) => x - y);
  if (out.length !== list.length) throw new RangeError(`forwardpass: ${op}: repeated axis in ${JSON.stringify(list)}`);
  return out;
}

/**
 * Iterate a strided view in row-major order, calling `fn(flatOutIndex, storageIndex)`.
 * The innermost dim is a tight loop; used by CPU kernels that accept views.
 */
export function forEachStrided(shape: Shape, strides: readonly number[], offset: number, fn: (i: number, src: number) => void): void {
  const rank = shape.length;
  const total = numel(shape);
  if (total === 0) return;
  if (rank === 0) { fn(0, offset); return; }
  const idx = new Array<number>(rank).fill(0);
  const inner = shape[rank - 1]!;
  const innerStride = strides[rank - 1]!;
  let base = offset;
  for (let i = 0; i < total; i += inner) {
    for (let k = 0, p = base; k < inner; k++, p += innerStride) fn(i + k, p);
    // advance the outer multi-index
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}
