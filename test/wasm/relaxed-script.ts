// Run by relaxed.test.ts in a child `node --experimental-wasm-relaxed-simd` (Node 20 validates relaxed SIMD only
// with that flag): the f32 GEMM with f32x4.relaxed_madd against the typed-array twins on awkward shapes, the variant
// names that ran, and the bit-for-bit promises the GEMM keeps (batch invariance, fused linear = matmul + add, threads
// = one thread, linearW8's many-row path = its few-row kernel). Prints one JSON line; failures are listed in it.
// Tolerance as test/wasm/gemm.test.ts: (K + 2)·2⁻²⁴·(Σ_k |x_k·w_k| + |b|) + 2⁻²⁴·|twin|, the recursive-summation
// bound of f32 sums with two roundings per step; a fused multiply-add rounds once per step, so the bound covers it.
import * as fp from '../../src/index.js';
import { setGemmThreadsMinFlops } from '../../src/backends/cpu/wasm/gemm.js';
import { whenThreadsReady } from '../../src/backends/cpu/wasm/threads.js';
import { ModuleBuilder, F32, V128 } from '../../src/backends/cpu/wasm/assembler.js';
import { randomArray } from '../helpers.js';

const U = 2 ** -24;
const failures: string[] = [];
const variants = new Set<string>();
let checked = 0;
fp.addOpHook((e) => { if (e.variant) variants.add(e.variant); });

const rand = (shape: number[], seed: number) => fp.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), { shape });
const data = (t: fp.Tensor) => Array.from(t.dataSync() as Float32Array);

/** Run `f` on the fast path, then on the typed-array twin; the variants the fast run took. */
function both(f: () => fp.Tensor): { fast: number[]; ref: number[]; ran: string[] } {
  variants.clear();
  fp.setCpuFastPath(true);
  const fast = data(f());
  const ran = [...variants];
  fp.setCpuFastPath(false);
  const ref = data(f());
  fp.setCpuFastPath(true);
  return { fast, ref, ran };
}

/** Every output within (K + 2)·U·scale[p] + U·|ref[p]| of the twin (scale = Σ|x·w| + |b| per output). */
function within(what: string, fast: number[], ref: number[], scale: (p: number) => number, K: number): void {
  checked++;
  if (fast.length !== ref.length) { failures.push(`${what}: ${fast.length} outputs vs ${ref.length}`); return; }
  for (let p = 0; p < ref.length; p++) {
    const tol = (K + 2) * U * scale(p) + U * Math.abs(ref[p]!);
    if (!(Math.abs(fast[p]! - ref[p]!) <= tol)) { failures.push(`${what}: output ${p} fast ${fast[p]} twin ${ref[p]} tolerance ${tol}`); return; }
  }
}

function expectVariants(what: string, ran: string[], want: RegExp): void {
  checked++;
  if (ran.length === 0 || !ran.every((v) => want.test(v))) failures.push(`${what}: variants ${JSON.stringify(ran)}, expected ${want}`);
}

function sameBits(what: string, a: number[], b: number[]): void {
  checked++;
  if (a.length !== b.length || a.some((v, i) => !Object.is(v, b[i]))) failures.push(`${what}: not bit for bit`);
}

/** Σ_k |x[i, k]·w[j, k]| + |b[j]| for x [M, K], w [N, K]. */
const absScale = (x: number[], w: number[], b: number[] | null, N: number, K: number) => (p: number): number => {
  const i = Math.floor(p / N), j = p % N;
  let t = b ? Math.abs(b[j]!) : 0;
  for (let k = 0; k < K; k++) t += Math.abs(x[i * K + k]! * w[j * K + k]!);
  return t;
};

// Does this machine's relaxed_madd fuse? (1 + 2⁻¹²)² - (1 + 2⁻¹¹) is 2⁻²⁴ rounded once, 0 rounded twice.
const probe = new ModuleBuilder();
const e = 1 + 2 ** -12;
probe.func('f', [], [F32], (f) => { f.v128f32(e).v128f32(e).v128f32(-(1 + 2 ** -11)).simd('f32x4.relaxed_madd').lane('f32x4.extract_lane', 0); });
const madd = fp.detectWasmFeatures().relaxedSimd ? (new WebAssembly.Instance(new WebAssembly.Module(probe.emit())).exports.f as () => number)() : NaN;

