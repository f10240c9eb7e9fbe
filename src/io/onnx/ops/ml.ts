// ai.onnx.ml ops as typed-array kernels (cpuOnly): Binarizer, ArrayFeatureExtractor and TreeEnsemble (ai.onnx.ml
// opset 5; post_transform NONE only). A model may import ai.onnx.ml alone (no default-domain ops).
import { f16ToF32 } from '../../../tensor/dtype.js';
import { shapeStr } from '../../../tensor/shape.js';
import type { OnnxTensor } from '../model.js';
import { registerOnnxOp, type NodeContext } from './registry.js';
import { FLOAT_DTYPES, hostOut, requireDType, valuesOf } from './host.js';

const ML = 'ai.onnx.ml';

registerOnnxOp('Binarizer', {
  cpuOnly: true,
  infer: (c) => [{ dtype: c.inputs[0]?.dtype ?? 'float32', ...(c.inputs[0]?.shape ? { shape: [...c.inputs[0].shape] } : {}) }],
  run: (c) => {
    const x = c.input(0), th = c.attrs.float('threshold', 0);
    const v = valuesOf(x);
    const out = Float64Array.from(v, (e) => (Number.isNaN(e) ? NaN : e > th ? 1 : 0));
    return [hostOut(c, out, x.shape, x.dtype)];
  },
}, ML);

registerOnnxOp('ArrayFeatureExtractor', {
  // the columns Y of X's last dim: [..., N] -> [..., len(Y)] (a 1-D X gives [1, len(Y)])
  cpuOnly: true,
  run: (c) => {
    const x0 = c.input(0), cols = valuesOf(c.input(1));
    const x = x0.rank === 1 ? x0.reshape([1, x0.size]) : x0;
    const n = x.shape[x.rank - 1]!, rows = x.size / Math.max(n, 1);
    for (const j of Array.from(cols)) if (!(j >= 0 && j < n)) c.fail(`index ${j} is out of range for the last dim of ${shapeStr(x0.shape)} (expected 0..${n - 1})`);
    const v = valuesOf(x);
    const out = new Float64Array(rows * cols.length);
    for (let r = 0; r < rows; r++) for (let k = 0; k < cols.length; k++) out[r * cols.length + k] = v[r * n + cols[k]!]!;
    return [hostOut(c, out, [...x.shape.slice(0, -1), cols.length], x.dtype)];
  },
}, ML);

/** A tensor attribute's values as numbers (float16 decoded). */
function tensorNumbers(t: OnnxTensor | undefined): number[] {
  if (!t) return [];
  return Array.from(t.data as ArrayLike<number | bigint>, (e) => (t.dataType === 'float16' ? f16ToF32(Number(e)) : Number(e)));
}

const COMPARE: ((x: number, s: number) => boolean)[] = [
  (x, s) => x <= s, (x, s) => x < s, (x, s) => x >= s, (x, s) => x > s, (x, s) => x === s, (x, s) => x !== s,
];

interface Ensemble {
  modes: number[]; splits: number[]; features: number[]; trueIds: number[]; falseIds: number[];
  trueLeaf: number[]; falseLeaf: number[]; missingTrue: number[]; members: Set<number>[];
  leafTargets: number[]; leafWeights: number[]; roots: number[]; aggregate: number; targets: number;
}

