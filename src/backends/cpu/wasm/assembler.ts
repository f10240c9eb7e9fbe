// A small typed emitter of WebAssembly module bytes: the sections the CPU fast path needs (type, imported memory,
// function, export, code), LEB128, locals, and only the scalar and SIMD128 instructions its kernels use.
// Opcode numbers follow the WebAssembly core spec (binary format) and the SIMD / relaxed-SIMD proposals.
import { WASM_MAX_PAGES, wasmMemoryShared } from './memory.js';

/** Value types (binary encoding). */
export const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** Unsigned LEB128 of a non-negative integer (up to 2^53). */
export function uleb(out: number[], v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`forwardpass: wasm assembler: uleb needs a non-negative integer, got ${v}`);
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(out: number[], v: number): void {
  if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 32) throw new RangeError(`forwardpass: wasm assembler: sleb needs a 32-bit integer, got ${v}`);
  v |= 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return; }
    out.push(b | 0x80);
  }
}

const utf8 = (s: string): number[] => Array.from(new TextEncoder().encode(s));
const vec = (items: number[][]): number[] => { const o: number[] = []; uleb(o, items.length); for (const it of items) o.push(...it); return o; };
const str = (s: string): number[] => { const b = utf8(s); const o: number[] = []; uleb(o, b.length); o.push(...b); return o; };

/** SIMD opcodes (all prefixed by 0xfd, the opcode itself LEB128-encoded). */
const SIMD = {
  'v128.load': 0, 'v128.load8x8_s': 1, 'v128.load16_splat': 8, 'v128.load32_splat': 9, 'v128.store': 11, 'v128.const': 12,
  'i32x4.splat': 17, 'f64x2.extract_lane': 33, 'f32x4.splat': 19, 'f64x2.splat': 20, 'f32x4.extract_lane': 31, 'i32x4.extract_lane': 27,
  'v128.not': 77, 'v128.and': 78, 'v128.andnot': 79, 'v128.or': 80, 'v128.xor': 81, 'v128.bitselect': 82,
  'f32x4.eq': 65, 'f32x4.ne': 66, 'f32x4.lt': 67, 'f32x4.gt': 68, 'f32x4.le': 69, 'f32x4.ge': 70, 'f64x2.ge': 76,
  'f64x2.promote_low_f32x4': 95, 'i8x16.narrow_i16x8_s': 101, 'f32x4.floor': 104, 'f32x4.nearest': 106, 'f64x2.floor': 117,
  'i16x8.narrow_i32x4_s': 133, 'i16x8.extend_low_i8x16_s': 135, 'i16x8.extend_high_i8x16_s': 136,
  'i32x4.shl': 171, 'i32x4.shr_s': 172, 'i32x4.add': 174, 'i32x4.sub': 177, 'i32x4.mul': 181, 'i32x4.dot_i16x8_s': 186,
  'f32x4.abs': 224, 'f32x4.neg': 225, 'f32x4.sqrt': 227,
  'f32x4.add': 228, 'f32x4.sub': 229, 'f32x4.mul': 230, 'f32x4.div': 231, 'f32x4.min': 232, 'f32x4.max': 233,
  'f64x2.abs': 236, 'f64x2.add': 240, 'f64x2.sub': 241, 'f64x2.div': 243, 'f64x2.min': 244,
  'i32x4.trunc_sat_f32x4_s': 248, 'f32x4.convert_i32x4_s': 250, 'i32x4.trunc_sat_f64x2_s_zero': 252,
  // relaxed SIMD (opcodes 0x100 and up, so two LEB128 bytes): madd/nmadd compute ±a·b + c rounded once or twice; the
  // dots multiply int8 by 7-bit lanes (a second operand with its top bit set gives an implementation-defined result)
  'f32x4.relaxed_madd': 0x105, 'f32x4.relaxed_nmadd': 0x106, 'f64x2.relaxed_madd': 0x107, 'f64x2.relaxed_nmadd': 0x108,
  'i16x8.relaxed_dot_i8x16_i7x16_s': 0x112, 'i32x4.relaxed_dot_i8x16_i7x16_add_s': 0x113,
  'f32x4.replace_lane': 32, 'f32x4.demote_f64x2_zero': 94, 'f64x2.mul': 242,
  'i32x4.extend_low_i16x8_s': 167, 'i32x4.extend_high_i16x8_s': 168, 'f64x2.convert_low_i32x4_s': 254,
  'i32x4.max_s': 184, 'f64x2.pmin': 246, // quantizeRows (int8)
} as const;
export type SimdOp = keyof typeof SIMD;

