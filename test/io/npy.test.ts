// .npy: hand-built files per the NPY spec for each dtype, byte order and Fortran order, versions 1-3, writer round
// trips (NumPy's exact header text), malformed inputs with clear errors, and a small fuzz loop.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';

/** Build a .npy file by hand: magic, version, header length (LE), dict text padded with spaces to 64, '\n', data. */
function npy(dict: string, data: Uint8Array, opts: { version?: number; hlen?: number } = {}): Uint8Array {
  const v = opts.version ?? 1;
  const prefix = v === 1 ? 10 : 12;
  const hb = new TextEncoder().encode(dict);
  const total = Math.ceil((prefix + hb.length + 1) / 64) * 64;
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, v, 0]);
  const dv = new DataView(out.buffer);
  const hlen = opts.hlen ?? total - prefix;
  if (v === 1) dv.setUint16(8, hlen, true);
  else dv.setUint32(8, hlen, true);
  out.fill(0x20, prefix, total - 1);
  out.set(hb, prefix);
  out[total - 1] = 0x0a;
  out.set(data, total);
  return out;
}
const dict = (descr: string, shape: string, fortran = false) => `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Big-endian bytes of values written with a DataView setter. */
function be(n: number, size: number, set: (dv: DataView, off: number, i: number) => void): Uint8Array {
  const b = new Uint8Array(n * size);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < n; i++) set(dv, i * size, i);
  return b;
}

describe('parseNpy / loadNpy: dtypes', () => {
  const cases: [string, Uint8Array, string, number[]][] = [
    ['<f4', bytesOf(new Float32Array([1.5, -2, 0.25, 8])), 'float32', [1.5, -2, 0.25, 8]],
    ['<f2', bytesOf(new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0000])), 'float16', [1, -2, Infinity, 0]],
    ['<f8', bytesOf(new Float64Array([0.1, -3, 1e40, 2])), 'float32', [Math.fround(0.1), -3, Infinity, 2]],
    ['<i4', bytesOf(new Int32Array([-1, 2147483647, 0, 5])), 'int32', [-1, 2147483647, 0, 5]],
    ['<i8', bytesOf(new BigInt64Array([-1n, 2147483647n, -2147483648n, 7n])), 'int32', [-1, 2147483647, -2147483648, 7]],
    ['<i2', bytesOf(new Int16Array([-32768, 1, 2, 3])), 'int32', [-32768, 1, 2, 3]],
    ['<u2', bytesOf(new Uint16Array([65535, 1, 2, 3])), 'int32', [65535, 1, 2, 3]],
    ['<u4', bytesOf(new Uint32Array([2147483647, 1, 2, 3])), 'int32', [2147483647, 1, 2, 3]],
    ['|i1', bytesOf(new Int8Array([-128, 127, 0, 1])), 'int8', [-128, 127, 0, 1]],
    ['|u1', new Uint8Array([0, 255, 7, 1]), 'uint8', [0, 255, 7, 1]],
    ['|b1', new Uint8Array([1, 0, 0, 1]), 'bool', [1, 0, 0, 1]],
    ['>f4', be(4, 4, (dv, o, i) => dv.setFloat32(o, [1.5, -2, 0.25, 8][i]!)), 'float32', [1.5, -2, 0.25, 8]],
    ['>f2', be(4, 2, (dv, o, i) => dv.setUint16(o, [0x3c00, 0xc000, 0x3800, 0x4000][i]!)), 'float16', [1, -2, 0.5, 2]],
    ['>i8', be(4, 8, (dv, o, i) => dv.setBigInt64(o, [-5n, 6n, -2147483648n, 2147483647n][i]!)), 'int32', [-5, 6, -2147483648, 2147483647]],
    ['>f8', be(4, 8, (dv, o, i) => dv.setFloat64(o, [1, 2, 3, -4][i]!)), 'float32', [1, 2, 3, -4]],
    ['>i2', be(4, 2, (dv, o, i) => dv.setInt16(o, [-2, 300, 0, 1][i]!)), 'int32', [-2, 300, 0, 1]],
  ];

  it.each(cases)('%s', async (descr, data, dtype, values) => {
    const a = fp.parseNpy(npy(dict(descr, '(2, 2)'), data));
    expect(a.dtype).toBe(dtype);
    expect(a.descr).toBe(descr);
    expect(a.shape).toEqual([2, 2]);
    expect(a.fortranOrder).toBe(false);
    expect(a.version).toEqual([1, 0]);
    const t = fp.loadNpy(npy(dict(descr, '(2, 2)'), data));
    expect(t.dtype).toBe(dtype);
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(await t.data())).toEqual(values);
  });

  it('reads bool bytes other than 0/1 as true, and 1-byte types with any byte-order mark', async () => {
    expect(Array.from(await fp.loadNpy(npy(dict('|b1', '(3,)'), new Uint8Array([0, 2, 255]))).data())).toEqual([0, 1, 1]);
    expect(Array.from(await fp.loadNpy(npy(dict('<u1', '(2,)'), new Uint8Array([3, 4]))).data())).toEqual([3, 4]);
    expect(Array.from(await fp.loadNpy(npy("{'descr': '?1', 'fortran_order': False, 'shape': (1,)}".replace('?1', '|?1'), new Uint8Array([1]))).data())).toEqual([1]);
  });

  it('transposes Fortran-order data into row-major order', async () => {
    // logical [[0, 1, 2], [3, 4, 5]] stored column by column: 0 3 1 4 2 5
    const a = fp.parseNpy(npy(dict('<f4', '(2, 3)', true), bytesOf(new Float32Array([0, 3, 1, 4, 2, 5]))));
    expect(a.fortranOrder).toBe(true);
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5]);
    // 3-D: element (i, j, k) of shape [2, 2, 2] sits at i + 2j + 4k in Fortran order
    const f = new Float32Array(8);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) f[i + 2 * j + 4 * k] = 100 * i + 10 * j + k;
    const t = fp.loadNpy(npy(dict('<f4', '(2, 2, 2)', true), bytesOf(f)));
    expect(Array.from(await t.data())).toEqual([0, 1, 10, 11, 100, 101, 110, 111]);
    // big-endian and Fortran order together
    const b = fp.parseNpy(npy(dict('>i4', '(2, 2)', true), be(4, 4, (dv, o, i) => dv.setInt32(o, [1, 3, 2, 4][i]!))));
    expect(Array.from(b.data)).toEqual([1, 2, 3, 4]);
  });

  it('reads scalars, empty arrays, version 2.0 and 3.0 headers and Python 2 long ints', () => {
    expect(fp.parseNpy(npy(dict('<f4', '()'), bytesOf(new Float32Array([7])))).shape).toEqual([]);
    expect(fp.parseNpy(npy(dict('<f4', '(0, 5)'), new Uint8Array(0))).shape).toEqual([0, 5]);
    const v2 = fp.parseNpy(npy(dict('<i4', '(2,)'), bytesOf(new Int32Array([1, 2])), { version: 2 }));
    expect(v2.version).toEqual([2, 0]);
    expect(Array.from(v2.data)).toEqual([1, 2]);
    const v3 = fp.parseNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'note': 'héllo ✓'}", bytesOf(new Int32Array([3, 4])), { version: 3 }));
    expect(Array.from(v3.data)).toEqual([3, 4]);
    expect(fp.parseNpy(npy(dict('<f4', '(1L, 2L)'), new Uint8Array(8))).shape).toEqual([1, 2]);
    expect(fp.parseNpy(npy('{"shape": (2,), "fortran_order": False, "descr": "<f4"}', new Uint8Array(8))).shape).toEqual([2]);
  });

  it('views the file bytes on CPU when no conversion is needed', () => {
    const f = npy(dict('<f4', '(2,)'), bytesOf(new Float32Array([1, 2])));
    expect((fp.loadNpy(f).storage.handle as Float32Array).buffer).toBe(f.buffer);
    const shifted = new Uint8Array(f.length + 2).subarray(2);
    shifted.set(f);
    const t = fp.loadNpy(shifted);
    expect((t.storage.handle as Float32Array).buffer).not.toBe(shifted.buffer);
    expect(Array.from(t.dataSync())).toEqual([1, 2]);
  });
});

describe('parseNpy: malformed input', () => {
  const E = (b: Uint8Array) => () => fp.parseNpy(b, { name: 'x.npy' });
  const ok = bytesOf(new Float32Array([1, 2]));

  it('rejects bad magic, versions and lengths', () => {
    expect(E(new TextEncoder().encode('PK\x03\x04 not numpy at all'))).toThrow(/^forwardpass: npy 'x.npy': not a .npy file: expected the magic bytes \\x93NUMPY/);
    expect(E(new Uint8Array([0x93, 0x4e, 0x55]))).toThrow(/not a .npy file/);
    const v4 = npy(dict('<f4', '(2,)'), ok);
    v4[6] = 4;
    expect(E(v4)).toThrow(/unsupported format version 4.0 \(expected 1.0, 2.0 or 3.0\)/);
    expect(E(npy(dict('<f4', '(2,)'), ok, { hlen: 60000 }))).toThrow(/header length 60000 runs past the end of the file/);
    expect(E(npy(dict('<f4', '(2,)'), ok, { version: 2, hlen: 2 ** 31 }))).toThrow(/header length 2147483648 bytes is absurd/);
    expect(E(npy(dict('<f4', '(2,)'), ok).subarray(0, 11))).toThrow(/runs past the end of the file \(11 bytes\)/);
  });

  it('rejects headers that are not the expected dict', () => {
    expect(E(npy('[1, 2]', ok))).toThrow(/^forwardpass: npy 'x.npy': the header must be a Python dict, found "\[1, 2\]/);
    expect(E(npy("{'descr': '<f4', 'shape': (2,)}", ok))).toThrow(/the header dict lacks fortran_order/);
    expect(E(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", ok))).toThrow(/bad header at character 54: unexpected end in/);
    expect(E(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}", ok))).toThrow(/bad header at character 53: expected ',' or '\)' in "\{'descr'.*\(2 3\)\}"$/);
    expect(E(npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}", ok))).toThrow(/bad header at character 34: unexpected "M"/);
    expect(E(npy("{'descr: '<f4'}", ok))).toThrow(/bad header/);
    expect(E(npy('{' + '('.repeat(100) + '}', ok))).toThrow(/nesting deeper than 16/);
    expect(E(npy(dict('<f4', '(2, -1)'), ok))).toThrow(/shape must be a tuple of non-negative integers, found \[2,-1\]/);
    expect(E(npy(dict('<f4', '(2.5,)'), ok))).toThrow(/shape must be a tuple/);
    expect(E(npy(dict('<f4', '2'), ok))).toThrow(/shape must be a tuple/);
    expect(E(npy("{'descr': '<f4', 'fortran_order': 1, 'shape': (2,)}", ok))).toThrow(/fortran_order must be True or False, found 1/);
    expect(E(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", ok))).toThrow(/descr \[\["a","<f4"\]\] is not a simple type string \(structured dtypes are not supported\)/);
  });

  it('rejects unsupported dtypes and data of the wrong size', () => {
    expect(E(npy(dict('<c8', '(1,)'), ok))).toThrow(/unsupported dtype '<c8'; supported: float32 '<f4'/);
    expect(E(npy(dict('<U3', '(1,)'), ok))).toThrow(/unsupported dtype '<U3'/);
    expect(E(npy(dict('<f4', '(3,)'), ok))).toThrow(/^forwardpass: npy 'x.npy': <f4 \[3\] needs 12 data bytes, but the file has 8 after the header/);
    expect(E(npy(dict('<f4', '(1,)'), ok))).toThrow(/<f4 \[1\] needs 4 data bytes, but the file has 8/);
    expect(E(npy(dict('<f4', '(4294967296, 4294967296)'), ok))).toThrow(/needs 73786976294838210000 data bytes/);
  });

  it('range-checks int64 and uint32 values', () => {
    expect(E(npy(dict('<i8', '(2,)'), bytesOf(new BigInt64Array([1n, -(2n ** 40n)]))))).toThrow(/^forwardpass: npy 'x.npy': value -1099511627776 at element 1 does not fit int32/);
    expect(E(npy(dict('>i8', '(1,)'), be(1, 8, (dv, o) => dv.setBigInt64(o, 2n ** 31n))))).toThrow(/value 2147483648 at element 0 does not fit int32/);
    expect(E(npy(dict('<u4', '(1,)'), bytesOf(new Uint32Array([4e9]))))).toThrow(/value 4000000000 at element 0 does not fit int32/);
  });
});

describe('saveNpy', () => {
  it('writes NumPy\'s exact version 1.0 header, 64-byte aligned', async () => {
    const b = await fp.saveNpy(fp.tensor([[1, 2, 3], [4, 5, 6]]));
    expect(Array.from(b.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const hlen = b[8]! | (b[9]! << 8);
    expect((10 + hlen) % 64).toBe(0);
    const text = new TextDecoder().decode(b.subarray(10, 10 + hlen));
    expect(text.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    expect(text.endsWith(' \n')).toBe(true);
    expect(Array.from(new Float32Array(b.slice(10 + hlen).buffer))).toEqual([1, 2, 3, 4, 5, 6]);
    const one = new TextDecoder().decode(await fp.saveNpy(fp.tensor([5], { dtype: 'int8' })));
    expect(one).toContain("{'descr': '|i1', 'fortran_order': False, 'shape': (1,), }");
    const scalar = new TextDecoder().decode(await fp.saveNpy(fp.tensor(true)));
    expect(scalar).toContain("{'descr': '|b1', 'fortran_order': False, 'shape': (), }");
  });

  it('round-trips every dtype and strided views', async () => {
    const ts = [
      fp.randn([3, 4], { seed: 1 }),
      fp.tensor([0.5, -1, 65504], { dtype: 'float16' }),
      fp.tensor([-7, 2147483647], { dtype: 'int32' }),
      fp.tensor([-128, 127], { dtype: 'int8' }),
      fp.tensor([0, 255], { dtype: 'uint8' }),
      fp.tensor([true, false]),
      fp.randn([2, 3], { seed: 2 }).transpose(),
      fp.zeros([0, 2]),
    ];
    for (const t of ts) {
      const r = fp.loadNpy(await fp.saveNpy(t));
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(await r.data())).toEqual(Array.from(await t.data()));
    }
  });

  it('writes integer tensors as int64 on request', async () => {
    const b = await fp.saveNpy(fp.tensor([-1, 5, -2147483648], { dtype: 'int32' }), { dtype: 'int64' });
    const start = 10 + (b[8]! | (b[9]! << 8));
    expect(new TextDecoder().decode(b.subarray(0, start))).toContain("'descr': '<i8'");
    expect(Array.from(new BigInt64Array(b.slice(start).buffer))).toEqual([-1n, 5n, -2147483648n]);
    const r = fp.loadNpy(b);
    expect(r.dtype).toBe('int32');
    expect(Array.from(await r.data())).toEqual([-1, 5, -2147483648]);
    expect(Array.from(fp.parseNpy(await fp.saveNpy(fp.tensor([200], { dtype: 'uint8' }), { dtype: 'int64' })).data)).toEqual([200]);
    await expect(fp.saveNpy(fp.tensor([1.5]), { dtype: 'int64' })).rejects.toThrow(/^forwardpass: saveNpy: dtype 'int64' needs an int32, int8 or uint8 tensor, got float32/);
    await expect(fp.saveNpy(fp.tensor([1]), { dtype: 'float64' as never })).rejects.toThrow(/option dtype must be 'int64' or left out, got "float64"/);
    await expect(fp.saveNpy({} as never)).rejects.toThrow(/^forwardpass: saveNpy: expected a Tensor/);
  });
});

describe('npy fuzzing', () => {
  it('mutated files parse into consistent arrays or fail with a forwardpass error', async () => {
    const seeds = [
      await fp.saveNpy(fp.randn([4, 5], { seed: 3 })),
      await fp.saveNpy(fp.tensor([1, 2, 3], { dtype: 'int32' }), { dtype: 'int64' }),
      npy(dict('>f2', '(2, 3)', true), new Uint8Array(12)),
      npy(dict('|b1', '(5,)'), new Uint8Array([0, 1, 2, 0, 1]), { version: 2 }),
    ];
    const rng = fp.makeRng(77);
    const size: Record<string, number> = { float32: 4, float16: 2, int32: 4, int8: 1, uint8: 1, bool: 1 };
    let parsed = 0;
    let failed = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const orig = seeds[iter % seeds.length]!;
      let b = orig.slice();
      const kind = Math.floor(rng() * 4);
      const hend = b.length - (orig[6] === 1 ? 10 + (orig[8]! | (orig[9]! << 8)) : 0);
      if (kind === 3) for (let k = 1 + Math.floor(rng() * 4); k > 0; k--) b[b.length - 1 - Math.floor(rng() * hend)] = Math.floor(rng() * 256); // data bytes (and v2 headers)
      else if (kind === 0) for (let k = 1 + Math.floor(rng() * 4); k > 0; k--) b[Math.floor(rng() * Math.min(b.length, 80))] = Math.floor(rng() * 256);
      else if (kind === 1) b = b.slice(0, Math.floor(rng() * b.length));
      else { // replace a character of the header text with a syntax-relevant one
        const i = 10 + Math.floor(rng() * 50);
        b[i] = "{}()[]',: 0123456789-TFLN<>|".charCodeAt(Math.floor(rng() * 29));
      }
      try {
        const a = fp.parseNpy(b, { name: 'fuzz' });
        expect(a.data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
        expect(a.data.byteLength).toBe(a.data.length * size[a.dtype]!);
        parsed++;
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('forwardpass:')) throw e;
        failed++;
      }
    }
    expect(parsed).toBeGreaterThan(300);
    expect(failed).toBeGreaterThan(1000);
  });
});
