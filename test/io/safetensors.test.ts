// safetensors: hand-built files for every dtype, zero-copy views, each validation error, writer round trips,
// and every fixture's model.safetensors checked against config.json and an independent byte-level reader.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { fixturePath } from '../helpers.js';

const enc = new TextEncoder();

/** Build a safetensors file by hand: 8-byte length, header (space-padded to 8 unless told), data. */
function build(header: string | object, data: Uint8Array = new Uint8Array(0), opts: { pad?: boolean; len?: bigint } = {}): Uint8Array {
  let hb = enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (opts.pad !== false && hb.length % 8) {
    const p = new Uint8Array(Math.ceil(hb.length / 8) * 8).fill(0x20);
    p.set(hb);
    hb = p;
  }
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.len ?? BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Independent header reader (as in test/fixtures/README.md), used to check the library's parser. */
function rawHeader(buf: Uint8Array): { n: number; header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> } {
  const n = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(0, true));
  return { n, header: JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString('utf8')) };
}

describe('loadSafetensors: dtypes', () => {
  it('reads every supported dtype with the documented mapping', async () => {
    const parts: [string, string, number[], Uint8Array][] = [
      ['f32', 'F32', [2, 2], bytesOf(new Float32Array([1.5, -2, 0.25, 3]))],
      ['f16', 'F16', [3], bytesOf(new Uint16Array([0x3c00, 0xc000, 0x3555]))],
      ['bf16', 'BF16', [3], bytesOf(new Uint16Array([0x3f80, 0xc000, 0x3fc0]))],
      ['f64', 'F64', [2], bytesOf(new Float64Array([0.1, -1e300]))],
      ['i8', 'I8', [3], bytesOf(new Int8Array([-128, 0, 127]))],
      ['u8', 'U8', [2], bytesOf(new Uint8Array([0, 255]))],
      ['i16', 'I16', [2], bytesOf(new Int16Array([-32768, 5]))],
      ['u16', 'U16', [2], bytesOf(new Uint16Array([65535, 1]))],
      ['i32', 'I32', [2], bytesOf(new Int32Array([-7, 2147483647]))],
      ['i64', 'I64', [3], bytesOf(new BigInt64Array([-1n, 2147483647n, -2147483648n]))],
      ['b', 'BOOL', [3], bytesOf(new Uint8Array([1, 0, 1]))],
    ];
    // lay the data out with 8-byte aligned offsets so the byte layout is easy to follow
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    const chunks: Uint8Array[] = [];
    let pos = 0;
    for (const [name, dtype, shape, data] of parts) {
      const padded = new Uint8Array(Math.ceil(data.length / 8) * 8);
      padded.set(data);
      header[name] = { dtype, shape, data_offsets: [pos, pos + data.length] };
      chunks.push(padded);
      pos += padded.length;
    }
    const { tensors, metadata } = fp.loadSafetensors(build(header, concat(...chunks)));
    expect(metadata).toEqual({ format: 'pt' });
    const got = async (k: string) => { const t = tensors.get(k)!; return { dtype: t.dtype, shape: [...t.shape], v: Array.from(await t.data()) }; };
    expect(await got('f32')).toEqual({ dtype: 'float32', shape: [2, 2], v: [1.5, -2, 0.25, 3] });
    const f16 = await got('f16');
    expect(f16.dtype).toBe('float16');
    expect(f16.v[0]).toBe(1);
    expect(f16.v[1]).toBe(-2);
    expect(f16.v[2]).toBeCloseTo(0.333251953125, 12);
    expect(await got('bf16')).toEqual({ dtype: 'float32', shape: [3], v: [1, -2, 1.5] });
    expect(await got('f64')).toEqual({ dtype: 'float32', shape: [2], v: [Math.fround(0.1), -Infinity] });
    expect(await got('i8')).toEqual({ dtype: 'int8', shape: [3], v: [-128, 0, 127] });
    expect(await got('u8')).toEqual({ dtype: 'uint8', shape: [2], v: [0, 255] });
    expect(await got('i16')).toEqual({ dtype: 'int32', shape: [2], v: [-32768, 5] });
    expect(await got('u16')).toEqual({ dtype: 'int32', shape: [2], v: [65535, 1] });
    expect(await got('i32')).toEqual({ dtype: 'int32', shape: [2], v: [-7, 2147483647] });
    expect(await got('i64')).toEqual({ dtype: 'int32', shape: [3], v: [-1, 2147483647, -2147483648] });
    expect(await got('b')).toEqual({ dtype: 'bool', shape: [3], v: [1, 0, 1] });
    expect([...tensors.keys()]).toEqual(parts.map((p) => p[0]));
  });

  it('names the tensor and value when an I64 does not fit int32', () => {
    const data = bytesOf(new BigInt64Array([5n, 4294967296n]));
    const f = build({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    expect(() => fp.loadSafetensors(f, { name: 'ids.st' })).toThrow(/^forwardpass: safetensors 'ids.st': tensor 'ids' \(I64\) holds 4294967296 at element 1, which does not fit int32/);
    const neg = build({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, bytesOf(new BigInt64Array([-2147483649n])));
    expect(() => fp.loadSafetensors(neg)).toThrow(/holds -2147483649 at element 0/);
  });

  it('treats any non-zero BOOL byte as true', async () => {
    const f = build({ m: { dtype: 'BOOL', shape: [4], data_offsets: [0, 4] } }, new Uint8Array([0, 2, 255, 1]));
    expect(Array.from(await fp.loadSafetensors(f).tensors.get('m')!.data())).toEqual([0, 1, 1, 1]);
  });

  it('widens F16 to float32 with keepDtype: false', async () => {
    const f = build({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, bytesOf(new Uint16Array([0x3c00, 0x4000])));
    const t = fp.loadSafetensors(f, { keepDtype: false }).tensors.get('h')!;
    expect(t.dtype).toBe('float32');
    expect(Array.from(await t.data())).toEqual([1, 2]);
  });
});

describe('loadSafetensors: views and copies', () => {
  const file = () => build({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] } }, bytesOf(new Float32Array([1, 2, 3, 4, 5, 6])));

  it('views the file bytes on CPU when aligned, outside the backend memory count', async () => {
    const f = file();
    const before = fp.cpuBackend.memory();
    const t = fp.loadSafetensors(f).tensors.get('w')!;
    const handle = t.storage.handle as Float32Array;
    expect(handle.buffer).toBe(f.buffer);
    expect(fp.cpuBackend.memory()).toEqual(before);
    new DataView(f.buffer).setFloat32(f.length - 4, 60, true); // writes show through: the tensor aliases the bytes
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4, 5, 60]);
    const v = t.reshape([3, 2]);
    t.dispose();
    expect(Array.from(await v.data())).toEqual([1, 2, 3, 4, 5, 60]);
    v.dispose();
    expect(v.disposed).toBe(true);
    expect(fp.cpuBackend.memory()).toEqual(before);
    const r = fp.add(fp.loadSafetensors(f).tensors.get('w')!, 1);
    expect(Array.from(await r.data())).toEqual([2, 3, 4, 5, 6, 61]);
  });

  it('copies when the data is not aligned, with the same values', async () => {
    const f = file();
    const shifted = new Uint8Array(f.length + 1).subarray(1);
    shifted.set(f);
    const t = fp.loadSafetensors(shifted).tensors.get('w')!;
    expect((t.storage.handle as Float32Array).buffer).not.toBe(shifted.buffer);
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4, 5, 6]);
    // an ArrayBuffer works too
    expect(Array.from(await fp.loadSafetensors(f.slice().buffer).tensors.get('w')!.data())).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses an unknown device clearly', () => {
    expect(() => fp.loadSafetensors(file(), { device: 'tpu' })).toThrow(/no backend named 'tpu'/);
  });

  it('reports entries with absolute byte offsets and header order', () => {
    const f = file();
    const p = fp.parseSafetensors(f);
    expect(p.dataOffset).toBe(8 + rawHeader(f).n);
    expect(p.tensors.get('w')).toEqual({ dtype: 'F32', shape: [2, 3], byteOffset: p.dataOffset, byteLength: 24 });
  });
});

