// The INT8 formats on typed arrays: the reference row quantizer (per row and Q8_0 blocks of 32), dequantization,
// float16 block scales, and the quantizeRows kernel agreeing with the reference bit for bit.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';

describe('quantizeRowsRef / dequantizeRowsRef', () => {
  it('Q8_0: blocks of 32 with one scale each, rows padded to a whole block', () => {
    expect(fp.QK8_0).toBe(32);
    const row = Float32Array.from({ length: 40 }, (_, i) => (i < 32 ? (i - 16) / 16 : 8 - i / 8));
    const q = fp.quantizeRowsRef(row, 1, 40, 32);
    expect([q.kp, q.d.length, q.qs.length]).toEqual([64, 2, 64]);
    expect(q.d[0]).toBe(Math.fround(1 / 127)); // max |v| of block 0 is 16/16
    expect(q.d[1]).toBe(Math.fround(4 / 127)); // block 1 holds 8 - 32/8 = 4 .. 8 - 39/8
    expect(q.qs[0]).toBe(-127);
    expect(q.qs[8]).toBe(-64); // -0.5 / (1/127) = -63.5 -> -64 (half away from zero)
    expect(q.qs[32]).toBe(127);
    expect(Array.from(q.qs.subarray(40))).toEqual(new Array(24).fill(0));
  });

  it('dequantizes within half a step of every value (per row and Q8_0), on random rows', () => {
    for (const [rows, k, block, seed] of [[5, 13, 0, 1], [3, 96, 32, 2], [2, 70, 32, 3]] as const) {
      const x = randomArray(rows * k, seed, -3, 3);
      const q = fp.quantizeRowsRef(x, rows, k, block);
      const back = fp.dequantizeRowsRef(q);
      const bl = block || q.kp, nb = q.kp / bl;
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < k; i++) {
          const s = q.d[r * nb + Math.floor(i / bl)]!;
          expect(Math.abs(back[r * k + i]! - x[r * k + i]!)).toBeLessThanOrEqual(s / 2 + 1e-7);
        }
      }
    }
  });

  it('gives the same quants and scales as the quantizeRows kernel', () => {
    for (const [M, K, block, seed] of [[4, 50, 0, 4], [3, 64, 32, 5], [1, 7, 0, 6]] as const) {
      const x = randomArray(M * K, seed, -5, 5);
      const ref = fp.quantizeRowsRef(x, M, K, block);
      const [q, s] = fp.quantizeRows(fp.tensor(x, { shape: [M, K] }), { block });
      expect(Array.from(q.dataSync())).toEqual(Array.from(ref.qs));
      expect(Array.from(s.dataSync())).toEqual(Array.from(ref.d));
    }
  });

  it('pads per-row quants to a multiple of 4 and Q8_0 quants to a multiple of 32', () => {
    expect([1, 4, 5, 64, 65].map((k) => fp.paddedLength(k, 0))).toEqual([4, 4, 8, 64, 68]);
    expect([1, 32, 33, 64].map((k) => fp.paddedLength(k, 32))).toEqual([32, 32, 64, 64]);
  });
});

describe('QTensor', () => {
  it('stores Q8_0 scales as float16 (ggml) and requantizes with the rounded scale; per-channel scales stay float32', async () => {
    const w = fp.tensor(randomArray(4 * 64, 9, -0.2, 0.2), { shape: [4, 64] });
    const q8 = await fp.QTensor.fromTensor(w, 'q8_0', 'w');
    expect(q8.d.dtype).toBe('float16');
    expect(q8.bytes()).toBe(4 * 64 + 4 * 2 * 2);
    const d = q8.d.dataSync(), qs = q8.qs.dataSync(), x = w.dataSync();
    for (let i = 0; i < 4 * 64; i++) {
      const want = Math.max(-127, Math.min(127, Math.sign(x[i]! / d[i >> 5]!) * Math.round(Math.abs(x[i]! / d[i >> 5]!))));
      expect(qs[i]).toBe(want);
    }
    const pc = await fp.QTensor.fromTensor(w, 'per-channel', 'w');
    expect(pc.d.dtype).toBe('float32');
    expect(pc.floatBytes()).toBe(4 * 64 * 4);
    // a block scale beyond float16's normal range keeps float32 scales
    const tiny = await fp.QTensor.fromTensor(fp.tensor(new Float32Array(32).fill(1e-4), { shape: [1, 32] }), 'q8_0', 'w');
    expect(tiny.d.dtype).toBe('float32');
    expect(() => tiny.forward()).toThrow(/QTensor: a quantized weight has no forward\(\)/);
    expect(() => new fp.QTensor([4], 'q8_0')).toThrow(/QTensor: expected a weight shape \[rows, \.\.\.\] of positive sizes, got \[4\]/);
  });
});