function readEnsemble(c: NodeContext): Ensemble {
  const a = c.attrs;
  if (a.int('post_transform', 0) !== 0) c.fail(`post_transform ${a.int('post_transform', 0)} is not supported (only 0, NONE)`);
  const modes = tensorNumbers(a.tensor('nodes_modes'));
  const e: Ensemble = {
    // thresholds rounded to float32 as X is held (double X is computed as float32: 1.2 <= 1.2 must stay true)
    modes, splits: tensorNumbers(a.tensor('nodes_splits')).map(Math.fround), features: a.ints('nodes_featureids'),
    trueIds: a.ints('nodes_truenodeids'), falseIds: a.ints('nodes_falsenodeids'), trueLeaf: a.ints('nodes_trueleafs'), falseLeaf: a.ints('nodes_falseleafs'),
    missingTrue: a.ints('nodes_missing_value_tracks_true', []), members: [], leafTargets: a.ints('leaf_targetids'),
    leafWeights: tensorNumbers(a.tensor('leaf_weights')), roots: a.ints('tree_roots'), aggregate: a.intOf('aggregate_function', [0, 1, 2, 3], 1), targets: a.int('n_targets'),
  };
  if (modes.some((m) => !(m >= 0 && m <= 6))) c.fail(`nodes_modes must be 0..6, found ${JSON.stringify(modes)}`);
  // membership sets, NaN-separated, in the order of the MEMBER nodes
  const mv = tensorNumbers(a.tensor('membership_values', null));
  let set = new Set<number>();
  for (const m of mv) {
    if (Number.isNaN(m)) { e.members.push(set); set = new Set(); } else set.add(Math.fround(m));
  }
  const byNode: Set<number>[] = [];
  let k = 0;
  modes.forEach((m, i) => { if (m === 6) byNode[i] = e.members[k++] ?? c.fail(`membership_values holds ${e.members.length} sets, fewer than the MEMBER nodes`); });
  e.members = byNode;
  const n = modes.length;
  for (const list of [e.splits, e.features, e.trueIds, e.falseIds, e.trueLeaf, e.falseLeaf]) if (list.length !== n) c.fail(`the nodes_* attributes must each describe ${n} nodes`);
  if (e.leafWeights.length !== e.leafTargets.length) c.fail('leaf_weights and leaf_targetids must have one length');
  if (e.leafTargets.some((t) => !(t >= 0 && t < e.targets))) c.fail(`leaf_targetids must be within 0..${e.targets - 1}`);
  return e;
}

registerOnnxOp('TreeEnsemble', {
  cpuOnly: true,
  validate: (c) => { readEnsemble(c); },
  infer: (c) => (requireDType(c, 0, FLOAT_DTYPES, 'X'), [{ dtype: c.inputs[0]?.dtype ?? 'float32' }]),
  run: (c) => {
    const e = readEnsemble(c);
    const x = c.input(0);
    if (x.rank !== 2) c.fail(`X must be [N, features], found ${shapeStr(x.shape)}`);
    const [rows, feats] = [x.shape[0]!, x.shape[1]!];
    const v = valuesOf(x);
    const big = 3.4028234663852886e38;
    const out = new Float64Array(rows * e.targets).fill(e.aggregate === 2 ? big : e.aggregate === 3 ? -big : 0);
    for (let r = 0; r < rows; r++) {
      for (const root of e.roots) {
        // a root whose two branches are the same leaf is that leaf
        let node = root, leaf = -1;
        if (e.trueLeaf[root] && e.falseLeaf[root] && e.trueIds[root] === e.falseIds[root]) leaf = e.trueIds[root]!;
        for (let steps = 0; leaf < 0; steps++) {
          if (steps > e.modes.length) c.fail(`tree ${root} has a cycle`);
          const f = e.features[node]!;
          if (!(f >= 0 && f < feats)) c.fail(`node ${node} reads feature ${f}, beyond the ${feats} of X`);
          const xv = v[r * feats + f]!;
          const m = e.modes[node]!;
          const hit = (Number.isNaN(xv) && !!e.missingTrue[node]) || (m === 6 ? e.members[node]!.has(xv) : COMPARE[m]!(xv, e.splits[node]!));
          const [next, isLeaf] = hit ? [e.trueIds[node]!, e.trueLeaf[node]!] : [e.falseIds[node]!, e.falseLeaf[node]!];
          if (isLeaf) leaf = next;
          else node = next;
        }
        const p = r * e.targets + e.leafTargets[leaf]!, w = e.leafWeights[leaf]!;
        out[p] = e.aggregate === 1 ? out[p]! + w : e.aggregate === 0 ? out[p]! + w / e.roots.length : e.aggregate === 2 ? Math.min(out[p]!, w) : Math.max(out[p]!, w);
      }
    }
    return [hostOut(c, out, [rows, e.targets], x.dtype)];
  },
}, ML);

