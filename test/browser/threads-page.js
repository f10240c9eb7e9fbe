// Runs in headless Chromium, served with or without cross-origin isolation: a large matmul and conv2d on the CPU fast
// path with 1 and 2 threads (bit for bit the same), and the kernel variants the trace names; whether relaxed SIMD is
// detected, and the matmul with it switched off (the plain SIMD128 GEMM: its variant, and its largest difference from
// the relaxed one); in window.__result.
import * as fp from '/dist/index.js';

const bitsEqual = (a, b) => {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

async function run() {
  const result = {
    isolated: self.crossOriginIsolated === true, sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined', fastPath: fp.cpuFastPathEnabled(), defaultThreads: fp.getNumThreads(),
    variants: [], same: true, userAgent: navigator.userAgent, features: fp.detectWasmFeatures(), relaxed: fp.wasmRelaxedSimdEnabled(), plainVariants: [], plainDiff: -1,
  };
  const a = fp.rand([128, 300], { seed: 1 }), b = fp.rand([300, 256], { seed: 2 });
  const x = fp.rand([1, 32, 56, 56], { seed: 3 }), w = fp.rand([32, 32, 3, 3], { seed: 4 });
  const ops = () => [fp.matmul(a, b), fp.conv2d(x, w, null, { padding: 1 })];
  fp.setNumThreads(1);
  const one = ops().map((t) => t.dataSync());
  fp.setNumThreads(2);
  const off = fp.addOpHook((e) => { if (e.variant) result.variants.push(e.variant); });
  // the workers start while this page yields to its event loop: run a few times, letting them come up in between
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 30));
    const two = ops().map((t) => t.dataSync());
    result.same &&= two.every((t, k) => bitsEqual(t, one[k]));
  }
  off();
  result.variants = [...new Set(result.variants)];
  // relaxed SIMD switched off: the plain module runs (its own name), within the GEMMs' float32 rounding of the relaxed result
  fp.setWasmRelaxedSimd(false);
  const offPlain = fp.addOpHook((e) => { if (e.variant) result.plainVariants.push(e.variant); });
  const plain = fp.matmul(a, b).dataSync();
  offPlain();
  fp.setWasmRelaxedSimd(true);
  result.plainDiff = plain.reduce((m, v, i) => Math.max(m, Math.abs(v - one[0][i])), 0);
  return result;
}

run().then((r) => { window.__result = r; }, (e) => { window.__result = { error: String(e && e.stack || e) }; });
