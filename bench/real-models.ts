// Export-free real-size models for the benchmarks, written with the test suite's ONNX writer (seeded random
// weights, scaled as He / Xavier initialisation so activations stay in range): a ResNet-18-shaped CNN at 224×224
// (convolutions with folded batch norm, as exporters emit them), a 6-layer 384-wide transformer encoder (6 heads of
// 64, FFN 1536, post-LN, exact GELU as the Erf subgraph exporters write), and four models written node for node as
// torch.onnx (opset 17, Hugging Face / torchvision modules) writes them: MobileNetV2, DeiT-tiny, a GPT-2-style
// decoder and DistilBERT. REAL_MODELS lists them with their feeds for the benchmark.
import { makeRng } from '../src/index.js';
import { onnxModel, type NodeSpec, type TensorSpec } from '../test/io/onnx/writer.js';

/** A float attribute of 1 (a plain 1 would be written as an int attribute). */
const F1 = { type: 'float', value: 1 } as const;

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
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (this.rng() * 2 - 1) * scale;
    this.inits.push({ name, type: 'float', dims, data });
    return name;
  }
  const(type: 'float' | 'int64', dims: number[], data: number[]): string {
    const name = this.v('c');
    this.inits.push({ name, type, dims, data: type === 'int64' ? data.map((x) => BigInt(x)) : Float32Array.from(data) });
    return name;
  }
  op(op: string, inputs: string[], attrs?: NodeSpec['attrs']): string {
    return this.ops(op, inputs, 1, attrs)[0]!;
  }
  /** A node with `n` outputs (Split). */
  ops(op: string, inputs: string[], n: number, attrs?: NodeSpec['attrs']): string[] {
    const ys = Array.from({ length: n }, () => this.v(op.toLowerCase()));
    this.nodes.push({ op, inputs, outputs: ys, ...(attrs ? { attrs } : {}) });
    return ys;
  }
  /** Dimension `i` of `x` as a 1-D int64 [1] (Shape -> Gather -> Unsqueeze: how torch.onnx writes `x.size(i)`). */
  dim(x: string, i: number): string {
    return this.op('Unsqueeze', [this.op('Gather', [this.op('Shape', [x]), this.const('int64', [], [i])], { axis: 0 }), this.const('int64', [1], [0])]);
  }
  /** A shape vector: dynamic pieces (from dim()) and constants, concatenated as torch.onnx writes `view(...)` sizes. */
  shape(parts: (string | number)[]): string {
    return this.op('Concat', parts.map((p) => (typeof p === 'string' ? p : this.const('int64', [1], [p]))), { axis: 0 });
  }
  /** LayerNormalization over the last axis (weights near 1, small bias). */
  layerNorm(x: string, d: number, eps: number): string {
    const gamma = this.weight([d], 0.1);
    const ones = this.inits.find((t) => t.name === gamma)!.data as Float32Array;
    for (let i = 0; i < d; i++) ones[i] = 1 + ones[i]!;
    return this.op('LayerNormalization', [x, gamma, this.weight([d], 0.02)], { axis: -1, epsilon: { type: 'float', value: eps } });
  }
  /** nn.Linear on a 3-D activation as torch.onnx writes it: MatMul with the [in, out] weight, then Add of the bias. */
  linear(x: string, din: number, dout: number, biasFirst: boolean): string {
    const mm = this.op('MatMul', [x, this.weight([din, dout], Math.sqrt(6 / (din + dout)))]), b = this.weight([dout], 0.02);
    return this.op('Add', biasFirst ? [b, mm] : [mm, b]);
  }
  /** Exact GELU as opset-17 exports write it: x·0.5·(1 + erf(x/√2)) with Div/Erf/Add/Mul/Mul. */
  erfGelu(x: string): string {
    const erf = this.op('Erf', [this.op('Div', [x, this.const('float', [], [Math.SQRT2])])]);
    return this.op('Mul', [this.op('Mul', [x, this.op('Add', [erf, this.const('float', [], [1])])]), this.const('float', [], [0.5])]);
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

/**
 * MobileNetV2 (torchvision, width 1.0): input x [B, 3, 224, 224], output logits [B, 1000]. Batch norm is folded
 * into each convolution's weight and bias, ReLU6 is Clip(0, 6) with min and max as inputs (opset 11+), the pool is
 * GlobalAveragePool, Flatten, and the classifier a Gemm with transB, as torch.onnx writes them.
 */
export function mobilenetV2Onnx(seed = 2): Uint8Array {
  const g = new Graph(seed);
  const lo = g.const('float', [], [0]), hi = g.const('float', [], [6]);
  const conv = (x: string, cin: number, cout: number, k: number, s: number, group: number, relu6: boolean): string => {
    const fanIn = (cin / group) * k * k;
    const w = g.weight([cout, cin / group, k, k], Math.sqrt(6 / fanIn) * 0.8), b = g.weight([cout], 0.05);
    const p = (k - 1) >> 1;
    const y = g.op('Conv', [x, w, b], { dilations: [1, 1], group, kernel_shape: [k, k], pads: [p, p, p, p], strides: [s, s] });
    return relu6 ? g.op('Clip', [y, lo, hi]) : y;
  };
  let x = conv('x', 3, 32, 3, 2, 1, true);
  let c = 32;
  // (expansion t, channels c, repeats n, first stride s): torchvision's inverted_residual_setting
  for (const [t, cout, n, s] of [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]] as const) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1, hidden = c * t;
      let h = t === 1 ? x : conv(x, c, hidden, 1, 1, 1, true); // 1x1 expand
      h = conv(h, hidden, hidden, 3, stride, hidden, true); // depthwise 3x3
      h = conv(h, hidden, cout, 1, 1, 1, false); // 1x1 linear projection
      x = stride === 1 && c === cout ? g.op('Add', [x, h]) : h;
      c = cout;
    }
  }
  x = conv(x, c, 1280, 1, 1, 1, true);
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: 1 });
  const fcW = g.weight([1000, 1280], Math.sqrt(6 / 1280)), fcB = g.weight([1000], 0.05);
  g.nodes.push({ op: 'Gemm', inputs: [pooled, fcW, fcB], outputs: ['logits'], attrs: { alpha: F1, beta: F1, transB: 1 } });
  return onnxModel({ nodes: g.nodes, initializers: g.inits, inputs: [{ name: 'x', type: 'float', shape: ['B', 3, 224, 224] }], outputs: [{ name: 'logits', type: 'float', shape: ['B', 1000] }] });
}

