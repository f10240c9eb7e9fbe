// Subgraphs of control-flow nodes (If's branches, Loop's and Scan's bodies): which values of the enclosing graphs
// they read, and a small synchronous interpreter that runs one on CPU tensors.
//
// OUTER-SCOPE VALUES. A body may read any value of the graphs around it by name. At load, withImplicitInputs
// appends those names to the control node's inputs (after its own), so that ordering, pruning, constant folding
// and freeing treat them as ordinary inputs; the op reads them back as the last `outerNames(node).length` inputs.
import type { Tensor } from '../../tensor/tensor.js';
import type { OnnxGraph, OnnxNode } from './model.js';
import { nodeLabel, topoSort } from './plan.js';
import { getOnnxOp, nodeContext, type NodeContext } from './ops/index.js';
import { onnxTensorToTensor } from './values.js';

/** The subgraphs held in a node's attributes. */
export function subgraphsOf(node: OnnxNode): OnnxGraph[] {
  return Object.values(node.attributes).flatMap((a) => (a.type === 'graph' ? [a.value] : []));
}

/** Names a graph reads but does not define (its inputs, initializers and node outputs), nested bodies included. */
function freeNames(g: OnnxGraph): string[] {
  const defined = new Set<string>(['', ...g.inputs.map((v) => v.name), ...g.initializers.map((t) => t.name)]);
  for (const n of g.nodes) for (const o of n.outputs) defined.add(o);
  const out = new Set<string>();
  for (const n of g.nodes) for (const x of [...n.inputs, ...outerNames(n)]) if (!defined.has(x)) out.add(x);
  for (const o of g.outputs) if (!defined.has(o.name)) out.add(o.name);
  return [...out];
}

/** The values of enclosing graphs that a node's subgraphs read, sorted ([] for a node without subgraphs). */
export function outerNames(node: OnnxNode): string[] {
  const gs = subgraphsOf(node);
  return gs.length === 0 ? [] : [...new Set(gs.flatMap(freeNames))].sort();
}

/** The graph with each control-flow node's outer-scope reads appended to its inputs (see the header). */
export function withImplicitInputs(g: OnnxGraph): OnnxGraph {
  if (!g.nodes.some((n) => subgraphsOf(n).length > 0)) return g;
  return { ...g, nodes: g.nodes.map((n) => { const extra = outerNames(n); return extra.length ? { ...n, inputs: [...n.inputs, ...extra] } : n; }) };
}

/** The control node's own inputs (without the appended outer-scope values). */
export function ownInputs<T>(node: OnnxNode, inputs: readonly T[]): T[] {
  return inputs.slice(0, node.inputs.length - outerNames(node).length);
}

/** The outer-scope values handed to a control node, by name. */
export function outerValues(node: OnnxNode, inputs: readonly (Tensor | undefined)[]): Map<string, Tensor> {
  const names = outerNames(node);
  const at = node.inputs.length - names.length;
  const m = new Map<string, Tensor>();
  names.forEach((n, i) => { const t = inputs[at + i]; if (t) m.set(n, t); });
  return m;
}

/** Load-time checks of a body: every op registered (named by the session's own check) and each node's validate hook. */
export function validateSubgraph(g: OnnxGraph, opset: number): void {
  for (const [i, n] of withImplicitInputs(g).nodes.entries()) {
    const impl = getOnnxOp(n.opType, n.domain);
    impl?.validate?.(nodeContext(n, nodeLabel(n, i), opset));
  }
}

/**
 * Run a body once on CPU tensors: `inputs` bind the body's inputs in order, `outer` the enclosing values it reads.
 * Resolves to the body's outputs (new tensors the caller owns); every intermediate is disposed.
 */
export function runSubgraph(c: NodeContext, body: OnnxGraph, inputs: readonly Tensor[], outer: ReadonlyMap<string, Tensor>): Tensor[] {
  if (inputs.length !== body.inputs.length) c.fail(`its body '${body.name}' takes ${body.inputs.length} inputs, given ${inputs.length}`);
  const g = withImplicitInputs(body);
  const env = new Map<string, Tensor>(outer);
  const owned: Tensor[] = [];
  body.inputs.forEach((v, i) => env.set(v.name, inputs[i]!));
  for (const t of g.initializers) {
    const v = onnxTensorToTensor(t, `initializer '${t.name}' of body '${body.name}'`);
    owned.push(v);
    env.set(t.name, v);
  }
  try {
    for (const { node, index } of topoSort(g, outer.keys())) {
      const label = `${c.label}/${nodeLabel(node, index)}`;
      const impl = getOnnxOp(node.opType, node.domain);
      if (!impl) return c.fail(`its body runs the unsupported op ${node.opType} (node '${label}')`);
      const base = nodeContext(node, label, c.opset);
      const ins = node.inputs.map((x) => (x ? env.get(x) : undefined));
      const list = (i: number) => (ins[i] ? Array.from(ins[i]!.dataSync(), Number) : undefined);
      const outs = impl.run({ ...base, inputs: ins, device: 'cpu', state: undefined, ints: list, floats: list, input: (i) => ins[i] ?? base.fail(`input ${i} is required but missing`) });
      node.outputs.forEach((o, k) => {
        let t = outs[k];
        if (!t) return;
        if (ins.includes(t) || [...env.values()].includes(t)) t = t.reshape(t.shape); // an op may hand back an input
        owned.push(t);
        if (o) env.set(o, t);
      });
    }
    return body.outputs.map((o) => {
      const t = env.get(o.name) ?? c.fail(`its body '${body.name}' does not compute its output '${o.name}'`);
      return t.clone();
    });
  } finally {
    for (const t of owned) t.dispose();
  }
}