describe('parseSafetensors: validation', () => {
  const ok = bytesOf(new Float32Array([1, 2]));
  const E = (header: unknown, data = ok, opts?: { pad?: boolean; len?: bigint }) => () =>
    fp.parseSafetensors(build(header as object, data, opts), { name: 'bad.st' });
  const pre = "^forwardpass: safetensors 'bad.st': ";
  const expectErr = (fn: () => unknown, re: string) => expect(fn).toThrow(new RegExp(pre + re));

  it('rejects files too short, lying lengths and absurd headers', () => {
    expect(() => fp.parseSafetensors(new Uint8Array(7), { name: 'bad.st' })).toThrow(/safetensors 'bad.st': the file has 7 bytes; a safetensors file starts with an 8-byte header length/);
    expectErr(E({}, ok, { len: 1000n }), 'header length 1000 runs past the end of the file \\(24 bytes, so at most 16\\)');
    expectErr(E({}, ok, { len: 2n ** 40n }), 'header length 256\\*2\\^32\\+0 bytes is absurd');
    expectErr(E({}, ok, { len: 200_000_000n }), 'header length 200000000 bytes is absurd');
    expect(() => fp.parseSafetensors(null as never)).toThrow(/^forwardpass: safetensors: expected a Uint8Array or ArrayBuffer/);
  });

  it('rejects headers that are not UTF-8 JSON objects', () => {
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setBigUint64(0, 8n, true);
    bad.set([0x7b, 0xff, 0xfe, 0x7d, 0x20, 0x20, 0x20, 0x20], 8);
    expect(() => fp.parseSafetensors(bad, { name: 'bad.st' })).toThrow(/'bad.st': the 8-byte header is not valid UTF-8/);
    expectErr(E('{"a": '), 'the header is not valid JSON');
    expectErr(E('[1, 2]'), 'the header must be a JSON object, found an array');
    expectErr(E('42'), 'the header must be a JSON object, found 42');
    expectErr(E('null'), 'the header must be a JSON object, found null');
  });

  it('rejects malformed entries, naming the tensor', () => {
    expectErr(E({ w: 5 }), "tensor 'w': expected an object with dtype, shape and data_offsets, found 5");
    expectErr(E({ w: { dtype: 'F32', shape: [2] } }), "tensor 'w': missing data_offsets");
    expectErr(E({ w: { shape: [2] } }), "tensor 'w': missing dtype, data_offsets");
    expectErr(E({ w: { dtype: 7, shape: [2], data_offsets: [0, 8] } }), "tensor 'w': dtype must be a string, found 7");
    expectErr(E({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 8] } }), "tensor 'w': unknown dtype \"F8_E4M3\"; known dtypes: F32, F16, BF16, F64, I8, U8, I16, U16, I32, I64, BOOL");
    expectErr(E({ w: { dtype: 'toString', shape: [2], data_offsets: [0, 8] } }), "tensor 'w': unknown dtype");
    expectErr(E({ w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }), "tensor 'w': shape must be an array of non-negative integers, found \\[2,-1\\]");
    expectErr(E({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }), "tensor 'w': shape must be");
    expectErr(E({ w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }), "tensor 'w': shape must be");
    expectErr(E({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8, 9] } }), "tensor 'w': data_offsets must be two non-negative integers");
    expectErr(E({ w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }), "tensor 'w': data_offsets must be two");
  });

  it('rejects offsets out of range, reversed, mis-sized or overlapping', () => {
    expectErr(E({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }), "tensor 'w': data_offsets \\[8, 4\\] begin after they end");
    expectErr(E({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }), "tensor 'w': data_offsets \\[0, 16\\] run past the data section \\(8 bytes\\)");
    expectErr(E({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }), "tensor 'w': F32 \\[3\\] needs 12 bytes, but data_offsets \\[0, 8\\] span 8");
    expectErr(E({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }), "tensor 'w': F32 \\[1099511627776, 1099511627776\\] needs");
    expectErr(
      E({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F16', shape: [2], data_offsets: [4, 8] } }),
      "tensors 'a' \\[0, 8\\] and 'b' \\[4, 8\\] overlap in the data section",
    );
    // zero-size tensors may sit anywhere; tensors may share no byte
    const p = fp.parseSafetensors(build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, z: { dtype: 'F32', shape: [0, 3], data_offsets: [4, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, ok));
    expect([...p.tensors.keys()]).toEqual(['a', 'z', 'b']);
  });

  it('rejects bad __metadata__', () => {
    expectErr(E({ __metadata__: { format: 1 } }), "__metadata__ value 'format' must be a string, found 1");
    expectErr(E({ __metadata__: ['pt'] }), '__metadata__ must be an object of strings');
  });

  it('accepts an unpadded header and no metadata', () => {
    const p = fp.parseSafetensors(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, ok, { pad: false }));
    expect(p.metadata).toEqual({});
    expect(p.tensors.get('w')!.shape).toEqual([2]);
  });
});

