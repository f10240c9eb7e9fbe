// Fuzzing the safetensors reader: thousands of seeded mutations of the real fixture files (byte flips, truncations,
// lying lengths, header edits, random JSON). Each must load into consistent tensors or throw a forwardpass error.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { fixturePath } from '../helpers.js';

const SIZE: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I8: 1, U8: 1, I16: 2, U16: 2, I32: 4, I64: 8, BOOL: 1 };
const enc = new TextEncoder();

function split(buf: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))), data: buf.subarray(8 + n) };
}

function assemble(headerText: string, data: Uint8Array, len?: number): Uint8Array {
  const hb = enc.encode(headerText);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(len ?? hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);

function randomJson(rng: Rng, depth = 0): unknown {
  const k = int(rng, depth > 3 ? 5 : 8);
  switch (k) {
    case 0: return int(rng, 1000) - 500;
    case 1: return pick(rng, ['F32', 'I64', 'BOOL', 'x', '', '__metadata__', 'dtype']);
    case 2: return pick(rng, [true, false, null, 1.5, -0, 2 ** 53, 1e308]);
    case 3: return Array.from({ length: int(rng, 4) }, () => int(rng, 64));
    case 4: return { dtype: pick(rng, Object.keys(SIZE)), shape: [int(rng, 8), int(rng, 8)], data_offsets: [int(rng, 256), int(rng, 512)] };
    case 5: return Array.from({ length: int(rng, 4) }, () => randomJson(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = int(rng, 5); i > 0; i--) o[pick(rng, ['a', 'w', '__metadata__', 'dtype', 'shape', 'data_offsets', String(i)])] = randomJson(rng, depth + 1);
      return o;
    }
  }
}

/** Edit one field of one tensor entry (or the metadata) in a parsed header. */
function editHeader(rng: Rng, header: Record<string, unknown>): void {
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  if (names.length === 0) { header.w = randomJson(rng); return; }
  const name = pick(rng, names);
  const e = header[name] as { dtype: unknown; shape: unknown; data_offsets: unknown };
  // an entry an earlier edit already broke: replace it wholesale
  if (!e || typeof e !== 'object' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) { header[name] = randomJson(rng); return; }
  const shape = e.shape as number[];
  const offs = e.data_offsets as number[];
  switch (int(rng, 14)) {
    case 0: e.dtype = pick(rng, [...Object.keys(SIZE), 'F8_E5M2', 'U64', 'f32', 3, null, 'hasOwnProperty']); break;
    case 1: if (shape.length) shape[int(rng, shape.length)]! += pick(rng, [-1, 1, 2, -1000]); break;
    case 2: e.shape = pick(rng, [[], [0], [-1], [1.5], ['4'], null, 7, [2 ** 53, 2 ** 53], [...shape, 1], shape.slice(1), [...shape].reverse()]); break;
    case 3: offs[int(rng, 2)]! += pick(rng, [-4, 4, 1, -1, 1 << 20]); break;
    case 4: e.data_offsets = pick(rng, [[offs[1], offs[0]], [0], [0, 0, 0], [-4, offs[1]], [offs[0], 2 ** 60], 'x', null]); break;
    case 5: delete (e as Record<string, unknown>)[pick(rng, ['dtype', 'shape', 'data_offsets'])]; break;
    case 6: header[name] = randomJson(rng); break;
    case 7: header.__metadata__ = pick(rng, [{ a: 1 }, [], 'x', null, { a: 'b' }, {}]); break;
    case 8: { // make two tensors share bytes
      const other = header[pick(rng, names)] as { data_offsets: number[] };
      if (Array.isArray(other?.data_offsets)) e.data_offsets = [...other.data_offsets];
      break;
    }
    case 9: delete header[name]; break;
    case 10: header[`${name}.copy`] = JSON.parse(JSON.stringify(e)); break;
    case 11: { // consistent edit: a different dtype with the shape adjusted to the same byte size
      const bytes = offs[1]! - offs[0]!;
      const dt = pick(rng, Object.keys(SIZE));
      if (bytes % SIZE[dt]! === 0) { e.dtype = dt; e.shape = [bytes / SIZE[dt]!]; }
      break;
    }
    case 12: e.shape = [...shape].reverse(); break; // same size: still valid
    default: header[pick(rng, ['extra', name])] = { dtype: 'U8', shape: [int(rng, 16)], data_offsets: [0, int(rng, 16)] };
  }
}

function mutate(rng: Rng, orig: Uint8Array): Uint8Array {
  const { header, data } = split(orig);
  const hlen = orig.length - data.length - 8;
  switch (int(rng, 7)) {
    case 6: { // byte flips in the data section only: must always load
      const b = orig.slice();
      for (let k = 1 + int(rng, 16); k > 0; k--) b[8 + hlen + int(rng, data.length)] = int(rng, 256);
      return b;
    }
    case 0: { // byte flips, mostly in the length + header
      const b = orig.slice();
      for (let k = 1 + int(rng, 8); k > 0; k--) {
        const i = rng() < 0.8 ? int(rng, 8 + hlen) : int(rng, b.length);
        b[i] = rng() < 0.5 ? b[i]! ^ (1 << int(rng, 8)) : int(rng, 256);
      }
      return b;
    }
    case 1: return orig.slice(0, int(rng, orig.length)); // truncation
    case 2: { // lying header length
      const b = orig.slice();
      const len = pick(rng, [hlen + 1, hlen - 1, hlen - 8, 0, 1, 7, b.length, 2 ** 31, 2 ** 53, int(rng, b.length * 2)]);
      new DataView(b.buffer).setBigUint64(0, BigInt(Math.max(0, len)), true);
      return b;
    }
    case 3: case 4: { // structured header edits, re-serialized (with the right length, mostly)
      for (let k = 1 + int(rng, 3); k > 0; k--) editHeader(rng, header);
      const text = JSON.stringify(header);
      return assemble(text + ' '.repeat(int(rng, 8)), rng() < 0.1 ? data.subarray(0, int(rng, data.length)) : data);
    }
    default: { // random JSON, sometimes cut mid-way
      let text = JSON.stringify(randomJson(rng)) ?? 'null';
      if (rng() < 0.2) text = text.slice(0, int(rng, text.length));
      return assemble(text, data.subarray(0, int(rng, 1024)));
    }
  }
}

/** A successful parse must describe tensors that lie inside the file, sized by dtype x shape, not overlapping. */
function checkConsistent(bytes: Uint8Array, f: fp.SafetensorsFile): void {
  const spans: [number, number][] = [];
  for (const e of f.tensors.values()) {
    expect(e.byteOffset).toBeGreaterThanOrEqual(f.dataOffset);
    expect(e.byteOffset + e.byteLength).toBeLessThanOrEqual(bytes.length);
    expect(e.byteLength).toBe(SIZE[e.dtype]! * e.shape.reduce((a, b) => a * b, 1));
    if (e.byteLength > 0) spans.push([e.byteOffset, e.byteOffset + e.byteLength]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  for (const v of Object.values(f.metadata)) expect(typeof v).toBe('string');
}

/** Distinctive parts of the reader's error messages, to see which checks the mutations reach. */
const CHECKS = [
  'starts with an 8-byte header length', 'is absurd', 'runs past the end of the file', 'is not valid UTF-8', 'is not valid JSON',
  'must be a JSON object', 'expected an object with dtype', ': missing ', 'dtype must be a string', 'unknown dtype', 'shape must be',
  'data_offsets must be', 'begin after they end', 'run past the data section', 'needs', 'overlap', '__metadata__', 'does not fit int32',
];

describe('safetensors fuzzing', () => {
  const models = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-bert-cls', 'tiny-gpt'];
  const files = models.map((m) => new Uint8Array(readFileSync(fixturePath(m, 'model.safetensors'))));

  it('every mutated file loads consistently or fails with a forwardpass error', () => {
    const rng = fp.makeRng(20240607);
    let loaded = 0;
    let failed = 0;
    const seen = new Set<string>();
    for (let iter = 0; iter < 4000; iter++) {
      // the small files most of the time; the 460 KB tiny-gpt file now and then
      const orig = files[iter % 10 === 9 ? 4 : iter % 4]!;
      const bytes = mutate(rng, orig);
      try {
        const parsed = fp.parseSafetensors(bytes, { name: 'fuzz' });
        checkConsistent(bytes, parsed);
        const { tensors } = fp.loadSafetensors(bytes, { name: 'fuzz' });
        expect([...tensors.keys()]).toEqual([...parsed.tensors.keys()]);
        for (const [k, t] of tensors) {
          expect(t.shape).toEqual(parsed.tensors.get(k)!.shape);
          t.dispose();
        }
        loaded++;
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('forwardpass:')) throw e;
        for (const c of CHECKS) if (e.message.includes(c)) seen.add(c);
        failed++;
      }
    }
    // both outcomes must be common, and the mutations must reach (nearly) every check of the reader
    expect(loaded).toBeGreaterThan(400);
    expect(failed).toBeGreaterThan(1500);
    expect(seen.size).toBeGreaterThanOrEqual(CHECKS.length - 2);
  });
});
