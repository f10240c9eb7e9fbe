// ggml block dequantizers against ../shared/hf/gguf-blocks (16 seeded blocks of each type and the values gguf-py's
// numpy dequantizer gives them): every value must match exactly.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { DEQUANTIZE_ROW } from '../../src/io/gguf/blocks.js';
import { GGML_TYPES, type GgmlTypeName } from '../../src/io/gguf/types.js';
import { SHARED_MODELS } from '../hf/helpers.js';

const DIR = resolve(SHARED_MODELS, '../gguf-blocks');
const index = existsSync(DIR) ? (JSON.parse(readFileSync(resolve(DIR, 'index.json'), 'utf8')) as Record<string, { values: number; bin: string; npy: string; bytes_per_block: number; values_per_block: number }>) : {};

describe.skipIf(!existsSync(DIR))('ggml block dequantizers vs gguf-blocks', () => {
  for (const [type, e] of Object.entries(index)) {
    it(`${type}: every value exact`, async () => {
      const t = GGML_TYPES[type as GgmlTypeName];
      expect([t.blockSize, t.typeSize]).toEqual([e.values_per_block, e.bytes_per_block]);
      const bytes = new Uint8Array(readFileSync(resolve(DIR, e.bin)));
      const want = (await (await fp.readNpyFile(resolve(DIR, e.npy))).data()) as Float32Array;
      const got = DEQUANTIZE_ROW[type as GgmlTypeName]!(bytes, e.values);
      expect(got.length).toBe(want.length);
      let bad = 0, first = -1;
      for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i]) && !(got[i] === want[i])) { bad++; if (first < 0) first = i; }
      expect(bad, `first mismatch at ${first}: ${got[first]} vs ${want[first]}`).toBe(0);
    });
  }
  it('covers Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K', () => {
    expect(Object.keys(index).sort()).toEqual(['Q2_K', 'Q3_K', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_0', 'Q5_1', 'Q5_K', 'Q6_K', 'Q8_0']);
  });
});

describe('simple formats by construction', () => {
  it('F16, BF16, F32, Q8_K decode hand-made values; short input or a k off the block is an error', () => {
    expect([...fp.dequantizeRowF16Ref(new Uint8Array([0x00, 0x3c, 0x00, 0xc0]), 2)]).toEqual([1, -2]);
    expect([...fp.dequantizeRowBF16Ref(new Uint8Array([0x80, 0x3f, 0x40, 0xc0]), 2)]).toEqual([1, -3]);
    expect([...fp.dequantizeRowF32Ref(new Uint8Array(new Float32Array([1.5, -0.25]).buffer), 2)]).toEqual([1.5, -0.25]);
    const q8k = new Uint8Array(292);
    new DataView(q8k.buffer).setFloat32(0, 0.5, true);
    q8k[4] = 4; q8k[5] = 0xfe; // 4, -2
    const y = fp.dequantizeRowQ8_KRef(q8k, 256);
    expect([y[0], y[1], y[2]]).toEqual([2, -1, 0]);
    expect(() => fp.dequantizeRowQ8_0Ref(new Uint8Array(33), 32)).toThrow(/32 values need 34 bytes, got 33/);
    expect(() => fp.dequantizeRowQ4_KRef(new Uint8Array(144), 100)).toThrow(/multiple of 256/);
  });
});