// every relaxed opcode the assembler knows validates here, with its operand count
const ops = { 'f32x4.relaxed_madd': 3, 'f32x4.relaxed_nmadd': 3, 'f64x2.relaxed_madd': 3, 'f64x2.relaxed_nmadd': 3, 'i16x8.relaxed_dot_i8x16_i7x16_s': 2, 'i32x4.relaxed_dot_i8x16_i7x16_add_s': 3 } as const;
const opsValidate = Object.fromEntries(Object.entries(ops).map(([op, n]) => {
  const m = new ModuleBuilder();
  m.func('f', Array(n).fill(V128), [V128], (f, ...p) => { for (const l of p) f.get(l); f.simd(op as keyof typeof ops); });
  return [op, WebAssembly.validate(m.emit())];
}));

// the fast path on whatever FORWARDPASS_WASM says (as test/wasm/gemm.test.ts does): its kernels are what is tested
fp.setCpuFastPath(true);
fp.setNumThreads(1);
const relaxed = fp.wasmRelaxedSimdEnabled();
const want = relaxed ? 'relaxed' : 'simd';

// linear, awkward shapes: 1, 3, 17, 255, tails of the 4-row and 8-column tiles, K beyond one 256-step block
for (const [M, K, N] of [[1, 1, 1], [1, 3, 17], [3, 17, 1], [5, 17, 255], [17, 255, 3], [4, 8, 8], [9, 300, 23], [70, 520, 33], [1, 784, 255], [2, 17, 9]] as const) {
  const x = rand([M, K], M * 7 + K), w = rand([N, K], N * 13 + K), b = rand([N], N);
  const xd = data(x), wd = data(w), bd = data(b);
  for (const activation of ['none', 'relu'] as const) {
    const r = both(() => fp.linear(x, w, b, { activation }));
    within(`linear M=${M} K=${K} N=${N} ${activation}`, r.fast, r.ref, absScale(xd, wd, bd, N, K), K);
    expectVariants(`linear M=${M} K=${K} N=${N}`, r.ran, new RegExp(`^linear-wasm-${want}-4x8$`));
  }
  const r = both(() => fp.linear(x, w));
  within(`linear M=${M} K=${K} N=${N} no bias`, r.fast, r.ref, absScale(xd, wd, null, N, K), K);
}

// matmul: batch with broadcast, B read in place ([K, N]) and transposed (packed panels)
for (const [Ba, Bb, M, K, N] of [[2, 1, 3, 17, 255], [1, 3, 17, 1, 3], [3, 3, 1, 255, 17], [2, 2, 5, 33, 9]] as const) {
  const a = rand([Ba, M, K], 60 + M), b = rand([Bb, K, N], 61 + N), bt = rand([Bb, N, K], 62 + N);
  const ad = data(a), bd = data(b), btd = data(bt);
  const scale = (bRow: (t: number, k: number, j: number) => number) => (p: number): number => {
    const t = Math.floor(p / (M * N)), i = Math.floor(p / N) % M, j = p % N;
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.abs(ad[((Ba > 1 ? t : 0) * M + i) * K + k]! * bRow(Bb > 1 ? t : 0, k, j));
    return s;
  };
  let r = both(() => fp.matmul(a, b));
  within(`matmul ${Ba}x${M}x${K} · ${Bb}x${K}x${N}`, r.fast, r.ref, scale((t, k, j) => bd[(t * K + k) * N + j]!), K);
  expectVariants(`matmul ${Ba}x${M}x${K}`, r.ran, new RegExp(`^matmul-wasm-${want}-4x8$`));
  r = both(() => fp.matmul(a, bt.transpose(1, 2)));
  within(`matmul transB ${Ba}x${M}x${K} · ${Bb}x${N}x${K}`, r.fast, r.ref, scale((t, k, j) => btd[(t * N + j) * K + k]!), K);
}

