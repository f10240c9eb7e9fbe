// ONNX Einsum as a typed-array kernel (cpuOnly), computed in float64: the equation's labels name dims; a label
// repeated within one operand takes its diagonal, labels missing from the output are summed, and `...` stands for
// broadcast leading dims. Without `->` the output is the labels that appear once, alphabetically, after `...`.
// A direct loop over every (output, summed) index: a reference, not a contraction planner.
import { contiguousStrides, numel, shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { registerOnnxOp, type NodeContext } from './registry.js';
import { hostOut, valuesOf } from './host.js';

const ELL = '.'; // one label standing for the whole ellipsis in parsed terms

interface Parsed { inputs: string[]; output: string }

function parse(c: NodeContext, n: number): Parsed {
  const eq = c.attrs.string('equation').replace(/\s+/g, '');
  const [lhs, rhs] = eq.includes('->') ? eq.split('->') as [string, string] : [eq, undefined];
  const terms = lhs.split(',').map((t) => t.replace(/\.\.\./g, ELL));
  if (terms.length !== n) c.fail(`equation '${eq}' names ${terms.length} operands, the node has ${n} inputs`);
  for (const t of [...terms, (rhs ?? '').replace(/\.\.\./g, ELL)]) {
    if (!/^[a-zA-Z.]*$/.test(t) || t.split(ELL).length > 2) c.fail(`equation '${eq}' must use letters and at most one '...' per term`);
  }
  let output: string;
  if (rhs !== undefined) output = rhs.replace(/\.\.\./g, ELL);
  else {
    const counts = new Map<string, number>();
    for (const t of terms) for (const l of t) if (l !== ELL) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = (terms.some((t) => t.includes(ELL)) ? ELL : '') + [...counts].filter(([, k]) => k === 1).map(([l]) => l).sort().join('');
  }
  for (const l of output) if (l !== ELL && !terms.some((t) => t.includes(l))) c.fail(`output label '${l}' of '${eq}' is in no operand`);
  return { inputs: terms, output };
}

registerOnnxOp('Einsum', {
  cpuOnly: true,
  validate: (c) => { parse(c, c.node.inputs.length); },
  run: (c) => {
    const xs: Tensor[] = c.node.inputs.map((_, i) => c.input(i));
    const { inputs, output } = parse(c, xs.length);
    // the ellipsis dims of each operand, right-aligned and broadcast
    let ell: number[] = [];
    const ellOf = xs.map((x, i) => {
      const t = inputs[i]!, named = t.length - (t.includes(ELL) ? 1 : 0);
      if (t.includes(ELL) ? x.rank < named : x.rank !== named) c.fail(`operand ${i} ${shapeStr(x.shape)} does not fit term '${t.replace(ELL, '...')}'`);
      const e = t.includes(ELL) ? x.shape.slice(t.indexOf(ELL), t.indexOf(ELL) + x.rank - named) : [];
      const r = Math.max(ell.length, e.length);
      ell = Array.from({ length: r }, (_, k) => {
        const a = ell[k - (r - ell.length)] ?? 1, b = e[k - (r - e.length)] ?? 1;
        if (a !== b && a !== 1 && b !== 1) c.fail(`the '...' dims of the operands do not broadcast: ${shapeStr(ell)} and ${shapeStr(e)}`);
        return a === 1 ? b : a;
      });
      return e;
    });
    // one axis per letter (sizes must agree) and one per ellipsis dim
    const size = new Map<string, number>();
    const axesOf = (t: string, rank: number, e: number[]): string[] => t.split('').flatMap((l) => (l === ELL ? e.map((_, k) => `.${k + ell.length - e.length}`) : [l])).slice(0, rank);
    xs.forEach((x, i) => axesOf(inputs[i]!, x.rank, ellOf[i]!).forEach((a, d) => {
      const dim = x.shape[d]!;
      if (a.startsWith(ELL)) { size.set(a, ell[Number(a.slice(1))]!); return; }
      const seen = size.get(a);
      if (seen !== undefined && seen !== dim) c.fail(`label '${a}' is ${seen} in one place and ${dim} in operand ${i} ${shapeStr(x.shape)}`);
      size.set(a, dim);
    }));
    ell.forEach((d, k) => size.set(`.${k}`, d));
    const outAxes = output.split('').flatMap((l) => (l === ELL ? ell.map((_, k) => `.${k}`) : [l]));
    const sumAxes = [...size.keys()].filter((a) => !outAxes.includes(a));
    const all = [...outAxes, ...sumAxes], dims = all.map((a) => size.get(a)!);
    // for each operand: stride of each loop axis into its data (0 where it does not appear or broadcasts)
    const strides = xs.map((x, i) => {
      const st = contiguousStrides(x.shape), s = new Array<number>(all.length).fill(0);
      axesOf(inputs[i]!, x.rank, ellOf[i]!).forEach((a, d) => { if (x.shape[d] !== 1 || size.get(a) === 1) s[all.indexOf(a)]! += st[d]!; });
      return s;
    });
    const vals = xs.map(valuesOf);
    const outSize = numel(dims.slice(0, outAxes.length)), inner = numel(dims.slice(outAxes.length));
    const out = new Float64Array(outSize);
    const idx = new Array<number>(all.length).fill(0);
    for (let o = 0; o < outSize * inner; o++) {
      let rest = o;
      for (let k = all.length - 1; k >= 0; k--) { idx[k] = rest % dims[k]!; rest = Math.floor(rest / dims[k]!); }
      let p = 1;
      for (let i = 0; i < xs.length; i++) {
        let off = 0;
        for (let k = 0; k < all.length; k++) off += idx[k]! * strides[i]![k]!;
        p *= vals[i]![off]!;
      }
      out[Math.floor(o / inner)] += p;
    }
    return [hostOut(c, out, dims.slice(0, outAxes.length), xs[0]!.dtype)];
  },
});
