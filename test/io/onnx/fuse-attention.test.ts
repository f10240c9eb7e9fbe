// The attention fusions of src/io/onnx/fuse.ts on graphs written as torch.onnx writes them (heads split by Reshape
// and Transpose): eager MatMul(q, kᵀ)/√d -> Softmax -> MatMul, and scaled_dot_product_attention's export (q and kᵀ
// each scaled, Where(mask, 0, -inf) added, NaN probabilities zeroed through IsNaN/Where). Each graph runs as one
// sdpa op (or one scaled matmul) and agrees with onnxruntime-node and with the unfused plan; patterns whose
// semantics sdpa would change (a mask without the NaN guard) keep their ops.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { fusions } from '../../../src/io/onnx/fuse.js';
import { expectLikeOrt, floats } from './ort-check.js';
import { toFeeds } from './compare.js';
import type { OrtValue } from './ort.js';
import { onnxModel, type NodeSpec, type TensorSpec, type ValueSpec } from './writer.js';

const f32 = (name: string, v: number): TensorSpec => ({ name, type: 'float', dims: [], data: [v] });
const i64 = (name: string, v: number[]): TensorSpec => ({ name, type: 'int64', dims: [v.length], data: v.map(BigInt) });

/**
 * Attention over x [B, T, H·D] (q = k = v source split into heads): `style` 'eager' (MatMul, Div by √D, Softmax,
 * MatMul), 'sdpa' (q·s and kᵀ·s, Add of Where(mask, 0, -inf), Softmax, IsNaN/Where guard, MatMul), 'sdpa-noguard'
 * (the same without the guard), 'additive' (a float mask input added, with the guard), 'scaled-only' (q·s and kᵀ·s,
 * MatMul, then a Relu instead of Softmax: only the scaled matmul can fuse).
 */
function attentionModel(style: 'eager' | 'sdpa' | 'sdpa-noguard' | 'additive' | 'scaled-only', B: number, T: number, H: number, D: number): Uint8Array {
  const nodes: NodeSpec[] = [
    { op: 'Reshape', inputs: ['x', 'split'], outputs: ['x4'] },
    { op: 'Transpose', inputs: ['x4'], outputs: ['q'], attrs: { perm: [0, 2, 1, 3] } },
    { op: 'Transpose', inputs: ['x4'], outputs: ['kt'], attrs: { perm: [0, 2, 3, 1] } },
    { op: 'Relu', inputs: ['x4'], outputs: ['x4r'] },
    { op: 'Transpose', inputs: ['x4r'], outputs: ['v'], attrs: { perm: [0, 2, 1, 3] } },
  ];
  const inits: TensorSpec[] = [i64('split', [0, 0, H, D]), f32('s', D ** -0.25), f32('sqrtd', Math.sqrt(D)), f32('zero', 0), f32('ninf', -Infinity)];
  if (style === 'eager') {
    nodes.push({ op: 'MatMul', inputs: ['q', 'kt'], outputs: ['qk'] }, { op: 'Div', inputs: ['qk', 'sqrtd'], outputs: ['scores'] });
  } else {
    nodes.push({ op: 'Mul', inputs: ['q', 's'], outputs: ['qs'] }, { op: 'Mul', inputs: ['s', 'kt'], outputs: ['kts'] }, { op: 'MatMul', inputs: ['qs', 'kts'], outputs: ['qk'] });
    if (style === 'additive') nodes.push({ op: 'Add', inputs: ['bias', 'qk'], outputs: ['scores'] });
    else if (style !== 'scaled-only') nodes.push({ op: 'Cast', inputs: ['mask'], outputs: ['allowed'], attrs: { to: 9 } }, { op: 'Where', inputs: ['allowed', 'zero', 'ninf'], outputs: ['mbias'] }, { op: 'Add', inputs: ['qk', 'mbias'], outputs: ['scores'] });
  }
  const guard = style === 'sdpa' || style === 'additive';
  if (style === 'scaled-only') nodes.push({ op: 'Relu', inputs: ['qk'], outputs: ['p0'] });
  else nodes.push({ op: 'Softmax', inputs: ['scores'], outputs: [guard ? 'p' : 'p0'], attrs: { axis: -1 } });
  if (guard) nodes.push({ op: 'IsNaN', inputs: ['p'], outputs: ['nan'] }, { op: 'Where', inputs: ['nan', 'zero', 'p'], outputs: ['p0'] });
  nodes.push({ op: 'MatMul', inputs: ['p0', 'v'], outputs: ['y'] });
  const inputs: ValueSpec[] = [{ name: 'x', type: 'float', shape: [B, T, H * D] }];
  if (style === 'sdpa' || style === 'sdpa-noguard') inputs.push({ name: 'mask', type: 'int64', shape: [B, 1, T, T] });
  if (style === 'additive') inputs.push({ name: 'bias', type: 'float', shape: [B, 1, 1, T] });
  const read = new Set(nodes.flatMap((n) => n.inputs));
  return onnxModel({ opset: 17, nodes, initializers: inits.filter((t) => read.has(t.name!)), inputs, outputs: [{ name: 'y', type: 'float', shape: [B, H, T, D] }] });
}