// conv2d (the same GEMM over im2col columns): inputs in [-1, 1], so Σ|x·w| ≤ K per output
for (const [C, O, S, k, pad] of [[3, 5, 17, 3, 1], [2, 3, 3, 1, 0], [17, 9, 7, 3, 2]] as const) {
  const x = rand([2, C, S, S], 70 + C), w = rand([O, C, k, k], 71 + O), b = rand([O], 72);
  const K = C * k * k;
  const r = both(() => fp.conv2d(x, w, b, { padding: pad }));
  within(`conv2d C=${C} O=${O} S=${S} k=${k}`, r.fast, r.ref, () => K + 1, K);
  expectVariants(`conv2d C=${C} O=${O}`, r.ran, new RegExp(`^conv2d-wasm-${want}-4x8`));
}

// batch invariance: each row of a 37-row product has the bits of the same row computed alone
{
  const K = 600, N = 21, x = rand([37, K], 40), w = rand([N, K], 41), b = rand([N], 42);
  const all = data(fp.linear(x, w, b));
  for (const i of [0, 3, 4, 35, 36]) sameBits(`batch invariance row ${i}`, data(fp.linear(x.slice(0, i, i + 1), w, b)), all.slice(i * N, (i + 1) * N));
}

// fused linear = relu(matmul(x, wᵀ) + b) bit for bit
for (const [M, K, N] of [[1, 600, 21], [7, 33, 9], [64, 300, 40]] as const) {
  const x = rand([M, K], 50 + M), w = rand([N, K], 51), b = rand([N], 52);
  sameBits(`fused linear M=${M}`, data(fp.linear(x, w, b, { activation: 'relu' })), data(fp.relu(fp.add(fp.matmul(x, w.transpose(0, 1)), b))));
}

// linearW8: 17 rows (dequantized panels + the f32 GEMM, kept on plain SIMD128) equal rows alone (the few-row kernel)
{
  const N = 37, K = 96, M = 17;
  const w = rand([N, K], 80), [wq, ws] = fp.quantizeRows(w, { block: 32 }), x = rand([M, K], 81), bias = rand([N], 82);
  const all = data(fp.linearW8(x, wq, ws, bias, { block: 32 }));
  for (const [r0, r1] of [[0, 1], [0, 3], [16, 17]] as const) {
    sameBits(`linearW8 rows ${r0}..${r1}`, data(fp.linearW8(x.narrow(0, r0, r1 - r0).contiguous(), wq, ws, bias, { block: 32 })), all.slice(r0 * N, r1 * N));
  }
}

// two threads (every GEMM split, small ones too) give the bits of one thread, on the same module
{
  const x = rand([70, 520], 90), w = rand([33, 520], 91), b = rand([33], 92);
  const one = data(fp.linear(x, w, b));
  fp.setNumThreads(2);
  await whenThreadsReady();
  setGemmThreadsMinFlops(0);
  variants.clear();
  const two = data(fp.linear(x, w, b));
  sameBits('2 threads', two, one);
  expectVariants('2 threads', [...variants], new RegExp(`^linear-wasm-${want}-4x8-threads2$`));
  setGemmThreadsMinFlops();
  fp.setNumThreads(1);
}

// switched off: the plain SIMD128 module (a second compiled module), still within the tolerance
{
  fp.setWasmRelaxedSimd(false);
  const x = rand([5, 17], 5), w = rand([255, 17], 6);
  const r = both(() => fp.linear(x, w));
  within('relaxed switched off', r.fast, r.ref, absScale(data(x), data(w), null, 255, 17), 17);
  expectVariants('relaxed switched off', r.ran, /^linear-wasm-simd-4x8$/);
  fp.setWasmRelaxedSimd(true);
}

process.stdout.write(`${JSON.stringify({ features: fp.detectWasmFeatures(), relaxed, madd, opsValidate, checked, failures })}\n`);