describe('saveSafetensors', () => {
  it('round-trips every dtype, views, scalars and empty tensors with metadata', async () => {
    const base = fp.tensor([[1, 2, 3], [4, 5, 6]]);
    const inputs: Record<string, fp.Tensor> = {
      'a.half': fp.tensor([1, -0.5, 65504], { dtype: 'float16' }),
      'b.weight': base,
      'c.ids': fp.tensor([-3, 2147483647], { dtype: 'int32' }),
      'd.q': fp.tensor([-128, 5, 127], { dtype: 'int8' }),
      'e.u': fp.tensor([0, 200], { dtype: 'uint8' }),
      'f.mask': fp.tensor([true, false, true]),
      'g.t': base.transpose(),
      'h.s': fp.tensor(2.5),
      'i.empty': fp.zeros([0, 4]),
    };
    const bytes = await fp.saveSafetensors(inputs, { format: 'pt', note: 'ünïcode' });
    const { n, header } = rawHeader(bytes);
    expect((8 + n) % 8).toBe(0);
    expect(Object.keys(header)).toEqual(['__metadata__', ...Object.keys(inputs)]);
    // the data section is fully indexed, without gaps, and each tensor is aligned to its element size
    const spans = Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, e]) => e.data_offsets).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let pos = 0;
    for (const [b, e] of spans) { expect(b).toBe(pos); pos = e; }
    expect(pos).toBe(bytes.length - 8 - n);
    const size: Record<string, number> = { F32: 4, I32: 4, F16: 2, I8: 1, U8: 1, BOOL: 1 };
    for (const e of Object.values(header)) if ('dtype' in e) expect(e.data_offsets[0] % size[e.dtype]!).toBe(0);

    const back = fp.loadSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    for (const [k, t] of Object.entries(inputs)) {
      const r = back.tensors.get(k)!;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      expect(Array.from(await r.data())).toEqual(Array.from(await t.data()));
    }
    expect(Array.from(await back.tensors.get('g.t')!.data())).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('keeps raw float16 bits, NaN payloads included', async () => {
    const halves = new Uint16Array([0x7e01, 0x0001, 0x8000, 0x7c00]);
    const bytes = await fp.saveSafetensors(new Map([['h', fp.fromStorage(halves, [4], 'float16')]]));
    const t = fp.loadSafetensors(bytes).tensors.get('h')!;
    expect(Array.from(t.storage.handle as Uint16Array)).toEqual(Array.from(halves));
  });

  it('writes no __metadata__ when none is given and an empty file for no tensors', async () => {
    const bytes = await fp.saveSafetensors({});
    expect(bytes.length).toBe(16);
    expect(rawHeader(bytes).header).toEqual({});
    expect(fp.parseSafetensors(bytes).tensors.size).toBe(0);
  });

  it('rejects bad names, metadata and non-tensors', async () => {
    const t = fp.tensor([1]);
    await expect(fp.saveSafetensors({ __metadata__: t })).rejects.toThrow(/^forwardpass: saveSafetensors: tensor name "__metadata__" is not allowed/);
    await expect(fp.saveSafetensors(new Map([['', t]]))).rejects.toThrow(/tensor name "" is not allowed/);
    await expect(fp.saveSafetensors({ w: t }, { n: 1 as never })).rejects.toThrow(/^forwardpass: saveSafetensors: metadata value 'n' must be a string, got 1/);
    await expect(fp.saveSafetensors({ w: [1, 2] as never })).rejects.toThrow(/^forwardpass: saveSafetensors: tensor 'w': expected a Tensor, got object/);
    const d = fp.tensor([1]);
    d.dispose();
    await expect(fp.saveSafetensors({ w: d })).rejects.toThrow(/tensor 'w': tensor #\d+ \[1\] float32 was disposed/);
  });
});

