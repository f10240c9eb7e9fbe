// im2col for stride-1-wide convs in Wasm: each output row's valid run is one memory.copy and the padding one
// memory.fill, instead of a JavaScript loop per element (which took longer than the product on 3- to 32-channel
// convs). Reference: packCols in conv.ts (the general case, which the tests compare it with).
// Legend as conv.ts: Cg channels of H x W at byte x, taps k = (c, kh, kw), cols [K, Ho·Wo] row-major at byte dst.
import { I32, type Local, ModuleBuilder } from './assembler.js';
import { wasmMemory } from './memory.js';
import { parallelFor, shareKernels } from './threads.js';

/** `im2col(x, dst, Cg, H, W, kH, kW, Ho, Wo, sH, pT, pL, dH, dW)` for column stride 1. */
export function im2colModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('im2col', Array(14).fill(I32), [], (f, ...p) => {
    const [x, dst, Cg, H, W, kH, kW, Ho, Wo, sH, pT, pL, dH, dW] = p as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const c = f.local(I32), kh = f.local(I32), kw = f.local(I32), ho = f.local(I32), q = f.local(I32), plane = f.local(I32);
    const shift = f.local(I32), lo = f.local(I32), hi = f.local(I32), ih = f.local(I32), r = f.local(I32), rowBytes = f.local(I32);
    const clamp = (v: Local, top: () => void) => { // v = min(max(v, 0), top)
      f.get(v).i32(0).get(v).i32(0).op('i32.gt_s').op('select').set(v);
      top(); f.get(v); top(); f.get(v).op('i32.lt_s').op('select').set(v);
    };
    f.get(Wo).i32(4).op('i32.mul').set(rowBytes);
    f.get(dst).set(q);
    f.forRange(c, () => f.i32(0), () => f.get(Cg), 1, () => {
      f.get(x).get(c).get(H).op('i32.mul').get(W).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(plane);
      f.forRange(kh, () => f.i32(0), () => f.get(kH), 1, () => {
        f.forRange(kw, () => f.i32(0), () => f.get(kW), 1, () => {
          // shift = kw·dW − pL; output columns [lo, hi) read input columns wo + shift inside [0, W)
          f.get(kw).get(dW).op('i32.mul').get(pL).op('i32.sub').set(shift);
          f.i32(0).get(shift).op('i32.sub').set(lo);
          clamp(lo, () => f.get(Wo));
          f.get(W).get(shift).op('i32.sub').set(hi);
          clamp(hi, () => f.get(Wo));
          f.get(hi).get(lo).get(hi).get(lo).op('i32.gt_s').op('select').set(hi); // hi = max(hi, lo)
          f.forRange(ho, () => f.i32(0), () => f.get(Ho), 1, () => {
            f.get(ho).get(sH).op('i32.mul').get(kh).get(dH).op('i32.mul').op('i32.add').get(pT).op('i32.sub').set(ih);
            f.get(q).get(ho).get(rowBytes).op('i32.mul').op('i32.add').set(r);
            f.get(ih).i32(0).op('i32.lt_s').get(ih).get(H).op('i32.ge_s').op('i32.or').if(() => {
              f.get(r).i32(0).get(rowBytes).memoryFill();
            }, () => {
              f.get(r).i32(0).get(lo).i32(4).op('i32.mul').memoryFill();
              f.get(r).get(lo).i32(4).op('i32.mul').op('i32.add');
              f.get(plane).get(ih).get(W).op('i32.mul').get(shift).op('i32.add').get(lo).op('i32.add').i32(4).op('i32.mul').op('i32.add');
              f.get(hi).get(lo).op('i32.sub').i32(4).op('i32.mul').memoryCopy();
              f.get(r).get(hi).i32(4).op('i32.mul').op('i32.add').i32(0).get(Wo).get(hi).op('i32.sub').i32(4).op('i32.mul').memoryFill();
            });
          });
          f.get(q).get(Ho).get(rowBytes).op('i32.mul').op('i32.add').set(q);
        });
      });
    });
  });
  return m.emit();
}

type Im2col = (x: number, dst: number, Cg: number, H: number, W: number, kH: number, kW: number, Ho: number, Wo: number, sH: number, pT: number, pL: number, dH: number, dW: number) => void;
let fn: Im2col | null = null, fnId = -1;

/** The compiled im2col (column stride 1), over the fast path's memory (shared with the worker threads). */
export function im2colWasm(): Im2col {
  if (!fn) {
    const module = new WebAssembly.Module(im2colModuleBytes());
    const exports = new WebAssembly.Instance(module, { env: { memory: wasmMemory() } }).exports;
    [fnId] = shareKernels(module, exports, ['im2col']) as [number];
    fn = exports.im2col as Im2col;
  }
  return fn;
}

/** im2col of `count` images at once (image i read at byte src(i), its cols written at dst(i)), one image per task. */
export function im2colEach(count: number, src: (i: number) => number, dst: (i: number) => number, Cg: number, H: number, W: number, kH: number, kW: number,
  Ho: number, Wo: number, sH: number, pT: number, pL: number, dH: number, dW: number): void {
  im2colWasm();
  parallelFor(fnId, count, (i, args) => args.set([src(i), dst(i), Cg, H, W, kH, kW, Ho, Wo, sH, pT, pL, dH, dW]));
}

/**
 * im2col split by input channels across `threads` (each channel's kH·kW rows of cols are its own): the same
 * arguments as im2colWasm's function, the same bytes written.
 */
export function im2colThreaded(threads: number, x: number, dst: number, Cg: number, H: number, W: number, kH: number, kW: number, Ho: number, Wo: number,
  sH: number, pT: number, pL: number, dH: number, dW: number): void {
  const run = im2colWasm(), tasks = Math.min(Cg, threads);
  if (tasks <= 1) { run(x, dst, Cg, H, W, kH, kW, Ho, Wo, sH, pT, pL, dH, dW); return; }
  const plane = H * W * 4, rows = kH * kW * Ho * Wo * 4;
  parallelFor(fnId, tasks, (i, args) => {
    const c0 = Math.floor((i * Cg) / tasks), c1 = Math.floor(((i + 1) * Cg) / tasks);
    args.set([x + c0 * plane, dst + c0 * rows, c1 - c0, H, W, kH, kW, Ho, Wo, sH, pT, pL, dH, dW]);
  });
}
