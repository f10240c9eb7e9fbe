// im2col in Wasm: each output row's padding is one memory.fill and its valid run one memory.copy at column stride 1
// (an f32 load/store loop at other strides), instead of a JavaScript loop per element (which took longer than the
// product on 3- to 32-channel convs, and 6% of ResNet-18's time in its stride-2 7x7 stem, serial).
// Reference: packCols in conv.ts (the general case, which the tests compare it with).
// Legend as conv.ts: Cg channels of H x W at byte x, taps k = (c, kh, kw), cols [K, Ho·Wo] row-major at byte dst.
import { I32, type Local, ModuleBuilder } from './assembler.js';
import { chunkStart, parallelFor, sharedKernel } from './threads.js';

/** `im2col(x, dst, Cg, H, W, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW)`; pT may be negative (a task's later taps). */
export function im2colModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('im2col', Array(15).fill(I32), [], (f, ...p) => {
    const [x, dst, Cg, H, W, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW] = p as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const c = f.local(I32), kh = f.local(I32), kw = f.local(I32), ho = f.local(I32), q = f.local(I32), plane = f.local(I32);
    const shift = f.local(I32), lo = f.local(I32), hi = f.local(I32), ih = f.local(I32), r = f.local(I32), rowBytes = f.local(I32);
    const wo = f.local(I32), src = f.local(I32);
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
          // shift = kw·dW − pL; output columns [lo, hi) read input columns wo·sW + shift inside [0, W):
          // lo = ceil(−shift / sW) when shift < 0 (else 0), hi = floor((W − 1 − shift) / sW) + 1 when W − 1 − shift >= 0 (else
          // 0); div_u, whose quotient of a negative dividend select drops
          f.get(kw).get(dW).op('i32.mul').get(pL).op('i32.sub').set(shift);
          f.i32(0).get(shift).op('i32.sub').get(sW).op('i32.add').i32(1).op('i32.sub').get(sW).op('i32.div_u');
          f.i32(0).get(shift).i32(0).op('i32.lt_s').op('select').set(lo);
          clamp(lo, () => f.get(Wo));
          f.get(W).i32(1).op('i32.sub').get(shift).op('i32.sub').get(sW).op('i32.div_u').i32(1).op('i32.add');
          f.i32(0).get(W).i32(1).op('i32.sub').get(shift).op('i32.sub').i32(0).op('i32.ge_s').op('select').set(hi);
          clamp(hi, () => f.get(Wo));
          f.get(hi).get(lo).get(hi).get(lo).op('i32.gt_s').op('select').set(hi); // hi = max(hi, lo)
          f.forRange(ho, () => f.i32(0), () => f.get(Ho), 1, () => {
            f.get(ho).get(sH).op('i32.mul').get(kh).get(dH).op('i32.mul').op('i32.add').get(pT).op('i32.sub').set(ih);
            f.get(q).get(ho).get(rowBytes).op('i32.mul').op('i32.add').set(r);
            f.get(ih).i32(0).op('i32.lt_s').get(ih).get(H).op('i32.ge_s').op('i32.or').if(() => {
              f.get(r).i32(0).get(rowBytes).memoryFill();
            }, () => {
              f.get(r).i32(0).get(lo).i32(4).op('i32.mul').memoryFill();
              f.get(sW).i32(1).op('i32.eq').if(() => {
                f.get(r).get(lo).i32(4).op('i32.mul').op('i32.add');
                f.get(plane).get(ih).get(W).op('i32.mul').get(shift).op('i32.add').get(lo).op('i32.add').i32(4).op('i32.mul').op('i32.add');
                f.get(hi).get(lo).op('i32.sub').i32(4).op('i32.mul').memoryCopy();
              }, () => {
                // src = plane + (ih·W + shift + lo·sW)·4, stepping sW·4 bytes per output column
                f.get(plane).get(ih).get(W).op('i32.mul').get(shift).op('i32.add').get(lo).get(sW).op('i32.mul').op('i32.add').i32(4).op('i32.mul').op('i32.add').set(src);
                f.forRange(wo, () => f.get(lo), () => f.get(hi), 1, () => {
                  f.get(r).get(wo).i32(4).op('i32.mul').op('i32.add').get(src).mem('f32.load').mem('f32.store');
                  f.get(src).get(sW).i32(4).op('i32.mul').op('i32.add').set(src);
                });
              });
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

type Im2col = (x: number, dst: number, Cg: number, H: number, W: number, kH: number, kW: number, Ho: number, Wo: number, sH: number, sW: number, pT: number, pL: number, dH: number, dW: number) => void;
const kernel = sharedKernel<Im2col>(im2colModuleBytes, 'im2col');

/** The compiled im2col, over the fast path's memory (shared with the worker threads). */
export function im2colWasm(): Im2col {
  return kernel().fn;
}

/** im2col of `count` images at once (image i read at byte src(i), its cols written at dst(i)), one image per task. */
export function im2colEach(count: number, src: (i: number) => number, dst: (i: number) => number, Cg: number, H: number, W: number, kH: number, kW: number,
  Ho: number, Wo: number, sH: number, sW: number, pT: number, pL: number, dH: number, dW: number): void {
  parallelFor(kernel().id, count, (i, args) => args.set([src(i), dst(i), Cg, H, W, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW]));
}

/**
 * im2col split across `threads`: by input channels (each channel's kH·kW rows of cols are its own), or, with fewer
 * than 2 channels a thread (an RGB stem), by (channel, kernel row): a task given kernel rows kh0.. of channel c is
 * the call for one channel of those rows, its top padding pT − kh0·dH. The same arguments as im2colWasm's function,
 * the same bytes written.
 */
export function im2colThreaded(threads: number, x: number, dst: number, Cg: number, H: number, W: number, kH: number, kW: number, Ho: number, Wo: number,
  sH: number, sW: number, pT: number, pL: number, dH: number, dW: number): void {
  const { fn: run, id: fnId } = kernel(), plane = H * W * 4, rows = kW * Ho * Wo * 4; // rows: the bytes of cols one kernel row of one channel fills
  if (threads <= 1 || Cg * kH <= 1) { run(x, dst, Cg, H, W, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW); return; }
  if (Cg >= 2 * threads) {
    const tasks = Math.min(Cg, 4 * threads);
    parallelFor(fnId, tasks, (i, args) => {
      const c0 = chunkStart(i, Cg, tasks), c1 = chunkStart(i + 1, Cg, tasks);
      args.set([x + c0 * plane, dst + c0 * kH * rows, c1 - c0, H, W, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW]);
    });
    return;
  }
  parallelFor(fnId, Cg * kH, (i, args) => {
    const c = Math.floor(i / kH), kh = i - c * kH;
    args.set([x + c * plane, dst + i * rows, 1, H, W, 1, kW, Ho, Wo, sH, sW, pT - kh * dH, pL, dH, dW]);
  });
}
