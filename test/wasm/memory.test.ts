// The Wasm memory's cached heap views follow its growth, and the small-copy helpers convert as TypedArray.set does.
import { describe, expect, test } from 'vitest';
import { fromHeap, heapF32, heapI32, toHeap, wasmAlloc, wasmFree, wasmMemory } from '../../src/backends/cpu/wasm/memory.js';

describe('wasm memory views', () => {
  test('heapF32 / heapI32 cover the whole memory again after it grows', () => {
    const before = heapF32();
    expect(before.byteLength).toBe(wasmMemory().buffer.byteLength);
    const bytes = wasmMemory().buffer.byteLength + 3 * 65536; // more than is there: wasmAlloc must grow
    const off = wasmAlloc(bytes);
    const f = heapF32(), i = heapI32();
    expect(f.byteLength).toBe(wasmMemory().buffer.byteLength);
    expect(i.byteLength).toBe(wasmMemory().buffer.byteLength);
    expect(f.byteLength).toBeGreaterThanOrEqual(off + bytes);
    f[(off + bytes) / 4 - 1] = 1.5; // the new block's last float is reachable through the new view
    expect(heapF32()[(off + bytes) / 4 - 1]).toBe(1.5);
    wasmFree(off, bytes);
  });

  test('toHeap / fromHeap: below and above the loop threshold, equal to TypedArray.set (int conversion, NaN)', () => {
    for (const n of [1, 3, 17, 63, 64, 255]) {
      const src = Float32Array.from({ length: n + 5 }, (_, k) => (k % 7 === 3 ? NaN : (k - 9) * 1.25));
      const h = heapF32(), at = 1024;
      toHeap(h, at, src, 5, n);
      expect(Array.from(h.subarray(at, at + n))).toEqual(Array.from(src.subarray(5, 5 + n)));
      const out = new Float32Array(n), ref = new Float32Array(n);
      fromHeap(out, h, at, n);
      ref.set(h.subarray(at, at + n));
      expect(Array.from(out)).toEqual(Array.from(ref));
      const ints = new Int32Array(n), intsRef = new Int32Array(n);
      fromHeap(ints, h, at, n);
      intsRef.set(h.subarray(at, at + n));
      expect(Array.from(ints)).toEqual(Array.from(intsRef));
      const bools = Uint8Array.from({ length: n }, (_, k) => k & 1), hb = heapF32(), ref2 = new Float32Array(n);
      toHeap(hb, at, bools, 0, n);
      ref2.set(bools);
      expect(Array.from(hb.subarray(at, at + n))).toEqual(Array.from(ref2));
    }
  });
});
