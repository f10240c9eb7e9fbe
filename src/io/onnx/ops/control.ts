// ONNX control flow: If (then/else branches), Loop (trip count and/or condition, loop-carried values, scan
// outputs stacked) and Scan (opset 8 with a batch axis, opset 9+ with scan axes and directions). Bodies read
// values of the enclosing graphs by name (see src/io/onnx/subgraph.ts) and run on the host, one node after the
// other, through the same op implementations (OnnxOpImpl.cpuOnly: in a WebGPU session these nodes run on the CPU).
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { stack } from '../../../ops/transform.js';
import type { OnnxGraph, OnnxValueInfo } from '../model.js';
import { onnxElemDType } from '../values.js';
import { outerValues, ownInputs, runSubgraph, validateSubgraph } from '../subgraph.js';
import { registerOnnxOp, type InferContext, type NodeContext, type RunContext, type ValueType } from './registry.js';
import { small } from './util.js';

/** A graph attribute (required). */
function graphAttr(c: NodeContext, name: string): OnnxGraph {
  const a = c.node.attributes[name];
  if (a?.type !== 'graph') c.attrs.fail(name, 'a graph', a ? `a ${a.type} attribute` : 'none (it is required)');
  return a.value;
}

/** Output types from a body's declared outputs (from index `from`), unknown shapes with `lead` extra leading dims for scan outputs. */
function bodyTypes(c: InferContext, body: OnnxGraph, from = 0): ValueType[] {
  return body.outputs.slice(from).map((o) => ({ dtype: onnxElemDType(o.elemType) ?? c.inputs[0]?.dtype ?? 'float32' }));
}

/**
 * Stack per-iteration values of body output `out` along `axis` (reversed first when `reverse`). No iteration: an
 * empty tensor of the body output's declared shape with 0 steps at `axis` ([0] when that shape is not known).
 */
function stacked(parts: Tensor[], axis: number, reverse: boolean, out: OnnxValueInfo): Tensor {
  if (parts.length > 0) return stack(reverse ? [...parts].reverse() : parts, axis);
  const dims = out.shape?.every((d): d is number => typeof d === 'number') ? [...out.shape] : undefined;
  if (dims) dims.splice(Math.min(axis < 0 ? axis + dims.length + 1 : axis, dims.length), 0, 0);
  return small([], dims ?? [0], onnxElemDType(out.elemType) ?? 'float32', 'cpu');
}

const dispose = (ts: readonly Tensor[]) => ts.forEach((t) => t.dispose());

/** A scalar's truth (a bool or number tensor of one element). */
function truth(c: NodeContext, t: Tensor, what: string): boolean {
  if (t.size !== 1) c.fail(`${what} must hold one value, found shape ${shapeStr(t.shape)}`);
  return t.dataSync()[0] !== 0;
}

registerOnnxOp('If', {
  cpuOnly: true,
  validate: (c) => {
    const [a, b] = [graphAttr(c, 'then_branch'), graphAttr(c, 'else_branch')];
    if (a.outputs.length !== b.outputs.length) c.fail(`then_branch has ${a.outputs.length} outputs and else_branch ${b.outputs.length}; they must match`);
    validateSubgraph(a, c.opset);
    validateSubgraph(b, c.opset);
  },
  infer: (c) => bodyTypes(c, graphAttr(c, 'then_branch')),
  run: (c) => {
    const cond = truth(c, c.input(0), 'cond');
    return runSubgraph(c, graphAttr(c, cond ? 'then_branch' : 'else_branch'), [], outerValues(c.node, c.inputs));
  },
});

/** Loop's body signature against the node: (iteration, cond, N carried) in, (cond, N carried, K scans) out. */
function checkLoopBody(c: NodeContext, body: OnnxGraph, N: number): void {
  if (body.inputs.length !== N + 2) c.fail(`body takes ${body.inputs.length} inputs; a loop with ${N} loop-carried values needs ${N + 2}`);
  if (body.outputs.length < N + 1) c.fail(`body has ${body.outputs.length} outputs; a loop with ${N} loop-carried values needs at least ${N + 1}`);
}

