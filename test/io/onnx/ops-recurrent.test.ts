// RNN, GRU, LSTM and RotaryEmbedding (typed-array kernels) against onnxruntime-node: directions, sequence_lens,
// initial states, layouts, GRU linear_before_reset, LSTM peepholes, clip and activations; rotary interleaved or
// not, partial rotary dims, position ids or per-token caches. NaN in -> NaN out; bad shapes -> one error.
import { describe, expect, it } from 'vitest';
import { expectNodeLikeOrt, floats, int64s, runOurs, withNaN, type OneNode } from './ort-check.js';
import type { OrtValue } from './ort.js';

const G = { RNN: 1, GRU: 3, LSTM: 4 } as const;

/** Values of a row-major array of shape `dims` with its axes reordered (output axis k is input axis perm[k]). */
function permute(v: Float32Array, dims: number[], perm: number[]): Float32Array {
  const out = new Float32Array(v.length);
  const outDims = perm.map((p) => dims[p]!);
  const inStr = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let q = 0; q < v.length; q++) {
    let rest = q, src = 0;
    for (let k = outDims.length - 1; k >= 0; k--) { src += (rest % outDims[k]!) * inStr[perm[k]!]!; rest = Math.floor(rest / outDims[k]!); }
    out[q] = v[src]!;
  }
  return out;
}

/** A recurrent node's feeds and outputs: X, W, R, B, sequence_lens, initial_h (, initial_c, P). */
function recurrentNode(kind: keyof typeof G, o: { S: number; B: number; I: number; H: number; dirs: number; layout?: number; lens?: number[]; attrs?: OneNode['attrs']; seed: number; peepholes?: boolean }): OneNode {
  const { S, B, I, H, dirs, seed } = o;
  const layout = o.layout ?? 0;
  const g = G[kind];
  const state = layout === 0 ? [dirs, B, H] : [B, dirs, H];
  const feeds: Record<string, OrtValue> = {
    x: floats(layout === 0 ? [S, B, I] : [B, S, I], seed),
    w: floats([dirs, g * H, I], seed + 1),
    r: floats([dirs, g * H, H], seed + 2),
    b: floats([dirs, 2 * g * H], seed + 3),
  };
  const inputs = ['x', 'w', 'r', 'b'];
  if (o.lens) { feeds.lens = { type: 'int32', dims: [B], data: Int32Array.from(o.lens) }; inputs.push('lens'); } else inputs.push('');
  feeds.h0 = floats(state, seed + 4);
  inputs.push('h0');
  if (kind === 'LSTM') {
    feeds.c0 = floats(state, seed + 5);
    inputs.push('c0');
    if (o.peepholes) { feeds.p = floats([dirs, 3 * H], seed + 6); inputs.push('p'); }
  }
  const outputs: OneNode['outputs'] = [['y', 'float'], ['yh', 'float']];
  if (kind === 'LSTM') outputs.push(['yc', 'float']);
  const direction = dirs === 2 ? 'bidirectional' : 'forward';
  return { op: kind, opset: 14, feeds, inputs, outputs, attrs: { hidden_size: H, direction, layout, ...o.attrs } };
}

