// The execution order of an ONNX graph: nodes sorted topologically (the file's order is checked, not trusted: a
// cycle or a value nobody produces is an error), nodes that no graph output depends on dropped, and the one
// load-time message listing every op type the registry lacks.
import type { OnnxGraph, OnnxModel, OnnxNode } from './model.js';
import { getOnnxOp, registeredOnnxOps } from './ops/index.js';

/** node.name, or `${opType}_${index}` for an unnamed node (index in the file). */
export function nodeLabel(node: OnnxNode, index: number): string {
  return node.name || `${node.opType}_${index}`;
}

/** The version of the default ONNX domain a model imports (an error when it imports none). */
export function defaultOpset(model: OnnxModel): number {
  const e = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  // a model without default-domain nodes (ai.onnx.ml, ai.onnx.preview.training ops only) need not import the
  // default domain: opset 0
  const noDefaultNodes = model.opsetImport.length > 0 && model.graph.nodes.every((n) => n.domain !== '' && n.domain !== 'ai.onnx');
  if (!e && noDefaultNodes) return 0;
  if (!e) throw new Error(`forwardpass: onnx: the model imports no version of the default ONNX domain (opset_import lists ${model.opsetImport.map((o) => `'${o.domain}' ${o.version}`).join(', ') || 'nothing'})`);
  return e.version;
}

/**
 * Nodes in an order where every input is produced before it is read (file order among ready nodes), with each
 * node's index in the file. `outer`: values a subgraph may read from its enclosing graphs. Throws on a value read but never produced, a value produced twice, or a cycle.
 */
export function topoSort(graph: OnnxGraph, outer: Iterable<string> = []): { node: OnnxNode; index: number }[] {
  const available = new Set<string>(['', ...outer, ...graph.inputs.map((v) => v.name), ...graph.initializers.map((t) => t.name)]);
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (o === '') continue;
      const prev = producer.get(o);
      if (prev !== undefined || available.has(o)) {
        const by = prev !== undefined ? `node '${nodeLabel(graph.nodes[prev]!, prev)}'` : 'a graph input or initializer';
        throw new Error(`forwardpass: onnx: value '${o}' is produced by node '${nodeLabel(n, i)}' (${n.opType}) and also by ${by}; each value must have one producer`);
      }
      producer.set(o, i);
    }
  });
  graph.nodes.forEach((n, i) => {
    for (const x of n.inputs) {
      if (!available.has(x) && !producer.has(x)) {
        throw new Error(`forwardpass: onnx: node '${nodeLabel(n, i)}' (${n.opType}) reads '${x}', which no node, initializer or graph input produces`);
      }
    }
  });
  const ready = new Set(available);
  const done = new Array<boolean>(graph.nodes.length).fill(false);
  const order: { node: OnnxNode; index: number }[] = [];
  for (let progress = true; progress && order.length < graph.nodes.length;) {
    progress = false;
    graph.nodes.forEach((n, i) => {
      if (done[i] || !n.inputs.every((x) => ready.has(x))) return;
      done[i] = true;
      progress = true;
      order.push({ node: n, index: i });
      for (const o of n.outputs) ready.add(o);
    });
  }
  if (order.length < graph.nodes.length) {
    const stuck = graph.nodes.map((n, i) => [n, i] as const).filter(([, i]) => !done[i]);
    const names = stuck.slice(0, 4).map(([n, i]) => `'${nodeLabel(n, i)}' (${n.opType})`).join(', ');
    throw new Error(`forwardpass: onnx: the graph has a cycle: ${stuck.length} node${stuck.length > 1 ? 's' : ''} wait on each other (${names}${stuck.length > 4 ? ', ...' : ''})`);
  }
  return order;
}

/** The nodes (in `order`) that some graph output depends on. */
export function liveNodes(order: { node: OnnxNode; index: number }[], outputs: readonly string[]): { node: OnnxNode; index: number }[] {
  const need = new Set(outputs);
  const keep = new Array<boolean>(order.length).fill(false);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!.node;
    if (!n.outputs.some((o) => o !== '' && need.has(o))) continue;
    keep[k] = true;
    for (const x of n.inputs) need.add(x);
  }
  return order.filter((_, k) => keep[k]);
}

/** Each op type of `nodes` that the registry lacks, with its first node and count. */
export function unsupportedOps(nodes: readonly { node: OnnxNode; index: number }[]): { opType: string; domain: string; first: string; count: number }[] {
  const out = new Map<string, { opType: string; domain: string; first: string; count: number }>();
  const visit = (list: readonly { node: OnnxNode; index: number }[], where: string) => {
    for (const { node, index } of list) {
      // the bodies of control-flow nodes (If, Loop, Scan) are checked with the graph that holds them
      for (const [name, a] of Object.entries(node.attributes)) {
        if (a.type === 'graph') visit(a.value.nodes.map((n, i) => ({ node: n, index: i })), `${where}${nodeLabel(node, index)}.${name}/`);
      }
      if (getOnnxOp(node.opType, node.domain)) continue;
      const k = `${node.domain}::${node.opType}`;
      const e = out.get(k);
      if (e) e.count++;
      else out.set(k, { opType: node.opType, domain: node.domain, first: where + nodeLabel(node, index), count: 1 });
    }
  };
  visit(nodes, '');
  return [...out.values()];
}

/** Throws one error listing every unsupported op type of `nodes` (first node, count) and the opset. */
export function checkSupported(nodes: readonly { node: OnnxNode; index: number }[], opset: number): void {
  const bad = unsupportedOps(nodes);
  if (bad.length === 0) return;
  const list = bad.map((b) => `${b.domain && b.domain !== 'ai.onnx' ? `${b.domain}.` : ''}${b.opType} (node '${b.first}'${b.count > 1 ? `, ${b.count} nodes` : ''})`);
  throw new Error(`forwardpass: onnx: unsupported ops (opset ${opset}): ${list.join(', ')}`);
}

/** Support of one op type on each backend. */
export interface OnnxOpSupportEntry {
  opType: string;
  domain: string;
  /** Nodes of this type in the graph. */
  count: number;
  cpu: boolean;
  webgpu: boolean;
}

/**
 * Which op types of a model are supported on which backend, sorted by op type. Registered ops run on both, composed
 * from ops that both backends implement, except the typed-array kernels (`cpuOnly`): those always marked so report
 * webgpu false (they run on the CPU inside a WebGPU session); those needing the kernel only for some nodes (3-D
 * pools, a MaxPool Indices output) report true.
 *
 * @example onnxOpSupport(parseOnnx(bytes)).filter((e) => !e.cpu).map((e) => e.opType)
 */
export function onnxOpSupport(model: OnnxModel): OnnxOpSupportEntry[] {
  const m = new Map<string, OnnxOpSupportEntry>();
  for (const n of model.graph.nodes) {
    const k = `${n.domain}::${n.opType}`;
    const e = m.get(k);
    if (e) { e.count++; continue; }
    const impl = getOnnxOp(n.opType, n.domain);
    const ok = impl !== undefined;
    m.set(k, { opType: n.opType, domain: n.domain, count: 1, cpu: ok, webgpu: ok && impl.cpuOnly !== true });
  }
  return [...m.values()].sort((a, b) => a.opType.localeCompare(b.opType));
}

export { registeredOnnxOps };
