// Errors and byte-level helpers shared by the file readers: one clear `forwardpass: <format> ...:` sentence per
// problem, host byte order, and element copies that never depend on alignment.

/** Throws `forwardpass: <where>: <msg>`. `where` names the format and, when known, the file. */
export function ioFail(where: string, msg: string): never {
  throw new Error(`forwardpass: ${where}: ${msg}`);
}

/** `"safetensors 'model.safetensors'"` or just `"safetensors"` when no name is known. */
export function whereOf(format: string, name?: string): string {
  return name ? `${format} '${name}'` : format;
}

/** True on little-endian hosts (every platform Node and browsers run on in practice). */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Short printable form of an untrusted value for error messages (never huge). */
export function brief(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** True for an array of non-negative safe integers (a valid shape or offset pair). */
export function isIndexArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** Product of dims as a number; Infinity-safe (dims are safe integers, the product may exceed 2^53 and is then inexact but huge). */
export function prod(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A Uint8Array over `bytes` (an ArrayBuffer or any typed array view), sharing memory. */
export function asBytes(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, where: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return ioFail(where, `expected a Uint8Array or ArrayBuffer of file bytes, got ${bytes === null ? 'null' : typeof bytes}`);
}

/** Reverse the byte order of every `size`-byte element of `u8` in place. */
export function swapBytes(u8: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= u8.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = u8[a]!;
      u8[a] = u8[b]!;
      u8[b] = t;
    }
  }
}

/**
 * A fresh, aligned copy of `nbytes` bytes at `offset` of `bytes`, reordered to host byte order for elements of
 * `size` bytes stored `little` (true) or big-endian (false).
 */
export function copyHostOrder(bytes: Uint8Array, offset: number, nbytes: number, size: number, little: boolean): ArrayBuffer {
  const out = new Uint8Array(nbytes);
  out.set(bytes.subarray(offset, offset + nbytes));
  if (little !== HOST_LE) swapBytes(out, size);
  return out.buffer;
}

/**
 * int64 elements read through `dv` (`little`-endian or not) -> Int32Array. Throws a RangeError
 * `forwardpass: ${fail(i)}` at the first element outside the int32 range.
 */
export function int64ToInt32(dv: DataView, n: number, fail: (i: number) => string, little = true): Int32Array {
  const out = new Int32Array(n);
  const lo = little ? 0 : 4;
  const hi = little ? 4 : 0;
  for (let i = 0; i < n; i++) {
    const l = dv.getInt32(8 * i + lo, little);
    const h = dv.getInt32(8 * i + hi, little);
    if (h !== l >> 31) throw new RangeError(`forwardpass: ${fail(i)}`);
    out[i] = l;
  }
  return out;
}
