// Emits the f32 GEMM module: register-blocked micro-kernels over packed weight panels (SIMD128). Reference twin:
// gemm in src/backends/cpu/kernels/matmul.ts. Legend: C [M, Np] += A [M, K] · B [K, Np], Np = N padded to NR;
// A row-major (as the tensor is: a plain copy), B packed in NR-column panels k-major (panel p holds (k, c) at
// p·K·NR + k·NR + c), C row-major with row stride Np.
import { FunctionBuilder, I32, type Local, ModuleBuilder, V128 } from './assembler.js';

/** Register tile: MR rows x NR columns (NR = two f32x4 vectors); chosen by measurement (see the commit). */
export const MR = 4, NR = 8;

/** Rows per block of A that `gemm` walks: MC rows x KC floats (64 KB) stay in L2 while the panels pass them. */
export const MC = 64;

/**
 * One function per row count mr (1..MR): `rows{mr}(a, b, c, blocks, panels, kc, lda, bStride, ldbk, ldc, bias, relu)`. For each
 * of `panels` column panels and, inside, each of `blocks` blocks of mr rows: loads the mr x 8 C tile, adds
 * Σ_k A[r, k]·B[k, c] over kc steps, adds the bias row at byte `bias` (when not 0) and applies relu (max with 0:
 * NaN kept) when `relu` is 1 (both only on the last K block), stores the tile.
 * Byte addresses: a = A row 0 at its first k (rows lda bytes apart), b = panel 0 at its first k (panels bStride
 * apart, successive k ldbk apart: 32 for packed panels, the row stride for a row-major B read in place),
 * apart), c = C row 0 col 0 (rows ldc apart). The panel loop is outside, so one B micro-panel (kc x 8) stays in L1
 * while the row blocks pass it.
 */
function emitRows(f: FunctionBuilder, mr: number, relaxed: boolean, p: Local[]): void {
  const [a, b, c, blocks, panels, kc, lda, bStride, ldbk, ldc, bias, relu] = p as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const j = f.local(I32), ib = f.local(I32), k = f.local(I32), ap = f.local(I32), bp = f.local(I32), cp = f.local(I32), cr = f.local(I32);
  const bj = f.local(I32), aStep = f.local(I32), cStep = f.local(I32);
  const rowOff: Local[] = [];
  for (let r = 1; r < mr; r++) { const l = f.local(I32); f.get(lda).i32(r).op('i32.mul').set(l); rowOff.push(l); }
  f.get(lda).i32(mr).op('i32.mul').set(aStep);
  f.get(ldc).i32(mr).op('i32.mul').set(cStep);
  const acc: Local[][] = [];
  for (let r = 0; r < mr; r++) acc.push([f.local(V128), f.local(V128)]);
  const b0 = f.local(V128), b1 = f.local(V128), av = f.local(V128);
  f.forRange(j, () => f.i32(0), () => f.get(panels), 1, () => {
    f.get(b).get(j).get(bStride).op('i32.mul').op('i32.add').set(bj);
    f.forRange(ib, () => f.i32(0), () => f.get(blocks), 1, () => {
      // cp = c + ib*cStep + j*32; bp = bj; ap = a + ib*aStep
      f.get(c).get(ib).get(cStep).op('i32.mul').op('i32.add').get(j).i32(5).op('i32.shl').op('i32.add').tee(cp).set(cr);
      f.get(bj).set(bp);
      f.get(a).get(ib).get(aStep).op('i32.mul').op('i32.add').set(ap);
      for (let r = 0; r < mr; r++) {
        f.get(cr).vmem('v128.load', 0).set(acc[r]![0]!);
        f.get(cr).vmem('v128.load', 16).set(acc[r]![1]!);
        if (r + 1 < mr) f.get(cr).get(ldc).op('i32.add').set(cr);
      }
      // k steps in order, one accumulator per output: every output sums the same sequence of products whatever its
      // row's tile (1..4 rows), so results do not depend on the batch size (a KV-cached step equals the full pass).
      f.get(kc).set(k);
      f.loop(() => {
        f.get(bp).vmem('v128.load', 0).set(b0);
        f.get(bp).vmem('v128.load', 16).set(b1);
        f.get(bp).get(ldbk).op('i32.add').set(bp);
        for (let r = 0; r < mr; r++) {
          f.get(ap);
          if (r > 0) f.get(rowOff[r - 1]!).op('i32.add');
          f.vmem('v128.load32_splat', 0).set(av);
          for (let h = 0; h < 2; h++) {
            const x = acc[r]![h]!;
            // relaxed: x = a·b + x in one instruction (an FMA where the machine has one: one rounding instead of
            // two, still one accumulator per output in k order, so batch invariance and the threads' bits hold)
            if (relaxed) f.get(av).get(h === 0 ? b0 : b1).get(x).simd('f32x4.relaxed_madd').set(x);
            else f.get(x).get(av).get(h === 0 ? b0 : b1).simd('f32x4.mul').simd('f32x4.add').set(x);
          }
        }
        f.get(ap).i32(4).op('i32.add').set(ap);
        f.get(k).i32(1).op('i32.sub').tee(k).brIf(0);
      });
      // last K block: + bias (a row vector, after the whole sum, as matmul then add rounds it), then relu
      f.get(bias).if(() => {
        for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) {
          f.get(acc[r]![h]!).get(bias).get(j).i32(5).op('i32.shl').op('i32.add').vmem('v128.load', 16 * h).simd('f32x4.add').set(acc[r]![h]!);
        }
      });
      f.get(relu).if(() => {
        for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) f.get(acc[r]![h]!).v128f32(0).simd('f32x4.max').set(acc[r]![h]!);
      });
      f.get(cp).set(cr);
      for (let r = 0; r < mr; r++) {
        f.get(cr).get(acc[r]![0]!).vmem('v128.store', 0);
        f.get(cr).get(acc[r]![1]!).vmem('v128.store', 16);
        if (r + 1 < mr) f.get(cr).get(ldc).op('i32.add').set(cr);
      }
    });
  });
}

