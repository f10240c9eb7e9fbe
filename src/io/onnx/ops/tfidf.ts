// ONNX TfIdfVectorizer (opset 9) over integer tokens (pool_int64s; string pools are refused: forwardpass holds no
// strings) as a typed-array kernel (cpuOnly). For every skip distance 1..max_skip_count+1 and every start position,
// the n-grams of lengths min_gram_length..max_gram_length found in the pool are counted at their ngram_indexes slot;
// unigrams are counted for the first distance only (skips do not change them). Modes: TF (counts), IDF (weight, or 1,
// where the count is non-zero), TFIDF (count times weight). Output: float [C'] or [N, C'], C' = max(ngram_indexes) + 1.
import { shapeStr } from '../../../tensor/shape.js';
import { registerOnnxOp, type NodeContext } from './registry.js';
import { INT_DTYPES, hostOut, requireDType, valuesOf } from './host.js';

const MODES = ['TF', 'IDF', 'TFIDF'] as const;

interface Pool {
  /** `n:t0,t1,...` -> gram id (its position in the pool, all lengths counted). */
  ids: Map<string, number>;
  outIndex: number[];
  size: number;
}

function readPool(c: NodeContext): Pool {
  const a = c.attrs;
  if (a.has('pool_strings')) c.fail('pool_strings is not supported (forwardpass holds no string tensors; use pool_int64s)');
  const pool = a.ints('pool_int64s');
  const counts = a.ints('ngram_counts');
  const outIndex = a.ints('ngram_indexes');
  const minN = a.int('min_gram_length'), maxN = a.int('max_gram_length');
  a.int('max_skip_count');
  a.stringOf('mode', MODES);
  if (!(minN >= 1 && maxN >= minN)) c.fail(`gram lengths must satisfy 1 <= min_gram_length <= max_gram_length, found ${minN} and ${maxN}`);
  const ids = new Map<string, number>();
  let id = 0;
  counts.forEach((start, i) => {
    const n = i + 1, end = i + 1 < counts.length ? counts[i + 1]! : pool.length;
    if (start > end || end > pool.length) c.fail(`ngram_counts ${JSON.stringify(counts)} do not fit the pool of ${pool.length} values`);
    for (let p = start; p + n <= end; p += n, id++) if (n >= minN && n <= maxN) ids.set(`${n}:${pool.slice(p, p + n).join(',')}`, id);
  });
  if (outIndex.length < id) c.fail(`ngram_indexes holds ${outIndex.length} slots for ${id} n-grams`);
  const w = a.floats('weights', []);
  const size = Math.max(-1, ...outIndex) + 1;
  if (w.length && w.length < size) c.fail(`weights holds ${w.length} values for ${size} outputs`);
  return { ids, outIndex, size };
}

registerOnnxOp('TfIdfVectorizer', {
  cpuOnly: true,
  validate: (c) => { readPool(c); },
  infer: (c) => (requireDType(c, 0, INT_DTYPES, 'X (tokens)'), [{ dtype: 'float32' }]),
  run: (c) => {
    const x = c.input(0);
    if (x.rank < 1 || x.rank > 2) c.fail(`X must be [C] or [N, C], found ${shapeStr(x.shape)}`);
    const { ids, outIndex, size } = readPool(c);
    const minN = c.attrs.int('min_gram_length'), maxN = c.attrs.int('max_gram_length'), skips = c.attrs.int('max_skip_count');
    const mode = c.attrs.stringOf('mode', MODES), w = c.attrs.floats('weights', []);
    const rows = x.rank === 2 ? x.shape[0]! : 1, len = x.shape[x.rank - 1]!;
    const v = valuesOf(x);
    const freq = new Float32Array(rows * size);
    for (let r = 0; r < rows; r++) {
      let firstN = minN;
      for (let d = 1; d <= skips + 1; d++) {
        for (let s = 0; s < len; s++) {
          const gram: number[] = [];
          for (let n = 1; n <= maxN && s + (n - 1) * d < len; n++) {
            gram.push(v[r * len + s + (n - 1) * d]!);
            const id = n >= firstN ? ids.get(`${n}:${gram.join(',')}`) : undefined;
            if (id !== undefined) freq[r * size + outIndex[id]!]!++;
          }
        }
        if (firstN === 1) firstN = 2; // unigrams once
        if (firstN > maxN) break;
      }
    }
    for (let p = 0; p < freq.length; p++) {
      const f = freq[p]!, wi = w.length ? w[p % size]! : 1;
      freq[p] = mode === 'TF' ? f : mode === 'IDF' ? (f > 0 ? wi : 0) : f * wi;
    }
    return [hostOut(c, freq, x.rank === 2 ? [rows, size] : [size], 'float32')];
  },
});