/**
 * DeiT-tiny (Hugging Face ViT modules, eager attention): input pixel_values [B, 3, 224, 224], output logits
 * [B, 1000]. Patch embedding Conv 16x16 stride 16, flatten(2) as Reshape, transpose(1, 2), the class token
 * expanded to the batch and concatenated (197 tokens), position embedding added; 12 pre-LN layers of 192 wide,
 * 3 heads of 64: MatMul+Add linears (bias second), heads split by dynamic Reshape and Transpose,
 * MatMul(q, kᵀ)/√64 -> Softmax -> MatMul, exact GELU as Div/Erf/Add/Mul/Mul; the class token's row through Gather
 * then a Gemm head.
 */
export function deitTinyOnnx(layers = 12, d = 192, heads = 3, seed = 3): Uint8Array {
  const g = new Graph(seed), dh = d / heads, P = 16, tokens = (224 / P) ** 2 + 1;
  const patch = g.op('Conv', ['pixel_values', g.weight([d, 3, P, P], Math.sqrt(6 / (3 * P * P))), g.weight([d], 0.02)], { dilations: [1, 1], group: 1, kernel_shape: [P, P], pads: [0, 0, 0, 0], strides: [P, P] });
  const flat = g.op('Reshape', [patch, g.shape([g.dim(patch, 0), g.dim(patch, 1), -1])]);
  const emb = g.op('Transpose', [flat], { perm: [0, 2, 1] });
  const cls = g.op('Expand', [g.weight([1, 1, d], 0.5), g.shape([g.dim('pixel_values', 0), 1, 1])]);
  let x = g.op('Add', [g.op('Concat', [cls, emb], { axis: 1 }), g.weight([1, tokens, d], 0.5)]);
  const rsqrt = g.const('float', [], [Math.sqrt(dh)]);
  for (let l = 0; l < layers; l++) {
    const h = g.layerNorm(x, d, 1e-12);
    const split = (t: string) => g.op('Reshape', [t, g.shape([g.dim(t, 0), g.dim(t, 1), heads, dh])]);
    const q = g.op('Transpose', [split(g.linear(h, d, d, false))], { perm: [0, 2, 1, 3] });
    const k = g.op('Transpose', [split(g.linear(h, d, d, false))], { perm: [0, 2, 1, 3] });
    const v = g.op('Transpose', [split(g.linear(h, d, d, false))], { perm: [0, 2, 1, 3] });
    const scores = g.op('Div', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), rsqrt]);
    const ctx4 = g.op('Transpose', [g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v])], { perm: [0, 2, 1, 3] });
    const ctx = g.op('Reshape', [ctx4, g.shape([g.dim(ctx4, 0), g.dim(ctx4, 1), d])]);
    x = g.op('Add', [g.linear(ctx, d, d, false), x]);
    const f = g.linear(g.erfGelu(g.linear(g.layerNorm(x, d, 1e-12), d, 4 * d, false)), 4 * d, d, false);
    x = g.op('Add', [f, x]);
  }
  const first = g.op('Gather', [g.layerNorm(x, d, 1e-12), g.const('int64', [], [0])], { axis: 1 });
  g.nodes.push({ op: 'Gemm', inputs: [first, g.weight([1000, d], Math.sqrt(6 / d)), g.weight([1000], 0.02)], outputs: ['logits'], attrs: { alpha: F1, beta: F1, transB: 1 } });
  return onnxModel({ nodes: g.nodes, initializers: g.inits, inputs: [{ name: 'pixel_values', type: 'float', shape: ['B', 3, 224, 224] }], outputs: [{ name: 'logits', type: 'float', shape: ['B', 1000] }] });
}

