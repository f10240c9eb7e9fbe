// Joining requests along the batch axis (padding smaller symbolic dims with zeros) and splitting a batch's outputs
// back per request (cutting the padding off). Pure host-array work: no model, no queue.
import type { CheckedRequest, HostTensor, Padding, TensorSpec } from './servable.js';

/** Whether two checked requests may share a batch under `padding` (the batch dim itself may always differ). */
export function canJoin(a: CheckedRequest, b: CheckedRequest, batchDim: string | undefined, padding: Padding): boolean {
  if (Object.keys(a.inputs).length !== Object.keys(b.inputs).length && padding.kind !== 'mask') return false;
  for (const [k, v] of a.dims) {
    if (k === batchDim) continue;
    if (b.dims.get(k) !== v && padding.kind === 'none') return false;
  }
  return true;
}

const stridesOf = (shape: readonly number[]) => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
};

/**
 * Copy the block `region` from `src` (shape `srcShape`, starting at row `srcRow` of dim 0) into `dst` (shape
 * `dstShape`, at row `dstRow`); the other dims start at 0. Rows of the last dim move with one `set` each.
 */
export function copyRegion(src: Float32Array | Int32Array, srcShape: readonly number[], srcRow: number, dst: Float32Array | Int32Array, dstShape: readonly number[], dstRow: number, region: readonly number[]): void {
  const r = region.length;
  if (region.some((d) => d === 0)) return;
  const ss = stridesOf(srcShape);
  const ds = stridesOf(dstShape);
  const last = r === 0 ? 1 : region[r - 1]!;
  const idx = new Array<number>(Math.max(0, r - 1)).fill(0);
  for (;;) {
    let so = srcRow * (ss[0] ?? 0);
    let d = dstRow * (ds[0] ?? 0);
    for (let i = 0; i < r - 1; i++) { so += idx[i]! * ss[i]!; d += idx[i]! * ds[i]!; }
    (dst as Float32Array).set((src as Float32Array).subarray(so, so + last), d);
    let i = r - 2;
    while (i >= 0 && ++idx[i]! === region[i]) { idx[i] = 0; i--; }
    if (i < 0) return;
  }
}

/**
 * One input per name for the joined batch: rows concatenated, symbolic dims padded to the largest (zeros). With mask
 * padding every request gets a mask (ones where it gave none), so padded positions read 0.
 */
export function joinInputs(reqs: readonly CheckedRequest[], specs: readonly TensorSpec[], padding: Padding): Record<string, HostTensor> {
  const total = reqs.reduce((a, r) => a + r.rows, 0);
  const out: Record<string, HostTensor> = {};
  const maskName = padding.kind === 'mask' ? padding.mask : undefined;
  const idsSpec = specs.find((s) => s.name !== maskName);
  for (const s of specs) {
    const given = reqs.map((r) => r.inputs[s.name] ?? (s.name === maskName ? onesLike(r.inputs[idsSpec!.name]!) : undefined));
    if (given.every((g) => g === undefined)) continue;
    const shape = s.shape.map((d, i) => (i === 0 ? total : typeof d === 'number' ? d : Math.max(...given.map((g) => g!.shape[i]!))));
    const data = s.dtype === 'float32' ? new Float32Array(shape.reduce((a, b) => a * b, 1)) : new Int32Array(shape.reduce((a, b) => a * b, 1));
    let row = 0;
    for (const g of given) {
      copyRegion(g!.data, g!.shape, 0, data, shape, row, g!.shape);
      row += g!.shape[0]!;
    }
    out[s.name] = { dtype: s.dtype, shape, data };
  }
  return out;
}

function onesLike(ids: HostTensor): HostTensor {
  return { dtype: 'int32', shape: [...ids.shape], data: new Int32Array(ids.data.length).fill(1) };
}

/**
 * The outputs of request `req` (rows from `row`) cut out of the batch outputs: its rows, and each dim the output
 * spec names with a symbol back to the request's own size of that symbol (the padding removed). Copies, so the
 * batch arrays can be dropped.
 */
export function splitOutputs(outs: Record<string, HostTensor>, specs: readonly TensorSpec[], req: CheckedRequest, row: number): Record<string, HostTensor> {
  const res: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(outs)) {
    const spec = specs.find((s) => s.name === name);
    const shape = t.shape.map((d, i) => {
      if (i === 0) return req.rows;
      const sym = spec && spec.shape.length === t.shape.length ? spec.shape[i] : undefined;
      return typeof sym === 'string' && req.dims.has(sym) ? Math.min(d, req.dims.get(sym)!) : d;
    });
    const n = shape.reduce((a, b) => a * b, 1);
    const data = t.dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
    copyRegion(t.data, t.shape, row, data, shape, 0, shape);
    res[name] = { dtype: t.dtype, shape, data };
  }
  return res;
}
