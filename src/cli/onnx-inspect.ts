// `forwardpass inspect model.onnx`: graph inputs and outputs, opsets, an op histogram with per-backend
// support (from the runtime's onnxOpSupport), and the parameter count (elements of float initializers).
import { readFileSync } from 'node:fs';
import { parseOnnx, type OnnxValueInfo } from '../io/onnx/model.js';
import { onnxOpSupport } from '../io/onnx/plan.js';
import { human, table } from './text.js';
import { printable } from './printable.js';

const FLOAT_TYPES = new Set(['float', 'float16', 'double']);
const BYTES: Record<string, number> = { float: 4, float16: 2, double: 8, int8: 1, uint8: 1, int32: 4, int64: 8, bool: 1 };

const ioText = (v: OnnxValueInfo) => printable(`${v.name} ${v.elemType ?? '?'} [${(v.shape ?? []).map((d) => d ?? '?').join(', ')}]`);

/**
 * Summary (for --json) and text of an .onnx file.
 * @example const { text } = inspectOnnx('model.onnx'); console.log(text);
 */
export function inspectOnnx(path: string): { summary: Record<string, unknown>; text: string } {
  const model = parseOnnx(readFileSync(path), { name: path });
  const g = model.graph;
  const inits = new Set(g.initializers.map((t) => t.name));
  const inputs = g.inputs.filter((v) => !inits.has(v.name));
  let params = 0, otherValues = 0, bytes = 0;
  for (const t of g.initializers) {
    if (FLOAT_TYPES.has(t.dataType)) params += t.data.length;
    else otherValues += t.data.length;
    bytes += t.data.length * (BYTES[t.dataType] ?? 0);
  }
  const ops = onnxOpSupport(model).sort((a, b) => b.count - a.count || a.opType.localeCompare(b.opType));
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const opName = (o: { opType: string; domain: string }) => printable(o.domain ? `${o.domain}.${o.opType}` : o.opType);
  const unsupported = ops.filter((o) => !o.cpu || !o.webgpu);
  const opsets = model.opsetImport.map((o) => `${o.version}${o.domain ? ` (${printable(o.domain)})` : ''}`).join(', ');
  const lines = [
    `${path}: ONNX model, IR version ${model.irVersion}, opset ${opsets || 'none'}${model.producerName ? `, produced by ${printable(model.producerName)} ${printable(model.producerVersion)}`.trimEnd() : ''}`,
    `inputs:  ${inputs.map(ioText).join('; ') || 'none'}`,
    `outputs: ${g.outputs.map(ioText).join('; ') || 'none'}`,
    `parameters: ${params.toLocaleString('en-US')} in ${g.initializers.length} initializers (${human(bytes)})${otherValues ? `, plus ${otherValues.toLocaleString('en-US')} integer/bool initializer values` : ''}`,
    '',
    `ops: ${ops.length} types, ${g.nodes.length} nodes`,
    table([['op', 'count', 'cpu', 'webgpu'], ...ops.map((o) => [opName(o), String(o.count), yes(o.cpu), yes(o.webgpu)])]),
    '',
    unsupported.length
      ? `unsupported: ${unsupported.map((o) => `${opName(o)} (${[!o.cpu && 'cpu', !o.webgpu && 'webgpu'].filter(Boolean).join(', ')})`).join(', ')}`
      : 'every op is supported on cpu and webgpu',
  ];
  const summary = {
    path, format: 'onnx', irVersion: model.irVersion, producer: { name: model.producerName, version: model.producerVersion },
    opsetImport: model.opsetImport, inputs, outputs: g.outputs, parameters: params, initializers: g.initializers.length, bytes,
    nodes: g.nodes.length, ops: ops.map((o) => ({ opType: o.opType, domain: o.domain, count: o.count, cpu: o.cpu, webgpu: o.webgpu })),
  };
  return { summary, text: lines.join('\n') };
}