registerOnnxOp('Loop', {
  cpuOnly: true,
  validate: (c) => {
    const body = graphAttr(c, 'body');
    checkLoopBody(c, body, ownInputs(c.node, c.node.inputs).length - 2);
    validateSubgraph(body, c.opset);
  },
  infer: (c) => bodyTypes(c, graphAttr(c, 'body'), 1),
  run: (c) => {
    const body = graphAttr(c, 'body');
    const own = ownInputs(c.node, c.inputs);
    const outer = outerValues(c.node, c.inputs);
    const trips = own[0] ? Number(own[0].dataSync()[0]) : Infinity;
    let cond = own[1] ? truth(c, own[1], 'cond') : true;
    const N = own.length - 2;
    checkLoopBody(c, body, N);
    const K = body.outputs.length - 1 - N;
    let carried = own.slice(2).map((t, i) => t ?? c.fail(`loop-carried input ${i} is missing`));
    let mine: Tensor[] = []; // carried values this op made (disposed when replaced)
    const scans: Tensor[][] = Array.from({ length: K }, () => []);
    try {
      for (let i = 0; i < trips && cond; i++) {
        const it = small([i], [], 'int32', 'cpu'), ct = small([1], [], 'bool', 'cpu');
        let outs: Tensor[];
        try {
          outs = runSubgraph(c, body, [it, ct, ...carried], outer);
        } finally {
          dispose([it, ct]);
        }
        cond = truth(c, outs[0]!, 'the body\'s condition output');
        outs[0]!.dispose();
        dispose(mine);
        carried = mine = outs.slice(1, 1 + N);
        outs.slice(1 + N).forEach((t, k) => scans[k]!.push(t));
      }
      const finals = carried.map((t) => (mine.includes(t) ? t : t.clone()));
      mine = [];
      return [...finals, ...scans.map((parts, k) => stacked(parts, 0, false, body.outputs[1 + N + k]!))];
    } finally {
      dispose(mine);
      scans.forEach(dispose);
    }
  },
});

/** Scan over `scans` (axis per input, direction per input) with states, as opset 9+ defines it; returns states then scan outputs. */
function scanOnce(c: RunContext, body: OnnxGraph, states: Tensor[], scans: Tensor[], outer: Map<string, Tensor>, inAxes: number[], inRev: boolean[], outAxes: number[], outRev: boolean[]): Tensor[] {
  const len = scans[0]?.shape[inAxes[0]!] ?? 0;
  scans.forEach((s, j) => { if (s.shape[inAxes[j]!] !== len) c.fail(`scan input ${j} ${shapeStr(s.shape)} has ${s.shape[inAxes[j]!]} steps along axis ${inAxes[j]}, scan input 0 has ${len}`); });
  const N = states.length;
  const K = body.outputs.length - N;
  if (body.inputs.length !== N + scans.length || K < 0) c.fail(`body takes ${body.inputs.length} inputs and gives ${body.outputs.length} outputs; ${N} states and ${scans.length} scan inputs need ${N + scans.length} inputs and at least ${N} outputs`);
  let carried = states, mine: Tensor[] = [];
  const parts: Tensor[][] = Array.from({ length: K }, () => []);
  try {
    for (let t = 0; t < len; t++) {
      const slices = scans.map((s, j) => s.select(inAxes[j]!, inRev[j] ? len - 1 - t : t));
      let outs: Tensor[];
      try {
        outs = runSubgraph(c, body, [...carried, ...slices], outer);
      } finally {
        dispose(slices);
      }
      dispose(mine);
      carried = mine = outs.slice(0, N);
      outs.slice(N).forEach((o, k) => parts[k]!.push(o));
    }
    const finals = carried.map((t) => (mine.includes(t) ? t : t.clone()));
    mine = [];
    return [...finals, ...parts.map((p, k) => {
      const axis = outAxes[k]!;
      const rank = (p[0]?.rank ?? 0) + 1;
      return stacked(p, axis < 0 ? axis + rank : axis, outRev[k]!, body.outputs[N + k]!);
    })];
  } finally {
    dispose(mine);
    parts.forEach(dispose);
  }
}