/** Causal mask with the last `pad` keys of batch row 1 off, and (with `emptyRow`) batch 1's first query seeing nothing. */
function maskFeed(B: number, T: number, pad: number, emptyRow: boolean): OrtValue {
  const data = BigInt64Array.from({ length: B * T * T }, (_, i) => {
    const b = Math.floor(i / (T * T)), r = Math.floor(i / T) % T, c = i % T;
    const on = c <= r && !(b === 1 && c >= T - pad) && !(emptyRow && b === 1 && r === 0);
    return on ? 1n : 0n;
  });
  return { type: 'int64', dims: [B, 1, T, T], data };
}

/** The session's plan (op types) and its outputs, with the fusions on or off. */
async function planAndRun(bytes: Uint8Array, feeds: Record<string, OrtValue>, optimize: boolean): Promise<{ plan: string[]; ops: string[]; y: Float32Array }> {
  const s = await fp.loadOnnx(bytes, { backend: 'cpu', optimize });
  const ins = toFeeds(feeds);
  const plan: string[] = [];
  for await (const st of s.stepwise(ins)) plan.push(st.opType);
  const ops: string[] = [];
  const off = fp.addOpHook((e) => ops.push(e.op));
  const out = await s.run(ins);
  off();
  const y = Float32Array.from(await out.y!.data() as Float32Array);
  Object.values(out).forEach((t) => t.dispose());
  Object.values(ins).forEach((t) => t.dispose());
  s.dispose();
  return { plan, ops, y };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const TOL = { atol: 2e-5, rtol: 1e-4 };

describe('ONNX attention fusions', () => {
  it('eager attention (MatMul, Div by √D, Softmax, MatMul) runs as one sdpa, like onnxruntime and the unfused plan', async () => {
    for (const [B, T, H, D] of [[1, 17, 3, 8], [2, 5, 1, 3], [1, 1, 2, 4]] as const) {
      const bytes = attentionModel('eager', B, T, H, D), feeds = { x: floats([B, T, H * D], T + H) };
      await expectLikeOrt(bytes, feeds, TOL, `eager ${[B, T, H, D]}`);
      const fused = await planAndRun(bytes, feeds, true), plain = await planAndRun(bytes, feeds, false);
      expect(fused.plan).toContain('Attention');
      expect(fused.plan).not.toContain('Softmax');
      expect(fused.ops).toContain('sdpa');
      expect(fused.ops).not.toContain('softmax');
      expect(maxDiff(fused.y, plain.y)).toBeLessThan(1e-5);
    }
  });

  it('the SDPA export (scaled q and kᵀ, Where mask added, IsNaN guard) runs as one sdpa with the bool mask; a query with every key masked gives zeros', async () => {
    const [B, T, H, D] = [2, 9, 2, 4];
    const bytes = attentionModel('sdpa', B, T, H, D), feeds = { x: floats([B, T, H * D], 7), mask: maskFeed(B, T, 3, true) };
    const y = await expectLikeOrt(bytes, feeds, TOL, 'sdpa');
    const fused = await planAndRun(bytes, feeds, true), plain = await planAndRun(bytes, feeds, false);
    expect(fused.plan.filter((o) => ['Mul', 'MatMul', 'Add', 'Where', 'Softmax', 'IsNaN'].includes(o))).toEqual([]);
    expect(fused.ops).toContain('sdpa');
    expect(maxDiff(fused.y, plain.y)).toBeLessThan(1e-5);
    // batch 1, every head, query 0: all keys masked -> the guard's zeros
    for (let h = 0; h < H; h++) expect(y.y!.slice(((1 * H + h) * T) * D, ((1 * H + h) * T) * D + D)).toEqual(new Array(D).fill(0));
  });

  it('an additive float mask with the guard fuses; a Where mask without the guard keeps the graph (its fully masked rows are NaN)', async () => {
    const [B, T, H, D] = [2, 6, 2, 5];
    const bias = floats([B, 1, 1, T], 3, -2, 0);
    const add = attentionModel('additive', B, T, H, D), addFeeds = { x: floats([B, T, H * D], 8), bias };
    await expectLikeOrt(add, addFeeds, TOL, 'additive');
    expect((await planAndRun(add, addFeeds, true)).ops).toContain('sdpa');
    const ng = attentionModel('sdpa-noguard', B, T, H, D), ngFeeds = { x: floats([B, T, H * D], 9), mask: maskFeed(B, T, 2, true) };
    const out = await expectLikeOrt(ng, ngFeeds, TOL, 'no guard');
    expect(out.y!.slice(((1 * H) * T) * D, ((1 * H) * T) * D + D).every(Number.isNaN)).toBe(true);
    const r = await planAndRun(ng, ngFeeds, true);
    expect(r.ops).not.toContain('sdpa');
    expect(r.plan).toContain('ScaledMatMul'); // the scaled operands still fold into one scale
    expect(r.plan).toContain('Softmax');
  });

  it('MatMul of scalar-scaled operands runs one matmul and one contiguous mul; the fused plan matches the unfused one', async () => {
    const [B, T, H, D] = [1, 13, 3, 7];
    const bytes = attentionModel('scaled-only', B, T, H, D), feeds = { x: floats([B, T, H * D], 11) };
    await expectLikeOrt(bytes, feeds, TOL, 'scaled');
    const fused = await planAndRun(bytes, feeds, true), plain = await planAndRun(bytes, feeds, false);
    expect(fused.plan.filter((o) => o === 'Mul')).toEqual([]);
    expect(fused.ops.filter((o) => o === 'mul').length).toBe(1);
    expect(plain.ops.filter((o) => o === 'mul').length).toBe(2);
    expect(maxDiff(fused.y, plain.y)).toBeLessThan(1e-5);
  });

  it('NaN in q: the eager fusion keeps the NaN rows; with the fusions switched off the plan is the graph', async () => {
    const [B, T, H, D] = [1, 4, 1, 4];
    const bytes = attentionModel('eager', B, T, H, D);
    const x = floats([B, T, H * D], 5);
    (x.data as Float32Array)[D + 1] = NaN; // token 1: its query row and its key (every row's scores) see NaN
    const fused = await planAndRun(bytes, { x }, true);
    await expectLikeOrt(bytes, { x }, TOL, 'NaN');
    expect(fused.y.every(Number.isNaN)).toBe(true);
    fusions.attention = false;
    fusions.scaledMatMul = false;
    try {
      const off = await planAndRun(attentionModel('sdpa', 2, 3, 1, 2), { x: floats([2, 3, 2], 1), mask: maskFeed(2, 3, 1, false) }, true);
      expect(off.plan).toContain('Softmax');
      expect(off.plan).toContain('IsNaN');
      expect(off.ops).not.toContain('sdpa');
    } finally {
      fusions.attention = true;
      fusions.scaledMatMul = true;
    }
  });

  it('operands of rank 5 (not sdpa\'s) run the graph\'s ops inside the fused step, like onnxruntime', async () => {
    // q [1, 2, H, T, D], kᵀ [1, 2, H, D, T] from x [2, T, H·D] reshaped to [1, 2, T, H, D]
    const [T, H, D] = [5, 2, 3];
    const nodes: NodeSpec[] = [
      { op: 'Reshape', inputs: ['x', 'split'], outputs: ['x5'] },
      { op: 'Transpose', inputs: ['x5'], outputs: ['q'], attrs: { perm: [0, 1, 3, 2, 4] } },
      { op: 'Transpose', inputs: ['x5'], outputs: ['kt'], attrs: { perm: [0, 1, 3, 4, 2] } },
      { op: 'Mul', inputs: ['q', 's'], outputs: ['qs'] }, { op: 'Mul', inputs: ['kt', 's'], outputs: ['kts'] },
      { op: 'MatMul', inputs: ['qs', 'kts'], outputs: ['qk'] },
      { op: 'Add', inputs: ['qk', 'bias'], outputs: ['scores'] },
      { op: 'Softmax', inputs: ['scores'], outputs: ['p'], attrs: { axis: -1 } },
      { op: 'IsNaN', inputs: ['p'], outputs: ['nan'] }, { op: 'Where', inputs: ['nan', 'zero', 'p'], outputs: ['p0'] },
      { op: 'MatMul', inputs: ['p0', 'q'], outputs: ['y'] },
    ];
    const bytes = onnxModel({
      opset: 17, nodes, initializers: [i64('split', [1, 2, T, H, D]), f32('s', 0.7), f32('zero', 0)],
      inputs: [{ name: 'x', type: 'float', shape: [2, T, H * D] }, { name: 'bias', type: 'float', shape: [T] }], outputs: [{ name: 'y', type: 'float', shape: [1, 2, H, T, D] }],
    });
    const feeds = { x: floats([2, T, H * D], 12), bias: floats([T], 13, -1, 0) };
    await expectLikeOrt(bytes, feeds, TOL, 'rank 5');
    const r = await planAndRun(bytes, feeds, true);
    expect(r.plan).toContain('Attention');
    expect(r.ops).not.toContain('sdpa');
    expect(r.ops).toContain('softmax');
  });
});
