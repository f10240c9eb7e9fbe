// Export-free real-size models for the benchmarks, written with the test suite's ONNX writer (seeded random
// weights, scaled as He / Xavier initialisation so activations stay in range): a ResNet-18-shaped CNN at 224×224
// (convolutions with folded batch norm, as exporters emit them) and a 6-layer 384-wide transformer encoder
// (6 heads of 64, FFN 1536, post-LN, exact GELU as the Erf subgraph exporters write).
import { makeRng } from '../src/index.js';
import { onnxModel, type NodeSpec, type TensorSpec } from '../test/io/onnx/writer.js';

class Graph {
  readonly nodes: NodeSpec[] = [];
  readonly inits: TensorSpec[] = [];
  private n = 0;
  private readonly rng: () => number;
  constructor(seed: number) { this.rng = makeRng(seed); }
  /** A fresh value name. */
  v(prefix: string): string { return `${prefix}_${this.n++}`; }
  /** A float initializer of uniform values in ±scale. */
  weight(dims: number[], scale: number): string {
    const name = this.v('w'), n = dims.reduce((a, b) => a * b, 1);
    this.inits.push({ name, type: 'float', dims, data: Float32Array.from({ length: n }, () => (this.rng() * 2 - 1) * scale) });
    return name;
  }
  const(type: 'float' | 'int64', dims: number[], data: number[]): string {
    const name = this.v('c');
    this.inits.push({ name, type, dims, data: type === 'int64' ? data.map((x) => BigInt(x)) : Float32Array.from(data) });
    return name;
  }
  op(op: string, inputs: string[], attrs?: NodeSpec['attrs']): string {
    const y = this.v(op.toLowerCase());
    this.nodes.push({ op, inputs, outputs: [y], ...(attrs ? { attrs } : {}) });
    return y;
  }
}

/** ResNet-18 (torchvision shapes): input x [B, 3, 224, 224], output logits [B, 1000]. */
export function resnet18Onnx(seed = 18): Uint8Array {
  const g = new Graph(seed);
  const conv = (x: string, cin: number, cout: number, k: number, s: number, relu: boolean): string => {
    const w = g.weight([cout, cin, k, k], Math.sqrt(6 / (cin * k * k)) * 0.7), b = g.weight([cout], 0.05);
    const y = g.op('Conv', [x, w, b], { kernel_shape: [k, k], strides: [s, s], pads: Array(4).fill((k - 1) >> 1) });
    return relu ? g.op('Relu', [y]) : y;
  };
  let x = conv('x', 3, 64, 7, 2, true);
  x = g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let c = 64;
  for (const [cout, stride] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
    for (let blk = 0; blk < 2; blk++) {
      const s = blk === 0 ? stride : 1;
      const h = conv(conv(x, c, cout, 3, s, true), cout, cout, 3, 1, false);
      const skip = s !== 1 || c !== cout ? conv(x, c, cout, 1, s, false) : x;
      x = g.op('Relu', [g.op('Add', [h, skip])]);
      c = cout;
    }
  }
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [x])]);
  const fcW = g.weight([1000, 512], Math.sqrt(6 / 512)), fcB = g.weight([1000], 0.05);
  g.nodes.push({ op: 'Gemm', inputs: [pooled, fcW, fcB], outputs: ['logits'], attrs: { transB: 1 } });
  return onnxModel({ nodes: g.nodes, initializers: g.inits, inputs: [{ name: 'x', type: 'float', shape: ['B', 3, 224, 224] }], outputs: [{ name: 'logits', type: 'float', shape: ['B', 1000] }] });
}

/** Transformer encoder: input x [B, T, 384] (embeddings), output [B, T, 384]; `layers` post-LN blocks. */
export function encoderOnnx(layers = 6, d = 384, heads = 6, ffn = 1536, seed = 6): Uint8Array {
  const g = new Graph(seed), dh = d / heads;
  const dense = (x: string, din: number, dout: number) => g.op('Add', [g.op('MatMul', [x, g.weight([din, dout], Math.sqrt(6 / (din + dout)))]), g.weight([dout], 0.02)]);
  const layerNorm = (x: string) => g.op('LayerNormalization', [x, g.const('float', [d], Array(d).fill(1)), g.weight([d], 0.02)], { axis: -1, epsilon: { type: 'float', value: 1e-5 } });
  const split = g.const('int64', [4], [0, 0, heads, dh]), merge = g.const('int64', [3], [0, 0, d]);
  const scale = g.const('float', [], [1 / Math.sqrt(dh)]), half = g.const('float', [], [0.5]), one = g.const('float', [], [1]), sqrt2 = g.const('float', [], [Math.SQRT2]);
  let x = 'x';
  for (let l = 0; l < layers; l++) {
    const heads4 = (t: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [t, split])], { perm });
    const q = heads4(dense(x, d, d), [0, 2, 1, 3]), k = heads4(dense(x, d, d), [0, 2, 3, 1]), v = heads4(dense(x, d, d), [0, 2, 1, 3]);
    const p = g.op('Softmax', [g.op('Mul', [g.op('MatMul', [q, k]), scale])], { axis: -1 });
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [p, v])], { perm: [0, 2, 1, 3] }), merge]);
    x = layerNorm(g.op('Add', [x, dense(ctx, d, d)]));
    const h = dense(x, d, ffn);
    const gelu = g.op('Mul', [g.op('Mul', [h, g.op('Add', [g.op('Erf', [g.op('Div', [h, sqrt2])]), one])]), half]);
    x = layerNorm(g.op('Add', [x, dense(gelu, ffn, d)]));
  }
  g.nodes.push({ op: 'Identity', inputs: [x], outputs: ['y'] });
  return onnxModel({ nodes: g.nodes, initializers: g.inits, inputs: [{ name: 'x', type: 'float', shape: ['B', 'T', d] }], outputs: [{ name: 'y', type: 'float', shape: ['B', 'T', d] }] });
}
