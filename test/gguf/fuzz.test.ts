// Fuzzing the GGUF reader: thousands of seeded mutations of the shared Q8_0/Q4_0 llama files and of small written
// files (byte flips, truncations, lying counts and lengths, random structures). Each must parse into tensors that
// lie inside the file (and dequantize) or fail with one forwardpass error; never a crash, hang or huge allocation.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { SHARED_MODELS } from '../hf/helpers.js';

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);
const LLAMA = resolve(SHARED_MODELS, 'llama');

/** A small random but valid file: a few metadata values of random types and tensors of random ggml types. */
function randomFile(rng: Rng): Uint8Array {
  const meta: Record<string, fp.GgufKv> = {};
  for (let i = int(rng, 6); i > 0; i--) {
    const t = pick(rng, fp.GGUF_VALUE_TYPES.filter((x) => x !== 'ARRAY'));
    const val = (): fp.GgufValue => (t === 'STRING' ? 'x'.repeat(int(rng, 5)) : t === 'BOOL' ? rng() < 0.5 : t.endsWith('64') && t !== 'FLOAT64' ? BigInt(int(rng, 100)) : int(rng, 100));
    meta[`k${i}`] = rng() < 0.3 ? { type: 'ARRAY', itemType: t, value: Array.from({ length: int(rng, 4) }, val) } : { type: t, value: val() };
  }
  const tensors: fp.GgufWriteTensor[] = [];
  for (let i = int(rng, 4); i > 0; i--) {
    const type = pick(rng, ['F32', 'F16', 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K', 'BF16'] as fp.GgmlTypeName[]);
    const ne = [fp.GGML_TYPES[type].blockSize * (1 + int(rng, 2)), 1 + int(rng, 3)];
    const data = new Uint8Array(fp.ggmlBytes(type, ne[0]! * ne[1]!)).map(() => int(rng, 256));
    tensors.push({ name: `t${i}`, type, ne, data });
  }
  return fp.writeGguf(meta, tensors, { version: rng() < 0.5 ? 2 : 3 });
}

const LIES = [0n, 1n, 7n, 2n ** 32n, 2n ** 31n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

function mutate(rng: Rng, orig: Uint8Array, headerEnd: number): Uint8Array {
  const b = orig.slice();
  const dv = new DataView(b.buffer);
  switch (int(rng, 5)) {
    case 0: // byte flips, mostly in the header
      for (let k = 1 + int(rng, 8); k > 0; k--) {
        const i = rng() < 0.85 ? int(rng, headerEnd) : int(rng, b.length);
        b[i] = rng() < 0.5 ? b[i]! ^ (1 << int(rng, 8)) : int(rng, 256);
      }
      return b;
    case 1: return b.subarray(0, int(rng, rng() < 0.5 ? headerEnd : b.length)); // truncation
    case 2: { // a lying u64 or u32 somewhere in the header
      const at = int(rng, Math.max(1, headerEnd - 8));
      if (rng() < 0.6) dv.setBigUint64(at, pick(rng, LIES), true);
      else dv.setUint32(at, pick(rng, [0, 1, 13, 99, 2 ** 31, 2 ** 32 - 1]), true);
      return b;
    }
    case 3: { // byte flips in the data section only: must always parse
      for (let k = 1 + int(rng, 16); k > 0; k--) b[headerEnd + int(rng, b.length - headerEnd)] = int(rng, 256);
      return b;
    }
    default: return b;
  }
}

function checkConsistent(bytes: Uint8Array, f: fp.GgufFile): void {
  const spans: [number, number][] = [];
  for (const e of f.tensors.values()) {
    expect(e.byteOffset).toBeGreaterThanOrEqual(f.dataOffset);
    expect(e.byteOffset + e.byteLength).toBeLessThanOrEqual(bytes.length);
    expect(e.byteLength).toBe(fp.ggmlBytes(e.type, e.ne.reduce((a, c) => a * c, 1)));
    if (e.byteLength > 0) spans.push([e.byteOffset, e.byteOffset + e.byteLength]);
    const fn = fp.DEQUANTIZE_ROW[e.type];
    if (fn && e.byteLength < 1 << 20) expect(fn(fp.ggufTensorBytes(f, e.name), e.ne.reduce((a, c) => a * c, 1)).length).toBe(e.ne.reduce((a, c) => a * c, 1));
  }
  spans.sort((a, c) => a[0] - c[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
}

const CHECKS = ['magic bytes', 'is not supported', 'more than', 'truncated or corrupt', 'is not valid UTF-8', 'has value type', 'BOOL holding',
  'appears twice', 'dimensions; ggml tensors', 'which this reader does not know', 'not a multiple of its block', 'not a multiple of the alignment',
  'runs past the end', 'overlap', 'general.alignment', 'array of arrays', 'the data section would start'];

describe('GGUF fuzzing', () => {
  it('every mutated file parses consistently or fails with a forwardpass error', async () => {
    const rng = fp.makeRng(20261207);
    const shared = ['model-q8_0.gguf', 'model-q4_0.gguf'].map((n) => resolve(LLAMA, n)).filter(existsSync).map((p) => new Uint8Array(readFileSync(p)));
    let parsed = 0, failed = 0, models = 0;
    const seen = new Set<string>();
    for (let iter = 0; iter < 3000; iter++) {
      const useShared = shared.length > 0 && iter % 5 === 0;
      const orig = useShared ? shared[iter % 2 === 0 ? 0 : shared.length - 1]! : randomFile(rng);
      const headerEnd = fp.readGguf(orig).dataOffset;
      const bytes = mutate(rng, orig, headerEnd);
      try {
        const f = fp.readGguf(bytes, { name: 'fuzz' });
        checkConsistent(bytes, f);
        if (useShared && iter % 15 === 0) {
          try {
            (await fp.ggufModelFromFile(f)).dispose();
            models++;
          } catch (e) {
            if (!(e instanceof Error) || !e.message.startsWith('forwardpass:')) throw e;
          }
        }
        parsed++;
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('forwardpass:')) throw e;
        for (const c of CHECKS) if (e.message.includes(c)) seen.add(c);
        failed++;
      }
    }
    expect(parsed).toBeGreaterThan(600);
    expect(failed).toBeGreaterThan(900);
    expect(models).toBeGreaterThan(5);
    expect(seen.size).toBeGreaterThanOrEqual(CHECKS.length - 4);
  }, 120_000);
});