/** Attention heads as the SDPA export writes them: [B, T, d] -> [B, H, T, dh] (perm [0, 2, 1, 3], or [0, 2, 3, 1] for kᵀ). */
function heads4(g: Graph, t: string, heads: number, dh: number, perm: number[]): string {
  return g.op('Transpose', [g.op('Reshape', [t, g.shape([g.dim(t, 0), g.dim(t, 1), heads, dh])])], { perm });
}

/**
 * Scaled dot-product attention as torch.onnx writes F.scaled_dot_product_attention with a boolean mask: q and kᵀ
 * each multiplied by dh^-¼, MatMul, Add of Where(allowed, 0, -inf), Softmax, fully masked rows (NaN) zeroed through
 * IsNaN/Where, MatMul with v, heads merged by Transpose and Reshape. Returns [B, T, d].
 */
function sdpa(g: Graph, q: string, k: string, v: string, allowed: string, heads: number, d: number): string {
  const dh = d / heads, s = g.const('float', [], [dh ** -0.25]);
  const qh = g.op('Mul', [heads4(g, q, heads, dh, [0, 2, 1, 3]), s]), kt = g.op('Mul', [heads4(g, k, heads, dh, [0, 2, 3, 1]), s]);
  const bias = g.op('Where', [allowed, g.const('float', [], [0]), g.const('float', [], [-Infinity])]);
  const p = g.op('Softmax', [g.op('Add', [g.op('MatMul', [qh, kt]), bias])], { axis: -1 });
  const p0 = g.op('Where', [g.op('IsNaN', [p]), g.const('float', [], [0]), p]);
  const ctx4 = g.op('Transpose', [g.op('MatMul', [p0, heads4(g, v, heads, dh, [0, 2, 1, 3])])], { perm: [0, 2, 1, 3] });
  return g.op('Reshape', [ctx4, g.shape([g.dim(ctx4, 0), g.dim(ctx4, 1), d])]);
}

/**
 * A GPT-2-style decoder (Hugging Face GPT2LMHeadModel modules; default 6 layers 512 wide, 8 heads, the real
 * 50257-token vocabulary, so not GPT-2 small's 12x768): inputs input_ids and attention_mask [B, T] int64, output
 * logits [B, T, vocab]. Token and position Gathers; the causal mask from Range/LessOrEqual And the padding mask;
 * GPT-2's Conv1D layers as Reshape to 2-D -> Gemm (weight [in, out]) -> Reshape back; c_attn Split into q, k, v;
 * SDPA attention; tanh GELU as Mul/Pow/Mul/Add/Mul/Tanh/Add/Mul; the tied LM head as MatMul with the embedding
 * transposed (the exporter writes the transposed copy as its own initializer).
 */
