// Two int8 products per float64 multiply: the CPU's fast path for per-channel int8 linear layers. Plain JS has no
// SIMD, so the scalar multiply count bounds int8 speed; packing weight rows j and j+1 into one int32 lane pair
// p = w[j] + w[j+1]·2^23 makes x·p = x·w[j] + x·w[j+1]·2^23 one exact float64 product. Sums of up to 256 such
// products keep |Σ x·w[j]| ≤ 128·128·255 < 2^22, so each 255-wide K block splits back exactly into two int sums
// (hi = round(acc / 2^23), lo = acc − hi·2^23): the result equals int32 accumulation bit for bit.
// Legend: M = rows, K = true inner size, Kp = padded K (row stride of wq and xq), N = out features, Np = ceil(N/2)
// packed pair rows of K lanes each; C [M, N] = xq · wqᵀ as exact integers.

const LANE = 8388608; // 2^23
const INV_LANE = 1 / LANE;
/** K values per exact block: 128·128·255 = 4,177,920 < 2^22 (even for -128 · -128), which keeps the low lane recoverable. */
const KB = 255;

interface Packed {
  offset: number;
  N: number;
  K: number;
  Kp: number;
  pairs: Int32Array;
}

/** Packed copies by weight storage: built once per weight, dropped with it (weak keys). */
const cache = new WeakMap<object, Packed[]>();
let cacheBytes = 0;
const release = typeof FinalizationRegistry !== 'undefined' ? new FinalizationRegistry<number>((n) => { cacheBytes -= n; }) : null;

/** Bytes held by packed weight copies (2 per int8 weight; freed when their weight is collected). */
export function packedInt8CacheBytes(): number {
  return cacheBytes;
}

/** The lane-packed form of wq [N, Kp] (first K columns) at `offset` in `data`, built on first use. */
export function packedWeights(data: Int8Array, offset: number, N: number, K: number, Kp: number): Int32Array {
  let list = cache.get(data);
  const hit = list?.find((p) => p.offset === offset && p.N === N && p.K === K && p.Kp === Kp);
  if (hit) return hit.pairs;
  const Np = (N + 1) >> 1;
  const pairs = new Int32Array(Np * K);
  for (let p = 0; p < Np; p++) {
    const r0 = offset + 2 * p * Kp, r1 = r0 + Kp, has1 = 2 * p + 1 < N, o = p * K;
    for (let k = 0; k < K; k++) pairs[o + k] = data[r0 + k]! + (has1 ? data[r1 + k]! * LANE : 0);
  }
  if (!list) cache.set(data, (list = []));
  list.push({ offset, N, K, Kp, pairs });
  cacheBytes += pairs.byteLength;
  release?.register(data, pairs.byteLength);
  return pairs;
}

let xScratch = new Float64Array(0);

/**
 * C[i, j] = Σ_k xq[i, k] · wq[j, k] (exact integers, as float64) for x int8 rows at `xo` with stride Kp and the
 * packed weights of `packedWeights`. Four pair rows (eight outputs) per pass share each x load.
 */
export function dotsPacked(M: number, N: number, K: number, Kp: number, xq: Int8Array, xo: number, pairs: Int32Array, c: Float64Array): void {
  if (xScratch.length < K) xScratch = new Float64Array(K);
  const x = xScratch;
  const Np = (N + 1) >> 1, Np4 = Np - (Np % 4);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) x[k] = xq[xo + i * Kp + k]!;
    const ci = i * N;
    for (let p = 0; p < Np4; p += 4) quad(x, K, pairs, p, c, ci, N);
    for (let p = Np4; p < Np; p++) single(x, K, pairs, p, c, ci, N);
  }
}

/** Four pair rows p..p+3 against one x row: outputs 2p..2p+7 (those below N). */
function quad(x: Float64Array, K: number, w: Int32Array, p: number, c: Float64Array, ci: number, N: number): void {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  const r0 = p * K, r1 = r0 + K, r2 = r1 + K, r3 = r2 + K;
  for (let kb = 0; kb < K; kb += KB) {
    const ke = Math.min(K, kb + KB);
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (let k = kb; k < ke; k++) {
      const v = x[k]!;
      a0 += v * w[r0 + k]!; a1 += v * w[r1 + k]!; a2 += v * w[r2 + k]!; a3 += v * w[r3 + k]!;
    }
    let h = Math.round(a0 * INV_LANE); s1 += h; s0 += a0 - h * LANE;
    h = Math.round(a1 * INV_LANE); s3 += h; s2 += a1 - h * LANE;
    h = Math.round(a2 * INV_LANE); s5 += h; s4 += a2 - h * LANE;
    h = Math.round(a3 * INV_LANE); s7 += h; s6 += a3 - h * LANE;
  }
  const o = ci + 2 * p, n = N - 2 * p;
  c[o] = s0; c[o + 1] = s1; c[o + 2] = s2; c[o + 3] = s3; c[o + 4] = s4; c[o + 5] = s5;
  if (n > 6) c[o + 6] = s6;
  if (n > 7) c[o + 7] = s7;
}

/** One pair row p: outputs 2p and 2p+1 (when below N). */
function single(x: Float64Array, K: number, w: Int32Array, p: number, c: Float64Array, ci: number, N: number): void {
  let s0 = 0, s1 = 0;
  const r = p * K;
  for (let kb = 0; kb < K; kb += KB) {
    const ke = Math.min(K, kb + KB);
    let a = 0;
    for (let k = kb; k < ke; k++) a += x[k]! * w[r + k]!;
    const h = Math.round(a * INV_LANE);
    s1 += h; s0 += a - h * LANE;
  }
  c[ci + 2 * p] = s0;
  if (2 * p + 1 < N) c[ci + 2 * p + 1] = s1;
}
