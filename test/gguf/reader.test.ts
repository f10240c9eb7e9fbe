// The GGUF container reader: the shared llama files' metadata and tensor infos against reference.json, every value
// type and arrays (of strings too) through a written v2 and v3 file, general.alignment, zero-copy views, and one
// clear error for each kind of bad header.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { SHARED_MODELS } from '../hf/helpers.js';

const LLAMA = resolve(SHARED_MODELS, 'llama');
const HAS = existsSync(resolve(LLAMA, 'model-q8_0.gguf'));

describe.skipIf(!HAS)('the shared llama GGUF files', () => {
  const ref = HAS ? JSON.parse(readFileSync(resolve(LLAMA, 'reference.json'), 'utf8')).gguf : null;
  for (const type of ['f32', 'f16', 'q8_0', 'q4_0']) {
    it(`model-${type}.gguf: metadata, tensor types, ne, shapes and byte sizes as reference.json lists them`, async () => {
      const f = await fp.readGgufFile(resolve(LLAMA, `model-${type}.gguf`));
      expect(f.version).toBe(3);
      expect(f.alignment).toBe(32);
      for (const [k, v] of Object.entries(ref.metadata as Record<string, unknown>)) {
        const got = f.metadata.get(k);
        expect(got, k).toBeDefined();
        if (typeof v === 'string' && v.startsWith('[array of ')) expect((got!.value as unknown[]).length).toBe(Number(v.slice(10, -1)));
        else if (k === 'general.file_type') expect(got!.value).toBe(ref.files[type].file_type.match(/\((\d+)\)/)[1] * 1);
        else expect(got!.value).toBe(v);
      }
      expect(f.metadata.get('llama.attention.layer_norm_rms_epsilon')!.type).toBe('FLOAT32');
      const tokens = f.metadata.get('tokenizer.ggml.tokens')!;
      expect([tokens.type, tokens.itemType, (tokens.value as string[])[0]]).toEqual(['ARRAY', 'STRING', '<|endoftext|>']);
      const want = ref.files[type].tensors as Record<string, { type: string; ne: number[]; numpy_shape: number[]; n_bytes: number }>;
      expect([...f.tensors.keys()]).toEqual(Object.keys(want));
      for (const [name, w] of Object.entries(want)) {
        const e = f.tensors.get(name)!;
        expect([e.type, e.ne, e.shape, e.byteLength]).toEqual([w.type, w.ne, w.numpy_shape, w.n_bytes]);
        expect(e.byteOffset % 32).toBe(0);
        const view = fp.ggufTensorBytes(f, name);
        expect(view.buffer).toBe(f.bytes.buffer); // a view, not a copy
      }
    });
  }
});

const ALL: Record<string, fp.GgufKv> = {
  u8: { type: 'UINT8', value: 255 }, i8: { type: 'INT8', value: -128 }, u16: { type: 'UINT16', value: 65535 }, i16: { type: 'INT16', value: -32768 },
  u32: { type: 'UINT32', value: 4294967295 }, i32: { type: 'INT32', value: -2147483648 }, f32: { type: 'FLOAT32', value: 0.5 }, b: { type: 'BOOL', value: true },
  s: { type: 'STRING', value: 'héllo\n"x"' }, bom: { type: 'STRING', value: '\uFEFFx' }, u64: { type: 'UINT64', value: 2n ** 64n - 1n }, i64: { type: 'INT64', value: -5 }, f64: { type: 'FLOAT64', value: 0.1 },
  arr_s: { type: 'ARRAY', itemType: 'STRING', value: ['a', '', 'ü b'] }, arr_i: { type: 'ARRAY', itemType: 'INT32', value: [1, -2, 3] },
  arr_e: { type: 'ARRAY', itemType: 'FLOAT32', value: [] }, arr_b: { type: 'ARRAY', itemType: 'BOOL', value: [false, true] },
};

describe('written files', () => {
  for (const version of [2, 3] as const) {
    it(`v${version}: every value type and arrays round-trip; alignment 64 is honoured`, () => {
      const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
      const bytes = fp.writeGguf({ ...ALL, 'general.alignment': { type: 'UINT32', value: 64 } }, [
        { name: 'a', type: 'F32', ne: [3, 2], data },
        { name: 'b', type: 'F32', ne: [1], data: data.subarray(0, 4) },
      ], { version, alignment: 64 });
      const f = fp.readGguf(bytes);
      expect(f.version).toBe(version);
      expect(f.alignment).toBe(64);
      for (const [k, v] of Object.entries(ALL)) expect(f.metadata.get(k), k).toEqual(v);
      expect(f.dataOffset % 64).toBe(0);
      expect(f.tensors.get('b')!.byteOffset - f.dataOffset).toBe(64);
      expect(f.tensors.get('a')!.shape).toEqual([2, 3]);
      expect([...fp.dequantizeRowF32Ref(fp.ggufTensorBytes(f, 'a'), 6)]).toEqual([1, 2, 3, 4, 5, 6]);
    });
  }

  const base = () => fp.writeGguf({ 'general.architecture': 'llama' }, [{ name: 'w', type: 'Q8_0', ne: [32, 2], data: new Uint8Array(68) }]);
  const cases: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ['bad magic', (b) => { b[0] = 0x48; return b; }, /magic bytes 'GGUF'.*"HGUF"/],
    ['version 1', (b) => { b[4] = 1; return b; }, /version 1 is not supported/],
    ['lying tensor count', (b) => { new DataView(b.buffer).setBigUint64(8, 2n ** 60n, true); return b; }, /tensor count is 1152921504606846976, more than/],
    ['lying kv count', (b) => { new DataView(b.buffer).setBigUint64(16, 1000n, true); return b; }, /metadata count is 1000, more than/],
    ['truncated data', (b) => b.subarray(0, b.length - 1), /tensor 'w' \(Q8_0 ne \[32, 2\], 68 bytes at data offset 0\) runs past the end/],
    ['truncated header', (b) => b.subarray(0, 30), /needs|more than/],
    ['unknown value type', (b) => { new DataView(b.buffer).setUint32(24 + 8 + 20, 99, true); return b; }, /metadata 'general.architecture' has value type 99/],
  ];
  for (const [what, edit, re] of cases) {
    it(`${what}: one forwardpass error`, () => {
      expect(() => fp.readGguf(edit(base().slice()), { name: 'x.gguf' })).toThrow(new RegExp(`^forwardpass: gguf 'x.gguf': .*${re.source}`));
    });
  }
  it('an unknown ggml type, a row off its block and a misaligned offset are named', () => {
    const mk = (t: fp.GgmlTypeName, ne: number[], len: number) => fp.writeGguf({}, [{ name: 'w', type: t, ne, data: new Uint8Array(len) }]);
    const b = mk('F32', [4], 16);
    const dv = new DataView(b.buffer);
    const typeAt = 24 + 8 + 1 + 4 + 8; // after the header, name, n_dims and ne[0]
    dv.setUint32(typeAt, 77, true);
    expect(() => fp.readGguf(b)).toThrow(/tensor 'w' has ggml type 77, which this reader does not know/);
    dv.setUint32(typeAt, 8, true); // Q8_0 with 4 values a row
    expect(() => fp.readGguf(b)).toThrow(/has 4 values per row, not a multiple of its block of 32/);
    dv.setUint32(typeAt, 0, true);
    dv.setBigUint64(typeAt + 4, 4n, true);
    expect(() => fp.readGguf(b)).toThrow(/starts at data offset 4, not a multiple of the alignment 32/);
  });
});