registerOnnxOp('Scan', {
  cpuOnly: true,
  validate: (c) => {
    const body = graphAttr(c, 'body');
    const M = c.attrs.int('num_scan_inputs');
    const N = ownInputs(c.node, c.node.inputs).length - M - (c.opset < 9 ? 1 : 0);
    if (M < 1 || N < 0) c.fail(`num_scan_inputs ${M} must be at least 1 and at most the number of inputs`);
    if (body.inputs.length !== N + M || body.outputs.length < N) c.fail(`body takes ${body.inputs.length} inputs and gives ${body.outputs.length} outputs; ${N} states and ${M} scan inputs need ${N + M} inputs and at least ${N} outputs`);
    validateSubgraph(body, c.opset);
  },
  infer: (c) => bodyTypes(c, graphAttr(c, 'body')),
  run: (c) => {
    const body = graphAttr(c, 'body');
    const M = c.attrs.int('num_scan_inputs');
    const outer = outerValues(c.node, c.inputs);
    const list = (name: string, n: number, dflt: number) => {
      const v = c.attrs.ints(name, new Array<number>(n).fill(dflt));
      if (v.length !== n) c.attrs.fail(name, `${n} values`, JSON.stringify(v));
      return v;
    };
    const own = ownInputs(c.node, c.inputs);
    const K = () => body.outputs.length - (own.length - M - (c.opset < 9 ? 1 : 0)); // scan outputs: body outputs past the states
    if (c.opset >= 9) {
      const tensors = own.map((t, i) => t ?? c.fail(`input ${i} is missing`));
      const states = tensors.slice(0, tensors.length - M), scans = tensors.slice(tensors.length - M);
      const inAxes = list('scan_input_axes', M, 0).map((a, j) => (a < 0 ? a + scans[j]!.rank : a));
      return scanOnce(c, body, states, scans, outer, inAxes, list('scan_input_directions', M, 0).map((d) => d === 1), list('scan_output_axes', K(), 0), list('scan_output_directions', K(), 0).map((d) => d === 1));
    }
    // opset 8: inputs (sequence_lens, states..., scans...) with a leading batch axis; scans along axis 1
    if (own[0]) {
      const lens = Array.from(own[0].dataSync(), Number);
      const full = own[own.length - 1]?.shape[1];
      if (lens.some((l) => l !== full)) c.fail(`sequence_lens ${JSON.stringify(lens)} shorter than the sequence (${full}) are not supported`);
    }
    const tensors = own.slice(1).map((t, i) => t ?? c.fail(`input ${i + 1} is missing`));
    const B = tensors[0]?.shape[0] ?? 0;
    const dirs = list('directions', M, 0).map((d) => d === 1);
    const perBatch: Tensor[][] = [];
    try {
      for (let b = 0; b < B; b++) {
        const rows = tensors.map((t) => t.select(0, b));
        try {
          perBatch.push(scanOnce(c, body, rows.slice(0, rows.length - M), rows.slice(rows.length - M), outer, new Array<number>(M).fill(0), dirs, new Array<number>(K()).fill(0), new Array<boolean>(K()).fill(false)));
        } finally {
          dispose(rows);
        }
      }
      const n = perBatch[0]?.length ?? 0;
      return Array.from({ length: n }, (_, k) => stack(perBatch.map((outs) => outs[k]!), 0));
    } finally {
      perBatch.forEach(dispose);
    }
  },
});
