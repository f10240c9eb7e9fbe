// GGUF writer (bytes out): typed metadata and tensors already encoded in their ggml type, laid out as gguf-py and
// llama.cpp do (header, key-values, tensor infos, padding to the alignment, data with each tensor aligned).
import { GGML_TYPES, ggmlBytes, type GgmlTypeName } from './types.js';
import { GGUF_VALUE_TYPES, type GgufKv, type GgufValue, type GgufValueType } from './reader.js';

export interface GgufWriteTensor {
  name: string;
  type: GgmlTypeName;
  /** ggml dimensions, fastest first ([cols, rows] for a matrix). */
  ne: number[];
  data: Uint8Array;
}

class Out {
  parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array) { this.parts.push(b); this.length += b.length; }
  num(bytes: number, set: (dv: DataView) => void) { const b = new Uint8Array(bytes); set(new DataView(b.buffer)); this.push(b); }
  u32(v: number) { this.num(4, (d) => d.setUint32(0, v, true)); }
  u64(v: number | bigint) { this.num(8, (d) => d.setBigUint64(0, BigInt(v), true)); }
  str(s: string) { const b = new TextEncoder().encode(s); this.u64(b.length); this.push(b); }
}

function scalar(o: Out, t: GgufValueType, v: GgufValue, key: string): void {
  const bad = () => { throw new TypeError(`forwardpass: writeGguf: metadata '${key}' of type ${t} cannot hold ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)}`); };
  if (t === 'STRING') { if (typeof v !== 'string') bad(); o.str(v as string); return; }
  if (t === 'BOOL') { if (typeof v !== 'boolean') bad(); o.num(1, (d) => d.setUint8(0, v ? 1 : 0)); return; }
  if (t === 'UINT64' || t === 'INT64') {
    if (typeof v !== 'number' && typeof v !== 'bigint') bad();
    o.num(8, (d) => (t === 'UINT64' ? d.setBigUint64(0, BigInt(v as number), true) : d.setBigInt64(0, BigInt(v as number), true)));
    return;
  }
  if (typeof v !== 'number') bad();
  const n = v as number;
  switch (t) {
    case 'UINT8': o.num(1, (d) => d.setUint8(0, n)); break;
    case 'INT8': o.num(1, (d) => d.setInt8(0, n)); break;
    case 'UINT16': o.num(2, (d) => d.setUint16(0, n, true)); break;
    case 'INT16': o.num(2, (d) => d.setInt16(0, n, true)); break;
    case 'UINT32': o.num(4, (d) => d.setUint32(0, n, true)); break;
    case 'INT32': o.num(4, (d) => d.setInt32(0, n, true)); break;
    case 'FLOAT32': o.num(4, (d) => d.setFloat32(0, n, true)); break;
    case 'FLOAT64': o.num(8, (d) => d.setFloat64(0, n, true)); break;
    default: bad();
  }
}

/**
 * Serialize metadata and tensors to GGUF bytes (version 3 unless asked). Metadata without a type is written as
 * STRING, BOOL, FLOAT32 (non-integers), UINT32/INT32 or arrays of those; give `{ type, value }` to choose.
 *
 * @example const bytes = writeGguf({ 'general.architecture': 'llama' }, [{ name: 'w', type: 'F32', ne: [4], data }]);
 */
export function writeGguf(metadata: Record<string, GgufValue | GgufKv>, tensors: GgufWriteTensor[], opts: { version?: 2 | 3; alignment?: number } = {}): Uint8Array {
  const o = new Out();
  const align = opts.alignment ?? (typeof metadata['general.alignment'] === 'number' ? metadata['general.alignment'] : 32);
  o.push(new TextEncoder().encode('GGUF'));
  o.u32(opts.version ?? 3);
  o.u64(tensors.length);
  const entries = Object.entries(metadata);
  o.u64(entries.length);
  const infer = (v: GgufValue): GgufValueType => (typeof v === 'string' ? 'STRING' : typeof v === 'boolean' ? 'BOOL' : typeof v === 'bigint' ? 'INT64' : Number.isInteger(v) ? ((v as number) < 0 ? 'INT32' : 'UINT32') : 'FLOAT32');
  for (const [key, raw] of entries) {
    const kv: GgufKv = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : Array.isArray(raw) ? { type: 'ARRAY', itemType: raw.length ? infer(raw[0]!) : 'UINT32', value: raw } : { type: infer(raw), value: raw };
    o.str(key);
    o.u32(GGUF_VALUE_TYPES.indexOf(kv.type));
    if (kv.type === 'ARRAY') {
      const items = kv.value as GgufValue[];
      o.u32(GGUF_VALUE_TYPES.indexOf(kv.itemType!));
      o.u64(items.length);
      for (const v of items) scalar(o, kv.itemType!, v, key);
    } else scalar(o, kv.type, kv.value, key);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const n = t.ne.reduce((a, b) => a * b, 1);
    if (t.data.length !== ggmlBytes(t.type, n)) throw new RangeError(`forwardpass: writeGguf: tensor '${t.name}' ${t.type} ne [${t.ne.join(', ')}] needs ${ggmlBytes(t.type, n)} bytes, got ${t.data.length}`);
    o.str(t.name);
    o.u32(t.ne.length);
    for (const d of t.ne) o.u64(d);
    o.u32(GGML_TYPES[t.type].id);
    o.u64(offset);
    offsets.push(offset);
    offset = Math.ceil((offset + t.data.length) / align) * align;
  }
  const pad = (n: number) => { const p = Math.ceil(n / align) * align - n; if (p) o.push(new Uint8Array(p)); };
  pad(o.length);
  const start = o.length;
  tensors.forEach((t, i) => {
    pad(o.length - start);
    if (o.length - start !== offsets[i]) throw new Error('forwardpass: writeGguf: internal layout error');
    o.push(t.data);
  });
  const out = new Uint8Array(o.length);
  let p = 0;
  for (const b of o.parts) { out.set(b, p); p += b.length; }
  return out;
}