/** Plain (one-byte) opcodes used by the kernels. */
const OP = {
  unreachable: 0x00, nop: 0x01, end: 0x0b, return: 0x0f, drop: 0x1a, select: 0x1b,
  'i32.eqz': 0x45, 'i32.eq': 0x46, 'i32.ne': 0x47, 'i32.lt_s': 0x48, 'i32.lt_u': 0x49, 'i32.gt_s': 0x4a, 'i32.le_s': 0x4c, 'i32.ge_s': 0x4e,
  'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c, 'i32.div_u': 0x6e, 'i32.and': 0x71, 'i32.or': 0x72, 'i32.shl': 0x74, 'i32.shr_s': 0x75, 'i32.shr_u': 0x76,
  'f32.add': 0x92, 'f32.sub': 0x93, 'f32.mul': 0x94, 'f32.max': 0x97, 'f64.add': 0xa0, 'f64.div': 0xa3, 'f32.demote_f64': 0xb6,
  'f32.eq': 0x5b, 'f32.lt': 0x5d, 'f32.div': 0x95, 'f64.sub': 0xa1, 'f64.mul': 0xa2, 'f64.sqrt': 0x9f, 'f64.promote_f32': 0xbb, 'f64.convert_i32_s': 0xb7,
  'f32.reinterpret_i32': 0xbe, // quantizeRows (int8)
} as const;
export type PlainOp = keyof typeof OP;

/** Memory access opcodes with their natural alignment (log2 bytes). */
const MEM = { 'i32.load': [0x28, 2], 'f32.load': [0x2a, 2], 'i32.load8_s': [0x2c, 0], 'i32.store': [0x36, 2], 'f32.store': [0x38, 2], 'i32.store8': [0x3a, 0] } as const;
export type MemOp = keyof typeof MEM;

/** A local variable (or parameter) handle. */
export interface Local { readonly index: number; readonly type: ValType }

/** Builds one function body: declare locals, then emit instructions in order. */
export class FunctionBuilder {
  readonly params: Local[];
  private readonly extra: ValType[] = [];
  private readonly code: number[] = [];
  private depth = 0;

  constructor(readonly paramTypes: readonly ValType[], readonly resultTypes: readonly ValType[]) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  /** A fresh local of `type`. */
  local(type: ValType): Local {
    const l = { index: this.paramTypes.length + this.extra.length, type };
    this.extra.push(type);
    return l;
  }

  op(name: PlainOp): this { this.code.push(OP[name]); return this; }
  simd(name: SimdOp): this { this.code.push(0xfd); uleb(this.code, SIMD[name]); return this; }
  /** f32x4/i32x4 lane ops with a lane immediate. */
  lane(name: 'f32x4.extract_lane' | 'i32x4.extract_lane' | 'f64x2.extract_lane' | 'f32x4.replace_lane', laneIdx: number): this { this.simd(name); this.code.push(laneIdx); return this; }
  /** i8x16.shuffle of the two v128 on the stack: byte i of the result is byte lanes[i] of their 32-byte concatenation. */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) throw new RangeError('forwardpass: wasm assembler: i8x16.shuffle needs 16 lane indices in 0..31');
    this.code.push(0xfd); uleb(this.code, 13); this.code.push(...lanes);
    return this;
  }

  /** Scalar load/store; `offset` is a constant byte offset added to the address on the stack. */
  mem(name: MemOp, offset = 0): this {
    const [code, align] = MEM[name];
    this.code.push(code, align); uleb(this.code, offset);
    return this;
  }
  /** v128 loads and stores with a constant byte offset (alignment hint: the access size). */
  vmem(name: 'v128.load' | 'v128.store' | 'v128.load32_splat' | 'v128.load16_splat' | 'v128.load8x8_s', offset = 0): this {
    const align = { 'v128.load': 4, 'v128.store': 4, 'v128.load32_splat': 2, 'v128.load16_splat': 1, 'v128.load8x8_s': 3 }[name];
    this.simd(name); this.code.push(align); uleb(this.code, offset);
    return this;
  }

  i32(v: number): this { this.code.push(0x41); sleb(this.code, v); return this; }
  f32(v: number): this { this.code.push(0x43); const b = new Uint8Array(new Float32Array([v]).buffer); this.code.push(...b); return this; }
  f64(v: number): this { this.code.push(0x44); this.code.push(...new Uint8Array(new Float64Array([v]).buffer)); return this; }
  /** v128.const from four f32 lanes. */
  v128f32(a: number, b = a, c = a, d = a): this { this.simd('v128.const'); this.code.push(...new Uint8Array(new Float32Array([a, b, c, d]).buffer)); return this; }

  get(l: Local): this { this.code.push(0x20); uleb(this.code, l.index); return this; }
  set(l: Local): this { this.code.push(0x21); uleb(this.code, l.index); return this; }
  tee(l: Local): this { this.code.push(0x22); uleb(this.code, l.index); return this; }

  /** `block` (empty type) ... `end`; `body` receives the label depth to break out of it with `br`. */
  block(body: () => void): this { this.code.push(0x02, 0x40); this.depth++; body(); this.depth--; this.code.push(0x0b); return this; }
  /** `loop` (empty type) ... `end`; a `br` to it jumps back to the top. */
  loop(body: () => void): this { this.code.push(0x03, 0x40); this.depth++; body(); this.depth--; this.code.push(0x0b); return this; }
  /** `if` (empty type) ... [`else` ...] `end`, consuming the i32 on the stack. */
  if(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40); this.depth++; then();
    if (otherwise) { this.code.push(0x05); otherwise(); }
    this.depth--; this.code.push(0x0b);
    return this;
  }
  /** Bulk memory: `memory.copy` (dst, src, n on the stack) and `memory.fill` (dst, byte value, n). */
  memoryCopy(): this { this.code.push(0xfc); uleb(this.code, 10); this.code.push(0x00, 0x00); return this; }
  memoryFill(): this { this.code.push(0xfc); uleb(this.code, 11); this.code.push(0x00); return this; }
  /** `call` function index `fn` (the index `ModuleBuilder.func` returned). */
  call(fn: number): this { this.code.push(0x10); uleb(this.code, fn); return this; }
  br(labelDepth: number): this { this.code.push(0x0c); uleb(this.code, labelDepth); return this; }
  brIf(labelDepth: number): this { this.code.push(0x0d); uleb(this.code, labelDepth); return this; }

  /**
   * `for (i = start; i < end; i += step) body()` as block/loop; `start`, `end` are emitters that push one i32.
   * Inside `body`, `br(1)`-style escapes are not needed: the helper keeps the structure.
   */
  forRange(i: Local, start: () => void, end: () => void, step: number, body: () => void): this {
    start(); this.set(i);
    return this.block(() => this.loop(() => {
      this.get(i); end(); this.op('i32.ge_s').brIf(1);
      body();
      this.get(i).i32(step).op('i32.add').set(i).br(0);
    }));
  }

  /** The code section entry: locals grouped by type, then the body and its final `end`. */
  encode(): number[] {
    if (this.depth !== 0) throw new Error('forwardpass: wasm assembler: unbalanced block/loop/if in a function body');
    const groups: number[][] = [];
    for (let i = 0; i < this.extra.length;) {
      let j = i;
      while (j < this.extra.length && this.extra[j] === this.extra[i]) j++;
      const g: number[] = []; uleb(g, j - i); g.push(this.extra[i]!);
      groups.push(g);
      i = j;
    }
    const body = [...vec(groups), ...this.code, OP.end];
    const out: number[] = []; uleb(out, body.length); out.push(...body);
    return out;
  }
}