describe('fixture model.safetensors files', () => {
  const models = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-gpt', 'tiny-bert-cls'];

  it.each(models)('%s: names and shapes match config.json, values match an independent reader', async (model) => {
    const buf = new Uint8Array(readFileSync(fixturePath(model, 'model.safetensors')));
    const config = JSON.parse(readFileSync(fixturePath(model, 'config.json'), 'utf8'));
    const { tensors, metadata } = fp.loadSafetensors(buf, { name: `${model}/model.safetensors` });
    expect(metadata.model).toBe(model);
    expect(metadata.format).toBe('pt');
    const want: { name: string; shape: number[] }[] = config.weights.tensors;
    expect(new Set(tensors.keys())).toEqual(new Set(want.map((w) => w.name)));
    const { n, header } = rawHeader(buf);
    const dv = new DataView(buf.buffer, buf.byteOffset);
    for (const w of want) {
      const t = tensors.get(w.name)!;
      expect(t.shape).toEqual(w.shape);
      expect(t.dtype).toBe('float32');
      const [b] = header[w.name]!.data_offsets;
      const got = await t.data();
      let mismatches = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== dv.getFloat32(8 + n + b + 4 * i, true)) mismatches++;
      expect(mismatches).toBe(0);
    }
  });

  it('mlp-digits fc1.weight has the checksum computed with NumPy from the raw bytes', async () => {
    const buf = new Uint8Array(readFileSync(fixturePath('mlp-digits', 'model.safetensors')));
    const v = await fp.loadSafetensors(buf).tensors.get('fc1.weight')!.data();
    let sum = 0, abs = 0, weighted = 0;
    for (let i = 0; i < v.length; i++) { sum += v[i]!; abs += Math.abs(v[i]!); weighted += i * v[i]!; }
    expect(v.length).toBe(8192);
    expect(sum).toBeCloseTo(108.81569875435912, 9);
    expect(abs).toBeCloseTo(974.4991863628927, 9);
    expect(weighted).toBeCloseTo(501405.40623492596, 5);
    expect(v[0]).toBe(Math.fround(0.06439102441072464));
    expect(v[8191]).toBe(Math.fround(0.10068070143461227));
  });
});
