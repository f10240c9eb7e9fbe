// Stand-ins for graph patterns that today's exporters write into Hugging Face models (issue 13), built with the test
// writer and run against onnxruntime-node: SDPA attention with a boolean mask and NaN rows zeroed through
// IsNaN/Where (torch.onnx, default attention), GatherND indexing (the dynamo exporter's advanced indexing),
// token-type ids gathered at the position ids through GatherElements (BERT, RoBERTa), and T5's relative-position
// buckets, where log(0) = -inf is cast to int64 on the positions the Where then discards.
import { describe, expect, it } from 'vitest';
import { expectLikeOrt, floats } from './ort-check.js';
import { onnxModel, type NodeSpec, type TensorSpec } from './writer.js';

const scalar = (name: string, type: TensorSpec['type'], v: number | bigint): TensorSpec => ({ name, type, dims: [], data: type === 'int64' ? [BigInt(v)] : [Number(v)] } as TensorSpec);

describe('exporter graph patterns vs onnxruntime', () => {
  it('SDPA: QK^T·scale, boolean mask through Where(-inf), Softmax, fully masked rows NaN -> 0 via IsNaN/Where, ·V', async () => {
    const [B, H, S, D] = [2, 2, 4, 8];
    const nodes: NodeSpec[] = [
      { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: { perm: [0, 1, 3, 2] } },
      { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['qk'] },
      { op: 'Mul', inputs: ['qk', 'scale'], outputs: ['scores'] },
      { op: 'Cast', inputs: ['mask_i64'], outputs: ['mask'], attrs: { to: 9 } },
      { op: 'Where', inputs: ['mask', 'scores', 'neg_inf'], outputs: ['masked'] },
      { op: 'Softmax', inputs: ['masked'], outputs: ['p'], attrs: { axis: -1 } },
      { op: 'IsNaN', inputs: ['p'], outputs: ['nan'] },
      { op: 'Where', inputs: ['nan', 'zero', 'p'], outputs: ['p0'] },
      { op: 'MatMul', inputs: ['p0', 'v'], outputs: ['y'] },
    ];
    const bytes = onnxModel({
      opset: 17, nodes,
      initializers: [scalar('scale', 'float', 1 / Math.sqrt(D)), scalar('neg_inf', 'float', -Infinity), scalar('zero', 'float', 0)],
      inputs: [{ name: 'q', type: 'float', shape: [B, H, S, D] }, { name: 'k', type: 'float', shape: [B, H, S, D] }, { name: 'v', type: 'float', shape: [B, H, S, D] }, { name: 'mask_i64', type: 'int64', shape: [B, 1, S, S] }],
      outputs: [{ name: 'y', type: 'float', shape: [B, H, S, D] }],
    });
    // causal mask with padding: batch 1 pads its first token, so its query row 0 sees nothing (a NaN softmax row)
    const mask = Array.from({ length: B * S * S }, (_, i) => { const b = Math.floor(i / (S * S)), r = Math.floor(i / S) % S, c = i % S; return c <= r && !(b === 1 && c === 0) ? 1 : 0; });
    const out = await expectLikeOrt(bytes, { q: floats([B, H, S, D], 1), k: floats([B, H, S, D], 2), v: floats([B, H, S, D], 3), mask_i64: { type: 'int64', dims: [B, 1, S, S], data: BigInt64Array.from(mask, BigInt) } }, { atol: 1e-5, rtol: 1e-4 });
    expect(out.y!.some(Number.isNaN)).toBe(false);
    expect(out.y!.slice(S * D * H, S * D * H + D)).toEqual(new Array(D).fill(0)); // batch 1, head 0, row 0: all masked
  });

  it('GatherND: the last real token of each sequence (batch_dims 0 with [b, t] pairs, and batch_dims 1)', async () => {
    const [B, S, Hd] = [3, 5, 4];
    const bytes = onnxModel({
      opset: 17,
      nodes: [
        { op: 'ReduceSum', inputs: ['mask', 'ax'], outputs: ['len'], attrs: { keepdims: 0 } },
        { op: 'Sub', inputs: ['len', 'one'], outputs: ['last'] },
        { op: 'Unsqueeze', inputs: ['last', 'ax'], outputs: ['last1'] },
        { op: 'GatherND', inputs: ['h', 'last1'], outputs: ['y1'], attrs: { batch_dims: 1 } },
        { op: 'Concat', inputs: ['batch', 'last1'], outputs: ['pairs'], attrs: { axis: 1 } },
        { op: 'GatherND', inputs: ['h', 'pairs'], outputs: ['y0'] },
      ],
      initializers: [{ name: 'ax', type: 'int64', dims: [1], data: [1n] }, scalar('one', 'int64', 1), { name: 'batch', type: 'int64', dims: [B, 1], data: [0n, 1n, 2n] }],
      inputs: [{ name: 'h', type: 'float', shape: [B, S, Hd] }, { name: 'mask', type: 'int64', shape: [B, S] }],
      outputs: [{ name: 'y1', type: 'float', shape: [B, Hd] }, { name: 'y0', type: 'float', shape: [B, Hd] }],
    });
    const lens = [5, 2, 3];
    const mask = { type: 'int64', dims: [B, S], data: BigInt64Array.from({ length: B * S }, (_, i) => BigInt(i % S < lens[Math.floor(i / S)]! ? 1 : 0)) };
    const h = floats([B, S, Hd], 4);
    const out = await expectLikeOrt(bytes, { h, mask });
    expect(out.y0).toEqual(out.y1);
    expect(out.y1!.slice(Hd, 2 * Hd)).toEqual(Array.from((h.data as Float32Array).slice((S + 1) * Hd, (S + 2) * Hd))); // batch 1, token 1
  });

  it('position ids from the input length, token types gathered at them through GatherElements (BERT buffers)', async () => {
    const [B, S, maxLen, types, Hd] = [2, 5, 8, 2, 3];
    const bytes = onnxModel({
      opset: 17,
      nodes: [
        { op: 'Shape', inputs: ['ids'], outputs: ['shape'] },
        { op: 'Gather', inputs: ['shape', 'i1'], outputs: ['seq'], attrs: { axis: 0 } },
        { op: 'Range', inputs: ['zero', 'seq', 'one'], outputs: ['pos'] },
        { op: 'Unsqueeze', inputs: ['pos', 'ax0'], outputs: ['pos1'] },
        { op: 'Expand', inputs: ['pos1', 'shape'], outputs: ['position_ids'] },
        { op: 'Expand', inputs: ['buffered', 'bshape'], outputs: ['buf'] },
        { op: 'GatherElements', inputs: ['buf', 'position_ids'], outputs: ['token_type_ids'], attrs: { axis: 1 } },
        { op: 'Gather', inputs: ['type_emb', 'token_type_ids'], outputs: ['te'] },
        { op: 'Gather', inputs: ['pos_emb', 'position_ids'], outputs: ['pe'] },
        { op: 'Add', inputs: ['te', 'pe'], outputs: ['y'] },
      ],
      initializers: [
        scalar('i1', 'int64', 1), scalar('zero', 'int64', 0), scalar('one', 'int64', 1), { name: 'ax0', type: 'int64', dims: [1], data: [0n] },
        { name: 'buffered', type: 'int64', dims: [1, maxLen], data: [0n, 0n, 1n, 1n, 0n, 1n, 0n, 1n] },
        { name: 'bshape', type: 'int64', dims: [2], data: [BigInt(B), 1n] },
        { name: 'type_emb', type: 'float', dims: [types, Hd], data: floats([types, Hd], 5).data as Float32Array },
        { name: 'pos_emb', type: 'float', dims: [maxLen, Hd], data: floats([maxLen, Hd], 6).data as Float32Array },
      ],
      inputs: [{ name: 'ids', type: 'int64', shape: [B, 'seq'] }],
      outputs: [{ name: 'y', type: 'float', shape: [B, 'seq', Hd] }],
    });
    await expectLikeOrt(bytes, { ids: { type: 'int64', dims: [B, S], data: BigInt64Array.from({ length: B * S }, (_, i) => BigInt(i + 100)) } });
  });

  it("T5 relative-position buckets: log(0) = -inf cast to int64 where the Where discards it", async () => {
    const [buckets, maxExact, maxDistance, heads] = [16, 4, 32, 2];
    const nodes: NodeSpec[] = [
      { op: 'Shape', inputs: ['x'], outputs: ['shape'] },
      { op: 'Gather', inputs: ['shape', 'i1'], outputs: ['len'], attrs: { axis: 0 } },
      { op: 'Range', inputs: ['zero', 'len', 'one'], outputs: ['r'] },
      { op: 'Unsqueeze', inputs: ['r', 'ax1'], outputs: ['ctx'] },
      { op: 'Unsqueeze', inputs: ['r', 'ax0'], outputs: ['mem'] },
      { op: 'Sub', inputs: ['mem', 'ctx'], outputs: ['rel'] },
      // bidirectional: half the buckets for positive offsets
      { op: 'Greater', inputs: ['rel', 'zero'], outputs: ['pos'] },
      { op: 'Cast', inputs: ['pos'], outputs: ['pos_i'], attrs: { to: 7 } },
      { op: 'Mul', inputs: ['pos_i', 'half'], outputs: ['base'] },
      { op: 'Abs', inputs: ['rel'], outputs: ['a'] },
      { op: 'Less', inputs: ['a', 'max_exact'], outputs: ['small'] },
      { op: 'Cast', inputs: ['a'], outputs: ['af'], attrs: { to: 1 } },
      { op: 'Div', inputs: ['af', 'max_exact_f'], outputs: ['ratio'] },
      { op: 'Log', inputs: ['ratio'], outputs: ['lg'] }, // -inf at offset 0
      { op: 'Div', inputs: ['lg', 'log_range'], outputs: ['frac'] },
      { op: 'Mul', inputs: ['frac', 'span'], outputs: ['scaled'] },
      { op: 'Cast', inputs: ['scaled'], outputs: ['scaled_i'], attrs: { to: 7 } }, // -inf -> int64: undefined, discarded below
      { op: 'Add', inputs: ['scaled_i', 'max_exact'], outputs: ['large0'] },
      { op: 'Min', inputs: ['large0', 'top'], outputs: ['large'] },
      { op: 'Where', inputs: ['small', 'a', 'large'], outputs: ['within'] },
      { op: 'Add', inputs: ['base', 'within'], outputs: ['bucket'] },
      { op: 'Gather', inputs: ['table', 'bucket'], outputs: ['bias'] },
      { op: 'Transpose', inputs: ['bias'], outputs: ['y'], attrs: { perm: [2, 0, 1] } },
    ];
    const half = buckets / 2;
    const bytes = onnxModel({
      opset: 17, nodes,
      initializers: [
        scalar('i1', 'int64', 1), scalar('zero', 'int64', 0), scalar('one', 'int64', 1), { name: 'ax0', type: 'int64', dims: [1], data: [0n] }, { name: 'ax1', type: 'int64', dims: [1], data: [1n] },
        scalar('half', 'int64', half), scalar('max_exact', 'int64', maxExact), scalar('max_exact_f', 'float', maxExact), scalar('top', 'int64', half - 1),
        scalar('log_range', 'float', Math.log(maxDistance / maxExact)), scalar('span', 'float', half - maxExact),
        { name: 'table', type: 'float', dims: [buckets, heads], data: floats([buckets, heads], 7).data as Float32Array },
      ],
      inputs: [{ name: 'x', type: 'int64', shape: [1, 'seq'] }],
      outputs: [{ name: 'y', type: 'float', shape: [heads, 'seq', 'seq'] }],
    });
    const S = 40; // offsets beyond max_distance reach the last bucket
    await expectLikeOrt(bytes, { x: { type: 'int64', dims: [1, S], data: new BigInt64Array(S) } });
  });
});