/**
 * An imported memory's limits. `shared` left out means "as the fast path's memory" (memory.ts): shared, with the
 * 4 GiB maximum, wherever the runtime gives shared memory, so that every kernel module links to that one memory
 * (an import must match the memory's sharedness) and runs on worker threads too.
 */
export interface MemoryImport { module: string; name: string; initialPages: number; maximumPages?: number; shared?: boolean }

/** A module: one imported memory and exported functions. */
export class ModuleBuilder {
  private memory: MemoryImport | null = null;
  private readonly funcs: { name: string | null; fn: FunctionBuilder }[] = [];

  /** Import the linear memory as `module.name` (every kernel module reads and writes one memory). */
  importMemory(m: MemoryImport): this { this.memory = m; return this; }

  /** Add a function; exported as `name` unless null. Returns its index (for `call`). */
  func(name: string | null, params: readonly ValType[], results: readonly ValType[], build: (f: FunctionBuilder, ...p: Local[]) => void): number {
    const fn = new FunctionBuilder(params, results);
    build(fn, ...fn.params);
    this.funcs.push({ name, fn });
    return this.funcs.length - 1;
  }

  /** The module's bytes. */
  emit(): Uint8Array<ArrayBuffer> {
    const section = (id: number, payload: number[]): number[] => { const o = [id]; uleb(o, payload.length); o.push(...payload); return o; };
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const types = this.funcs.map(({ fn }) => [0x60, ...vec(fn.paramTypes.map((t) => [t])), ...vec(fn.resultTypes.map((t) => [t]))]);
    out.push(...section(1, vec(types)));
    if (this.memory) {
      const m = this.memory.shared === undefined && wasmMemoryShared() ? { maximumPages: WASM_MAX_PAGES, ...this.memory, shared: true } : this.memory;
      const flags = (m.maximumPages !== undefined ? 1 : 0) | (m.shared ? 2 : 0);
      if (m.shared && m.maximumPages === undefined) throw new Error('forwardpass: wasm assembler: a shared memory needs maximumPages');
      const limits = [flags]; uleb(limits, m.initialPages); if (m.maximumPages !== undefined) uleb(limits, m.maximumPages);
      out.push(...section(2, vec([[...str(m.module), ...str(m.name), 0x02, ...limits]])));
    }
    out.push(...section(3, vec(this.funcs.map((_, i) => { const o: number[] = []; uleb(o, i); return o; }))));
    const exports = this.funcs.flatMap(({ name }, i) => (name === null ? [] : [[...str(name), 0x00, ...(() => { const o: number[] = []; uleb(o, i); return o; })()]]));
    out.push(...section(7, vec(exports)));
    out.push(...section(10, vec(this.funcs.map(({ fn }) => fn.encode()))));
    return new Uint8Array(out);
  }
}