export function gpt2Onnx(layers = 6, d = 512, heads = 8, vocab = 50257, nPos = 1024, seed = 12): Uint8Array {
  const g = new Graph(seed);
  const wte = g.weight([vocab, d], 0.1);
  const T = g.op('Gather', [g.op('Shape', ['input_ids']), g.const('int64', [], [1])], { axis: 0 });
  const range = g.op('Range', [g.const('int64', [], [0]), T, g.const('int64', [], [1])]);
  const pos = g.op('Gather', [g.weight([nPos, d], 0.1), g.op('Unsqueeze', [range, g.const('int64', [1], [0])])]);
  let x = g.op('Add', [g.op('Gather', [wte, 'input_ids']), pos]);
  // allowed[b, 0, i, j] = j <= i and attention_mask[b, j]
  const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [range, g.const('int64', [1], [0])]), g.op('Unsqueeze', [range, g.const('int64', [1], [1])])]);
  const pad = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: 9 }), g.const('int64', [2], [1, 2])]);
  const allowed = g.op('And', [causal, pad]);
  /** GPT-2's Conv1D: x.view(-1, in) @ W + b as Gemm, then view back to [B, T, out]. */
  const conv1d = (t: string, din: number, dout: number) => {
    const y = g.op('Gemm', [g.op('Reshape', [t, g.shape([-1, g.dim(t, 2)])]), g.weight([din, dout], Math.sqrt(6 / (din + dout))), g.weight([dout], 0.02)], { alpha: F1, beta: F1 });
    return g.op('Reshape', [y, g.shape([g.dim(t, 0), g.dim(t, 1), dout])]);
  };
  const tanhGelu = (t: string) => {
    const half = g.op('Mul', [t, g.const('float', [], [0.5])]);
    const cube = g.op('Mul', [g.op('Pow', [t, g.const('float', [], [3])]), g.const('float', [], [0.044715])]);
    const inner = g.op('Mul', [g.op('Add', [t, cube]), g.const('float', [], [Math.sqrt(2 / Math.PI)])]);
    return g.op('Mul', [half, g.op('Add', [g.op('Tanh', [inner]), g.const('float', [], [1])])]);
  };
  for (let l = 0; l < layers; l++) {
    const qkv = conv1d(g.layerNorm(x, d, 1e-5), d, 3 * d);
    const [q, k, v] = g.ops('Split', [qkv, g.const('int64', [3], [d, d, d])], 3, { axis: 2 });
    x = g.op('Add', [conv1d(sdpa(g, q!, k!, v!, allowed, heads, d), d, d), x]);
    x = g.op('Add', [x, conv1d(tanhGelu(conv1d(g.layerNorm(x, d, 1e-5), d, 4 * d)), 4 * d, d)]);
  }
  const wteData = g.inits.find((t) => t.name === wte)!.data as Float32Array;
  const wteT = new Float32Array(vocab * d);
  for (let i = 0; i < vocab; i++) for (let j = 0; j < d; j++) wteT[j * vocab + i] = wteData[i * d + j]!;
  const head = g.v('lm_head');
  g.inits.push({ name: head, type: 'float', dims: [d, vocab], data: wteT });
  g.nodes.push({ op: 'MatMul', inputs: [g.layerNorm(x, d, 1e-5), head], outputs: ['logits'] });
  return onnxModel({
    nodes: g.nodes, initializers: g.inits,
    inputs: [{ name: 'input_ids', type: 'int64', shape: ['B', 'T'] }, { name: 'attention_mask', type: 'int64', shape: ['B', 'T'] }],
    outputs: [{ name: 'logits', type: 'float', shape: ['B', 'T', vocab] }],
  });
}

/**
 * DistilBERT (Hugging Face DistilBertModel, SDPA attention; base size 6 layers 768 wide, 12 heads, FFN 3072,
 * 30522-token vocabulary): inputs input_ids and attention_mask [B, T] int64, output last_hidden_state [B, T, 768].
 * Word and position Gathers (position ids sliced from a constant buffer), LayerNormalization eps 1e-12, the padding
 * mask expanded to [B, 1, T, T], MatMul+Add linears with the bias first (Add(bias, MatMul) as torch.onnx writes
 * them), SDPA attention, post-LN residuals, exact GELU as Div/Erf/Add/Mul/Mul.
 */
