// Emits the f32 GEMM module: register-blocked micro-kernels over packed weight panels (SIMD128). Reference twin:
// gemm in src/backends/cpu/kernels/matmul.ts. Legend: C [M, Np] += A [M, K] · B [K, Np], Np = N padded to NR;
// A row-major (as the tensor is: a plain copy), B packed in NR-column panels k-major (panel p holds (k, c) at
// p·K·NR + k·NR + c), C row-major with row stride Np.
import { FunctionBuilder, I32, type Local, ModuleBuilder, V128 } from './assembler.js';

/** Register tile: MR rows x NR columns (NR = two f32x4 vectors); chosen by measurement (see the commit). */
export const MR = 4, NR = 8;

/**
 * One function per row count mr (1..MR): `rows{mr}(a, b, c, blocks, panels, kc, lda, bStride, ldc, relu)`. For each
 * of `panels` column panels and, inside, each of `blocks` blocks of mr rows: loads the mr x 8 C tile, adds
 * Σ_k A[r, k]·B[k, c] over kc steps, applies relu (max with 0: NaN kept) when `relu` is 1, stores the tile.
 * Byte addresses: a = A row 0 at its first k (rows lda bytes apart), b = panel 0 at its first k (panels bStride
 * apart), c = C row 0 col 0 (rows ldc apart). The panel loop is outside, so one B micro-panel (kc x 8) stays in L1
 * while the row blocks pass it.
 */
function emitRows(f: FunctionBuilder, mr: number, fma: boolean, p: Local[]): void {
  const [a, b, c, blocks, panels, kc, lda, bStride, ldc, relu] = p as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const j = f.local(I32), ib = f.local(I32), k = f.local(I32), ap = f.local(I32), bp = f.local(I32), cp = f.local(I32), cr = f.local(I32);
  const bj = f.local(I32), aStep = f.local(I32), cStep = f.local(I32);
  const rowOff: Local[] = [];
  for (let r = 1; r < mr; r++) { const l = f.local(I32); f.get(lda).i32(r).op('i32.mul').set(l); rowOff.push(l); }
  f.get(lda).i32(mr).op('i32.mul').set(aStep);
  f.get(ldc).i32(mr).op('i32.mul').set(cStep);
  const split = mr === 1 ? 4 : mr === 2 ? 2 : 1;
  const acc: Local[][][] = [];
  for (let t = 0; t < split; t++) {
    acc.push([]);
    for (let r = 0; r < mr; r++) acc[t]!.push([f.local(V128), f.local(V128)]);
  }
  const b0 = f.local(V128), b1 = f.local(V128), av = f.local(V128);
  f.forRange(j, () => f.i32(0), () => f.get(panels), 1, () => {
    f.get(b).get(j).get(bStride).op('i32.mul').op('i32.add').set(bj);
    f.forRange(ib, () => f.i32(0), () => f.get(blocks), 1, () => {
      // cp = c + ib*cStep + j*32; bp = bj; ap = a + ib*aStep
      f.get(c).get(ib).get(cStep).op('i32.mul').op('i32.add').get(j).i32(5).op('i32.shl').op('i32.add').tee(cp).set(cr);
      f.get(bj).set(bp);
      f.get(a).get(ib).get(aStep).op('i32.mul').op('i32.add').set(ap);
      for (let r = 0; r < mr; r++) {
        f.get(cr).vmem('v128.load', 0).set(acc[0]![r]![0]!);
        f.get(cr).vmem('v128.load', 16).set(acc[0]![r]![1]!);
        if (r + 1 < mr) f.get(cr).get(ldc).op('i32.add').set(cr);
      }
      // k steps: `split` independent accumulator sets take k, k+1, ... in turn, so that thin tiles (1 or 2 rows:
      // 2 or 4 accumulator chains) still keep 8 multiply-add chains in flight; the sets are added at the end.
      const step = (s: number) => {
        f.get(bp).vmem('v128.load', 32 * s).set(b0);
        f.get(bp).vmem('v128.load', 32 * s + 16).set(b1);
        for (let r = 0; r < mr; r++) {
          f.get(ap);
          if (r > 0) f.get(rowOff[r - 1]!).op('i32.add');
          f.vmem('v128.load32_splat', 4 * s).set(av);
          for (let h = 0; h < 2; h++) {
            const x = acc[s]![r]![h]!;
            if (fma) f.get(av).get(h === 0 ? b0 : b1).get(x).simd('f32x4.relaxed_madd').set(x);
            else f.get(x).get(av).get(h === 0 ? b0 : b1).simd('f32x4.mul').simd('f32x4.add').set(x);
          }
        }
      };
      const advance = (n: number) => {
        f.get(ap).i32(4 * n).op('i32.add').set(ap);
        f.get(bp).i32(4 * NR * n).op('i32.add').set(bp);
      };
      if (split > 1) {
        for (let t = 1; t < split; t++) for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) f.v128f32(0).set(acc[t]![r]![h]!);
        f.get(kc).i32(Math.log2(split)).op('i32.shr_u').tee(k).if(() => f.loop(() => {
          for (let t = 0; t < split; t++) step(t);
          advance(split);
          f.get(k).i32(1).op('i32.sub').tee(k).brIf(0);
        }));
        f.get(kc).i32(split - 1).op('i32.and').tee(k).if(() => f.loop(() => {
          step(0);
          advance(1);
          f.get(k).i32(1).op('i32.sub').tee(k).brIf(0);
        }));
        for (let t = 1; t < split; t++) for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) f.get(acc[0]![r]![h]!).get(acc[t]![r]![h]!).simd('f32x4.add').set(acc[0]![r]![h]!);
      } else {
        f.get(kc).set(k);
        f.loop(() => {
          step(0);
          advance(1);
          f.get(k).i32(1).op('i32.sub').tee(k).brIf(0);
        });
      }
      f.get(relu).if(() => {
        for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) f.get(acc[0]![r]![h]!).v128f32(0).simd('f32x4.max').set(acc[0]![r]![h]!);
      });
      f.get(cp).set(cr);
      for (let r = 0; r < mr; r++) {
        f.get(cr).get(acc[0]![r]![0]!).vmem('v128.store', 0);
        f.get(cr).get(acc[0]![r]![1]!).vmem('v128.store', 16);
        if (r + 1 < mr) f.get(cr).get(ldc).op('i32.add').set(cr);
      }
    });
  });
}

/** The GEMM module's bytes: exports rows1..rows{MR}; `fma` uses f32x4.relaxed_madd (relaxed SIMD) instead of mul+add. */
export function gemmModuleBytes(fma = false): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  for (let mr = 1; mr <= MR; mr++) m.func(`rows${mr}`, [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32], [], (f, ...p) => emitRows(f, mr, fma, p));
  return m.emit();
}

export type RowsFn = (a: number, b: number, c: number, blocks: number, panels: number, kc: number, lda: number, bStride: number, ldc: number, relu: number) => void;