/**
 * `gemm(a, b, c, M, panels, K, kb, lda, bStride, ldbk, ldc, bias, relu)`: the whole product C [M, panels·NR] += A · B
 * over the K blocks of `kb` steps in order (bias and relu fused into the last), and inside each, blocks of MC rows
 * split into MR-row tiles and a remainder tile (rows{mr} are functions 0..MR-1). One call is one task of the
 * thread pool: a thread given a range of panels or rows runs exactly the instructions one thread runs for them.
 */
function emitGemm(f: FunctionBuilder, p: Local[]): void {
  const [a, b, c, M, panels, K, kb, lda, bStride, ldbk, ldc, bias, relu] = p as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const k0 = f.local(I32), kc = f.local(I32), bv = f.local(I32), rl = f.local(I32), bk = f.local(I32), i0 = f.local(I32), mc = f.local(I32);
  const blocks = f.local(I32), rest = f.local(I32), ai = f.local(I32), ci = f.local(I32);
  const min = (x: () => void, y: () => void) => { x(); y(); x(); y(); f.op('i32.lt_s').op('select'); };
  f.forRange(k0, () => f.i32(0), () => f.get(K), 0, () => { // step 0: the body advances k0 by kc
    min(() => f.get(kb), () => f.get(K).get(k0).op('i32.sub')); f.set(kc);
    // the last K block: pass the bias and relu, else 0
    f.get(bias).i32(0).get(k0).get(kc).op('i32.add').get(K).op('i32.ge_s').tee(rl).op('select').set(bv);
    f.get(rl).get(relu).op('i32.and').set(rl);
    f.get(b).get(k0).get(ldbk).op('i32.mul').op('i32.add').set(bk);
    f.forRange(i0, () => f.i32(0), () => f.get(M), MC, () => {
      min(() => f.i32(MC), () => f.get(M).get(i0).op('i32.sub')); f.set(mc);
      f.get(mc).i32(MR).op('i32.div_u').set(blocks);
      f.get(mc).get(blocks).i32(MR).op('i32.mul').op('i32.sub').set(rest);
      f.get(a).get(i0).get(lda).op('i32.mul').op('i32.add').get(k0).i32(4).op('i32.mul').op('i32.add').set(ai);
      f.get(c).get(i0).get(ldc).op('i32.mul').op('i32.add').set(ci);
      const call = (mr: number, rowsArg: () => void) => {
        rowsArg(); f.get(panels).get(kc).get(lda).get(bStride).get(ldbk).get(ldc).get(bv).get(rl).call(mr - 1);
      };
      f.get(blocks).if(() => call(MR, () => f.get(ai).get(bk).get(ci).get(blocks)));
      // the remainder tile starts after the full ones
      for (let r = 1; r < MR; r++) {
        f.get(rest).i32(r).op('i32.eq').if(() => call(r, () => {
          f.get(ai).get(blocks).i32(MR).op('i32.mul').get(lda).op('i32.mul').op('i32.add').get(bk);
          f.get(ci).get(blocks).i32(MR).op('i32.mul').get(ldc).op('i32.mul').op('i32.add').i32(1);
        }));
      }
    });
    f.get(k0).get(kc).op('i32.add').set(k0);
  });
}

/** The GEMM module's bytes: exports rows1..rows{MR} and gemm; `relaxed` uses f32x4.relaxed_madd (relaxed SIMD) instead of mul+add. */
export function gemmModuleBytes(relaxed = false): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  for (let mr = 1; mr <= MR; mr++) m.func(`rows${mr}`, Array(12).fill(I32), [], (f, ...p) => emitRows(f, mr, relaxed, p));
  m.func('gemm', Array(13).fill(I32), [], (f, ...p) => emitGemm(f, p));
  return m.emit();
}

/**
 * The compiled GEMM module: the relaxed-SIMD one when `relaxed` is asked and this runtime validates its bytes, else
 * the plain SIMD128 one (`relaxed` in the answer says which). The caller asks for relaxed only where features.ts
 * detected it; validating the real module as well keeps an engine that knows relaxed_madd but not in this context
 * (or a detection bug) on the plain kernel instead of failing.
 */
export function compileGemmModule(relaxed: boolean, validate: (bytes: Uint8Array<ArrayBuffer>) => boolean = (b) => WebAssembly.validate(b)): { module: WebAssembly.Module; relaxed: boolean } {
  if (relaxed) {
    const bytes = gemmModuleBytes(true);
    if (validate(bytes)) return { module: new WebAssembly.Module(bytes), relaxed: true };
  }
  return { module: new WebAssembly.Module(gemmModuleBytes(false)), relaxed: false };
}

export type RowsFn = (a: number, b: number, c: number, blocks: number, panels: number, kc: number, lda: number, bStride: number, ldbk: number, ldc: number, bias: number, relu: number) => void;
export type GemmFn = (a: number, b: number, c: number, M: number, panels: number, K: number, kb: number, lda: number, bStride: number, ldbk: number, ldc: number, bias: number, relu: number) => void;
