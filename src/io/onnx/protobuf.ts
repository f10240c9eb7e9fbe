// Minimal protobuf wire-format reader for the ONNX importer (no dependency): varints (64-bit exact), the four
// wire types ONNX uses (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32), packed/unpacked repeated fields.
// Every length is checked against the remaining bytes before use, so a corrupt file fails fast with one clear error.
import { ioFail } from '../errors.js';

/** Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
export type WireType = 0 | 1 | 2 | 5;

/** Deepest message nesting accepted (graphs inside attributes inside graphs...); deeper input is refused. */
export const MAX_DEPTH = 64;

/**
 * Reads one protobuf message held in `buf[pos, end)`. `where` prefixes every error (e.g. `onnx: model.onnx`) and
 * `msg` names the message being read.
 * @example
 * const r = new PbReader(new Uint8Array([0x08, 0x96, 0x01]), 'onnx: x', 'Test');
 * r.tag(); // { field: 1, wire: 0 }
 * r.uint(); // 150
 */
export class PbReader {
  pos: number;
  readonly end: number;
  private readonly dv: DataView;

  constructor(
    readonly buf: Uint8Array,
    readonly where: string,
    readonly msg: string,
    start = 0,
    end = buf.length,
    readonly depth = 0,
  ) {
    this.pos = start;
    this.end = end;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (depth > MAX_DEPTH) this.fail(`expected messages nested at most ${MAX_DEPTH} deep, found deeper nesting`);
  }

  /** Throws `forwardpass: <where>: <msg>: <text> (at byte <pos>)`. */
  fail(text: string): never {
    return ioFail(this.where, `${this.msg}: ${text} (at byte ${this.pos})`);
  }

  /** True once every byte of the message has been read. */
  done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: WireType } {
    const start = this.pos;
    const [lo, hi] = this.varintParts();
    const wire = lo & 7;
    const field = hi * 2 ** 29 + (lo >>> 3);
    if (field === 0 || field > 2 ** 29 - 1) {
      this.pos = start;
      this.fail(`expected a field number from 1 to 536870911, found ${field}`);
    }
    if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5) {
      this.pos = start;
      this.fail(`expected wire type 0, 1, 2 or 5 for field ${field}, found ${wire}`);
    }
    return { field, wire };
  }

  /** Low and high 32 bits (unsigned) of the next varint (at most 10 bytes). */
  varintParts(): [number, number] {
    let lo = 0;
    let hi = 0;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) {
        this.pos = start;
        this.fail('expected a varint, found the end of the message (truncated)');
      }
      const b = this.buf[this.pos++]!;
      const v = b & 0x7f;
      if (i < 4) lo |= v << (7 * i);
      else if (i === 4) {
        lo |= (v & 0x0f) << 28;
        hi |= v >>> 4;
      } else hi |= v << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    this.pos = start;
    return this.fail('expected a varint of at most 10 bytes, found a longer one');
  }

  /** Next varint as a signed 64-bit bigint (exact). */
  int64(): bigint {
    const [lo, hi] = this.varintParts();
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  /** Next varint as a signed 64-bit value in a JS number; throws if it is not a safe integer (|v| > 2^53 - 1). */
  int(): number {
    const start = this.pos;
    const [lo, hi] = this.varintParts();
    const signedHi = hi | 0;
    const v = signedHi * 2 ** 32 + lo;
    if (!Number.isSafeInteger(v)) {
      this.pos = start;
      this.fail(`expected an integer within +-2^53, found ${BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo))}`);
    }
    return v;
  }

  /** Next varint as a non-negative safe integer (lengths, counts, enum values). */
  uint(what = 'value'): number {
    const start = this.pos;
    const v = this.int();
    if (v < 0) {
      this.pos = start;
      this.fail(`expected a non-negative ${what}, found ${v}`);
    }
    return v;
  }

  /** Checks that `n` more bytes are available. */
  need(n: number, what: string): void {
    if (n > this.end - this.pos) this.fail(`${what} says ${n} bytes but only ${this.end - this.pos} remain (truncated or corrupt)`);
  }

  /** A length-delimited field's bytes (a view into the buffer, not a copy). */
  bytes(what = 'length-delimited field'): Uint8Array {
    const n = this.uint('length');
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length-delimited field decoded as UTF-8. */
  string(what = 'string'): string {
    return new TextDecoder().decode(this.bytes(what));
  }

  /** A reader over a nested message (length-delimited field); the outer reader moves past it. */
  message(name: string): PbReader {
    const n = this.uint('length');
    this.need(n, `${name} message`);
    const r = new PbReader(this.buf, this.where, name, this.pos, this.pos + n, this.depth + 1);
    this.pos += n;
    return r;
  }

  /** Next 4 bytes as a little-endian float32. */
  float32(): number {
    this.need(4, 'fixed32 field');
    const v = this.dv.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Next 8 bytes as a little-endian float64. */
  float64(): number {
    this.need(8, 'fixed64 field');
    const v = this.dv.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Skips a field's value of the given wire type (unknown fields). */
  skip(wire: WireType): void {
    if (wire === 0) this.varintParts();
    else if (wire === 1) {
      this.need(8, 'fixed64 field');
      this.pos += 8;
    } else if (wire === 5) {
      this.need(4, 'fixed32 field');
      this.pos += 4;
    } else this.bytes();
  }

  /** Checks the wire type of a known field. */
  expectWire(field: number, name: string, wire: WireType, want: WireType): void {
    if (wire !== want) this.fail(`expected wire type ${want} for field ${field} (${name}), found ${wire}`);
  }

  /** Appends a repeated varint field (packed wire type 2, or one value with wire type 0) to `out`, read by `read`. */
  repeatedVarint<T>(field: number, name: string, wire: WireType, out: T[], read: (r: PbReader) => T): void {
    if (wire === 0) out.push(read(this));
    else if (wire === 2) {
      const n = this.uint('length');
      this.need(n, `packed ${name}`);
      const sub = new PbReader(this.buf, this.where, this.msg, this.pos, this.pos + n, this.depth);
      this.pos += n;
      while (!sub.done()) out.push(read(sub));
    } else this.fail(`expected wire type 0 or 2 for field ${field} (${name}), found ${wire}`);
  }

  /** Appends a repeated fixed-width float field (packed wire type 2, or one value with wire type 5 / 1). */
  repeatedFloat(field: number, name: string, wire: WireType, out: number[], size: 4 | 8): void {
    const single = size === 4 ? 5 : 1;
    if (wire === single) out.push(size === 4 ? this.float32() : this.float64());
    else if (wire === 2) {
      const n = this.uint('length');
      this.need(n, `packed ${name}`);
      if (n % size !== 0) this.fail(`expected packed ${name} length to be a multiple of ${size}, found ${n}`);
      for (let i = 0; i < n; i += size) out.push(size === 4 ? this.float32() : this.float64());
    } else this.fail(`expected wire type ${single} or 2 for field ${field} (${name}), found ${wire}`);
  }
}