export function distilbertOnnx(layers = 6, d = 768, heads = 12, ffn = 3072, vocab = 30522, maxPos = 512, seed = 66): Uint8Array {
  const g = new Graph(seed);
  const ids = g.const('int64', [1, maxPos], Array.from({ length: maxPos }, (_, i) => i));
  const posIds = g.op('Slice', [ids, g.const('int64', [1], [0]), g.dim('input_ids', 1), g.const('int64', [1], [1]), g.const('int64', [1], [1])]);
  const emb = g.op('Add', [g.op('Gather', [g.weight([vocab, d], 0.5), 'input_ids']), g.op('Gather', [g.weight([maxPos, d], 0.5), posIds])]);
  let x = g.layerNorm(emb, d, 1e-12);
  const T = g.dim('input_ids', 1);
  const allowed = g.op('Expand', [g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: 9 }), g.const('int64', [2], [1, 2])]), g.shape([g.dim('input_ids', 0), 1, T, T])]);
  for (let l = 0; l < layers; l++) {
    const ctx = sdpa(g, g.linear(x, d, d, true), g.linear(x, d, d, true), g.linear(x, d, d, true), allowed, heads, d);
    x = g.layerNorm(g.op('Add', [g.linear(ctx, d, d, true), x]), d, 1e-12);
    x = g.layerNorm(g.op('Add', [g.linear(g.erfGelu(g.linear(x, d, ffn, true)), ffn, d, true), x]), d, 1e-12);
  }
  g.nodes.push({ op: 'Identity', inputs: [x], outputs: ['last_hidden_state'] });
  return onnxModel({
    nodes: g.nodes, initializers: g.inits,
    inputs: [{ name: 'input_ids', type: 'int64', shape: ['B', 'T'] }, { name: 'attention_mask', type: 'int64', shape: ['B', 'T'] }],
    outputs: [{ name: 'last_hidden_state', type: 'float', shape: ['B', 'T', d] }],
  });
}

/** One benchmark input: float32 values or int64 ids. */
export type RealFeed = { type: 'float32'; data: Float32Array; shape: number[] } | { type: 'int64'; data: BigInt64Array; shape: number[] };

/** A model of the real-models suite: its bytes, the batch sizes timed, a time budget per variant and its feeds. */
export interface RealModel {
  name: string;
  bytes: () => Uint8Array;
  batches: number[];
  /** ms per variant and round (the large models get less: each call is long). */
  timeMs: number;
  /** The batches on which the typed-array twin is timed too (default: all; it is 5-10x slower than the fast path). */
  typedArrayBatches?: number[];
  feeds: (B: number) => Record<string, RealFeed>;
}

const floatFeed = (shape: number[], seed: number): RealFeed => {
  const rng = makeRng(seed);
  return { type: 'float32', data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1), shape };
};
/** Token ids uniform in the vocabulary, and a mask with the last `padded` positions of each row off. */
const textFeeds = (B: number, T: number, vocab: number, padded: number): Record<string, RealFeed> => {
  const rng = makeRng(B + 100);
  return {
    input_ids: { type: 'int64', data: BigInt64Array.from({ length: B * T }, () => BigInt(Math.floor(rng() * vocab))), shape: [B, T] },
    attention_mask: { type: 'int64', data: BigInt64Array.from({ length: B * T }, (_, i) => (i % T < T - padded ? 1n : 0n)), shape: [B, T] },
  };
};

export const REAL_MODELS: RealModel[] = [
  { name: 'resnet18 224x224', bytes: () => resnet18Onnx(), batches: [1, 8], timeMs: 400, feeds: (B) => ({ x: floatFeed([B, 3, 224, 224], B) }) },
  { name: 'encoder 6x384 T=128', bytes: () => encoderOnnx(), batches: [1, 8], timeMs: 400, feeds: (B) => ({ x: floatFeed([B, 128, 384], B) }) },
  { name: 'mobilenet_v2 224x224', bytes: () => mobilenetV2Onnx(), batches: [1, 8], timeMs: 400, feeds: (B) => ({ x: floatFeed([B, 3, 224, 224], B) }) },
  { name: 'deit-tiny 224x224', bytes: () => deitTinyOnnx(), batches: [1, 8], timeMs: 400, typedArrayBatches: [1], feeds: (B) => ({ pixel_values: floatFeed([B, 3, 224, 224], B) }) },
  { name: 'gpt2-style 6x512 T=128', bytes: () => gpt2Onnx(), batches: [1], timeMs: 200, typedArrayBatches: [], feeds: (B) => textFeeds(B, 128, 50257, 0) },
  { name: 'distilbert 6x768 T=128', bytes: () => distilbertOnnx(), batches: [1], timeMs: 200, typedArrayBatches: [1], feeds: (B) => textFeeds(B, 128, 30522, 16) },
];