describe('RNN / GRU / LSTM vs onnxruntime', () => {
  for (const kind of ['RNN', 'GRU', 'LSTM'] as const) {
    it(`${kind}: forward, reverse, bidirectional with sequence_lens, layout 1`, async () => {
      await expectNodeLikeOrt(recurrentNode(kind, { S: 4, B: 3, I: 5, H: 3, dirs: 1, seed: 1 }), undefined, `${kind} forward`);
      await expectNodeLikeOrt({ ...recurrentNode(kind, { S: 4, B: 2, I: 3, H: 4, dirs: 1, seed: 2 }), attrs: { hidden_size: 4, direction: 'reverse' } }, undefined, `${kind} reverse`);
      await expectNodeLikeOrt(recurrentNode(kind, { S: 5, B: 3, I: 2, H: 3, dirs: 2, lens: [5, 2, 4], seed: 3 }), undefined, `${kind} bidirectional, sequence_lens`);
    });
    it(`${kind}: layout 1 (batch first) gives layout 0's results transposed (onnxruntime has no layout 1)`, async () => {
      const [S, B, I, H, D] = [3, 2, 4, 2, 2];
      const n0 = recurrentNode(kind, { S, B, I, H, dirs: D, lens: [3, 1], seed: 4 });
      const want = await expectNodeLikeOrt(n0, undefined, `${kind} layout 0`);
      const swap01 = (v: OrtValue, dims: number[]): OrtValue => ({ ...v, dims: [dims[1]!, dims[0]!, dims[2]!], data: permute(v.data as Float32Array, dims, [1, 0, 2]) });
      const feeds = { ...n0.feeds, x: swap01(n0.feeds.x!, [S, B, I]), h0: swap01(n0.feeds.h0!, [D, B, H]), ...(kind === 'LSTM' ? { c0: swap01(n0.feeds.c0!, [D, B, H]) } : {}) };
      const got = await runOurs({ ...n0, feeds, attrs: { ...n0.attrs, layout: 1 } });
      expect(got.y).toEqual(Array.from(permute(Float32Array.from(want.y!), [S, D, B, H], [2, 0, 1, 3])));
      expect(got.yh).toEqual(Array.from(permute(Float32Array.from(want.yh!), [D, B, H], [1, 0, 2])));
    });
  }
  it('GRU linear_before_reset; LSTM peepholes and clip; RNN with other activations', async () => {
    await expectNodeLikeOrt(recurrentNode('GRU', { S: 4, B: 2, I: 3, H: 3, dirs: 2, seed: 5, attrs: { linear_before_reset: 1 } }));
    await expectNodeLikeOrt(recurrentNode('LSTM', { S: 4, B: 2, I: 3, H: 3, dirs: 1, seed: 6, peepholes: true, attrs: { clip: { type: 'float', value: 0.7 } } }));
    await expectNodeLikeOrt(recurrentNode('RNN', { S: 3, B: 2, I: 3, H: 2, dirs: 2, seed: 7, attrs: { activations: ['Relu', 'LeakyRelu'], activation_alpha: { type: 'floats', value: [0.3, 0.2] } } }));
  });
  it('NaN in X reaches every later step; a W of the wrong shape is refused at run', async () => {
    const n = recurrentNode('LSTM', { S: 3, B: 1, I: 2, H: 2, dirs: 1, seed: 8 });
    const y = (await runOurs({ ...n, feeds: withNaN(n.feeds, 'x', 0) })).y!;
    expect(y.every(Number.isNaN)).toBe(true);
    const bad = { ...n, feeds: { ...n.feeds, w: floats([1, 8, 3], 9) } };
    await expect(runOurs(bad)).rejects.toThrow(/^forwardpass: onnx: node 'n' \(LSTM\): W must be \[1, 8, 2\], found \[1, 8, 3\]$/);
  });
  it('an unknown activation is refused at load', async () => {
    const n = recurrentNode('GRU', { S: 2, B: 1, I: 2, H: 2, dirs: 1, seed: 10, attrs: { activations: ['Sigmoid', 'Swish'] } });
    await expect(runOurs(n)).rejects.toThrow(/^forwardpass: onnx: node 'n' \(GRU\): attribute 'activations' must be names of ONNX recurrent activations .*, found 'Swish'$/);
  });
});

describe('RotaryEmbedding (opset 23) vs onnxruntime', () => {
  const [B, S, heads, D] = [2, 3, 2, 8];
  it('4-D and 3-D input, interleaved or halves, full or partial rotary dim, with and without position ids', async () => {
    for (const interleaved of [0, 1]) for (const rot of [0, 4]) {
      const half = (rot || D) / 2;
      const attrs = { interleaved, rotary_embedding_dim: rot, num_heads: heads };
      const withIds = { x: floats([B, heads, S, D], 11), cos: floats([6, half], 12), sin: floats([6, half], 13), pos: int64s([B, S], [0, 1, 2, 5, 3, 4]) };
      await expectNodeLikeOrt({ op: 'RotaryEmbedding', opset: 23, feeds: withIds, attrs }, undefined, `4-D ${interleaved} ${rot}`);
      const noIds = { x: floats([B, S, heads * D], 14), cos: floats([B, S, half], 15), sin: floats([B, S, half], 16) };
      await expectNodeLikeOrt({ op: 'RotaryEmbedding', opset: 23, feeds: noIds, attrs }, undefined, `3-D ${interleaved} ${rot}`);
    }
  });
  it('NaN stays in its pair; a position id beyond the caches is refused', async () => {
    const feeds = { x: floats([1, 1, 2, 4], 17), cos: floats([4, 2], 18), sin: floats([4, 2], 19), pos: int64s([1, 2], [0, 1]) };
    const y = (await runOurs({ op: 'RotaryEmbedding', opset: 23, feeds: withNaN(feeds, 'x', 0) })).y!;
    expect(y.map(Number.isNaN)).toEqual([true, false, true, false, false, false, false, false]);
    await expect(runOurs({ op: 'RotaryEmbedding', opset: 23, feeds: { ...feeds, pos: int64s([1, 2], [0, 9]) } })).rejects.toThrow(/^forwardpass: onnx: node 'n' \(RotaryEmbedding\): position id 9 is outside the caches' 4 rows$/);
  });
});
