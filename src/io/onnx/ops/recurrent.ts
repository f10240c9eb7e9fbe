// ONNX recurrent ops RNN, GRU and LSTM (directions forward/reverse/bidirectional, sequence_lens, initial states,
// bias, clip, activations with alpha/beta, GRU linear_before_reset, LSTM peepholes and input_forget, layout 0/1)
// and RotaryEmbedding (opset 23: interleaved or split halves, partial rotary_embedding_dim, position ids or
// per-token caches, 3-D or 4-D input). Typed-array kernels on the host (OnnxOpImpl.cpuOnly): one time step
// depends on the last, so the loops stay plain; a WebGPU session runs these nodes on the CPU.
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { registerOnnxOp, type Dim, type InferContext, type NodeContext, type RunContext, type ValueType } from './registry.js';
import { hostFloats, small } from './util.js';

type Act = (x: number) => number;

/** ONNX's recurrent activation functions by name, with their alpha/beta (or the defaults). */
function activation(c: NodeContext, name: string, alpha: number | undefined, beta: number | undefined): Act {
  const a = (d: number) => alpha ?? d, b = (d: number) => beta ?? d;
  switch (name.toLowerCase()) {
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => (x < 0 ? 0 : x);
    case 'affine': { const al = a(1), be = b(0); return (x) => al * x + be; }
    case 'leakyrelu': { const al = a(0.01); return (x) => (x < 0 ? al * x : x); }
    case 'thresholdedrelu': { const al = a(1); return (x) => (x > al ? x : Number.isNaN(x) ? x : 0); }
    case 'scaledtanh': { const al = a(1), be = b(1); return (x) => al * Math.tanh(be * x); }
    case 'hardsigmoid': { const al = a(0.2), be = b(0.5); return (x) => Math.min(1, Math.max(0, al * x + be)); }
    case 'elu': { const al = a(1); return (x) => (x < 0 ? al * (Math.exp(x) - 1) : x); }
    case 'softsign': return (x) => x / (1 + Math.abs(x));
    case 'softplus': return (x) => Math.log1p(Math.exp(x));
    default: return c.attrs.fail('activations', 'names of ONNX recurrent activations (Sigmoid, Tanh, Relu, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)', `'${name}'`);
  }
}

const ALPHA = new Set(['affine', 'leakyrelu', 'thresholdedrelu', 'scaledtanh', 'hardsigmoid', 'elu']);
const BETA = new Set(['affine', 'scaledtanh', 'hardsigmoid']);

type Kind = 'RNN' | 'GRU' | 'LSTM';
const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTS: Record<Kind, string[]> = { RNN: ['Tanh'], GRU: ['Sigmoid', 'Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'] };

/** The attributes of a recurrent node (checked at load by validate). */
function recurrentAttrs(kind: Kind, c: NodeContext) {
  const direction = c.attrs.stringOf('direction', ['forward', 'reverse', 'bidirectional'], 'forward');
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const names = c.attrs.has('activations') ? c.attrs.strings('activations') : [];
  const per = DEFAULT_ACTS[kind].length;
  const list = names.length ? names : Array.from({ length: dirs }, () => DEFAULT_ACTS[kind]).flat();
  if (list.length !== per * dirs) c.attrs.fail('activations', `${per * dirs} names (${per} per direction)`, JSON.stringify(names));
  // alphas and betas are consumed in order by the activations that take one (as onnxruntime reads them)
  const alphas = [...c.attrs.floats('activation_alpha', [])], betas = [...c.attrs.floats('activation_beta', [])];
  const acts = list.map((n) => {
    const lower = n.toLowerCase();
    const alpha = ALPHA.has(lower) ? alphas.shift() : undefined, beta = BETA.has(lower) ? betas.shift() : undefined;
    return activation(c, n, alpha, beta);
  });
  const clip = c.attrs.has('clip') ? c.attrs.float('clip') : undefined;
  if (clip !== undefined && !(clip > 0)) c.attrs.fail('clip', 'a positive float', String(clip));
  return {
    direction, dirs, acts, clip,
    layout: c.attrs.intOf('layout', [0, 1], 0),
    linearBeforeReset: kind === 'GRU' && c.attrs.intOf('linear_before_reset', [0, 1], 0) === 1,
    inputForget: kind === 'LSTM' && c.attrs.intOf('input_forget', [0, 1], 0) === 1,
  };
}

/** out[j] += Σ_k m[(row0 + j)·cols + k] · v[k] for j < rows (a block of rows of a row-major matrix times a vector). */
function matVecAdd(out: Float32Array, m: Float32Array, mBase: number, rows: number, cols: number, v: ArrayLike<number>, vBase: number): void {
  for (let j = 0; j < rows; j++) {
    let acc = 0;
    const r = mBase + j * cols;
    for (let k = 0; k < cols; k++) acc += m[r + k]! * v[vBase + k]!;
    out[j] += acc;
  }
}

function recurrent(kind: Kind) {
  return (c: RunContext): (Tensor | undefined)[] => {
    const at = recurrentAttrs(kind, c);
    const x = c.input(0), w = c.input(1), r = c.input(2);
    const G = GATES[kind];
    if (x.rank !== 3 || w.rank !== 3 || r.rank !== 3) c.fail(`X, W and R must be 3-D, found ${shapeStr(x.shape)}, ${shapeStr(w.shape)}, ${shapeStr(r.shape)}`);
    const H = r.shape[2]!;
    if (c.attrs.has('hidden_size') && c.attrs.int('hidden_size') !== H) c.fail(`hidden_size ${c.attrs.int('hidden_size')} does not match R ${shapeStr(r.shape)}`);
    const [S, B, I] = at.layout === 0 ? (x.shape as [number, number, number]) : ([x.shape[1]!, x.shape[0]!, x.shape[2]!] as [number, number, number]);
    const D = at.dirs;
    const expect = (t: Tensor | undefined, name: string, shape: number[]) => {
      if (t && shapeStr(t.shape) !== shapeStr(shape)) c.fail(`${name} must be ${shapeStr(shape)}, found ${shapeStr(t.shape)}`);
    };
    expect(w, 'W', [D, G * H, I]);
    expect(r, 'R', [D, G * H, H]);
    expect(c.inputs[3], 'B', [D, 2 * G * H]);
    expect(c.inputs[4], 'sequence_lens', [B]);
    const stateShape = at.layout === 0 ? [D, B, H] : [B, D, H];
    expect(c.inputs[5], 'initial_h', stateShape);
    if (kind === 'LSTM') { expect(c.inputs[6], 'initial_c', stateShape); expect(c.inputs[7], 'P', [D, 3 * H]); }
    const X = hostFloats(c, x, 'X'), W = hostFloats(c, w, 'W'), R = hostFloats(c, r, 'R');
    const bias = c.inputs[3] && hostFloats(c, c.inputs[3], 'B');
    const lens = c.inputs[4] ? Array.from(c.inputs[4].dataSync(), Number) : undefined;
    if (lens?.some((l) => !(l >= 0 && l <= S))) c.fail(`sequence_lens ${JSON.stringify(lens)} must lie in 0..${S}`);
    const h0 = c.inputs[5] && hostFloats(c, c.inputs[5], 'initial_h');
    const c0 = kind === 'LSTM' && c.inputs[6] ? hostFloats(c, c.inputs[6], 'initial_c') : undefined;
    const P = kind === 'LSTM' && c.inputs[7] ? hostFloats(c, c.inputs[7], 'P') : undefined;
    // index helpers for the two layouts
    const xAt = (t: number, b: number) => (at.layout === 0 ? (t * B + b) * I : (b * S + t) * I);
    const yAt = (t: number, d: number, b: number) => (at.layout === 0 ? ((t * D + d) * B + b) * H : ((b * S + t) * D + d) * H);
    const sAt = (d: number, b: number) => (at.layout === 0 ? (d * B + b) * H : (b * D + d) * H);
    const Y = new Float32Array(S * D * B * H), Yh = new Float32Array(D * B * H), Yc = new Float32Array(D * B * H);
    const clip = at.clip === undefined ? (v: number) => v : (v: number) => Math.min(at.clip!, Math.max(-at.clip!, v));
    const per = DEFAULT_ACTS[kind].length;
    const gx = new Float32Array(G * H), gh = new Float32Array(G * H), rh = new Float32Array(H);
    for (let d = 0; d < D; d++) {
      const reverse = at.direction === 'reverse' || d === 1;
      const [f, g, hAct] = at.acts.slice(d * per, d * per + per) as [Act, Act, Act];
      const wBase = d * G * H * I, rBase = d * G * H * H, bBase = d * 2 * G * H;
      for (let b = 0; b < B; b++) {
        const len = lens ? lens[b]! : S;
        const h = new Float32Array(H), cell = new Float32Array(H);
        if (h0) h.set(h0.subarray(sAt(d, b), sAt(d, b) + H));
        if (c0) cell.set(c0.subarray(sAt(d, b), sAt(d, b) + H));
        for (let step = 0; step < len; step++) {
          const t = reverse ? len - 1 - step : step;
          // gx = W·x_t + Wb; gh = R·h + Rb (kept apart: GRU's reset gate scales the recurrent part only)
          for (let j = 0; j < G * H; j++) { gx[j] = bias ? bias[bBase + j]! : 0; gh[j] = bias ? bias[bBase + G * H + j]! : 0; }
          matVecAdd(gx, W, wBase, G * H, I, X, xAt(t, b));
          if (kind !== 'GRU' || at.linearBeforeReset) matVecAdd(gh, R, rBase, G * H, H, h, 0);
          else matVecAdd(gh, R, rBase, 2 * H, H, h, 0); // z and r now; the candidate's R·(r ⊙ h) below
          if (kind === 'RNN') {
            for (let j = 0; j < H; j++) h[j] = f(clip(gx[j]! + gh[j]!));
          } else if (kind === 'GRU') {
            const z = new Float32Array(H);
            for (let j = 0; j < H; j++) { z[j] = f(clip(gx[j]! + gh[j]!)); rh[j] = f(clip(gx[H + j]! + gh[H + j]!)); }
            if (!at.linearBeforeReset) {
              const rhh = new Float32Array(H);
              for (let j = 0; j < H; j++) rhh[j] = rh[j]! * h[j]!;
              const cand = gh.subarray(2 * H);
              matVecAdd(cand, R, rBase + 2 * H * H, H, H, rhh, 0);
              for (let j = 0; j < H; j++) h[j] = (1 - z[j]!) * g(clip(gx[2 * H + j]! + cand[j]!)) + z[j]! * h[j]!;
            } else {
              for (let j = 0; j < H; j++) h[j] = (1 - z[j]!) * g(clip(gx[2 * H + j]! + rh[j]! * gh[2 * H + j]!)) + z[j]! * h[j]!;
            }
          } else {
            // gates i, o, f, c; peepholes P = [Pi, Po, Pf]
            const p = (k: number, j: number) => (P ? P[d * 3 * H + k * H + j]! : 0);
            for (let j = 0; j < H; j++) {
              const pre = (k: number) => gx[k * H + j]! + gh[k * H + j]!;
              const i = f(clip(pre(0) + p(0, j) * cell[j]!));
              const fg = at.inputForget ? 1 - i : f(clip(pre(2) + p(2, j) * cell[j]!));
              const cc = g(clip(pre(3)));
              cell[j] = fg * cell[j]! + i * cc;
              const o = f(clip(pre(1) + p(1, j) * cell[j]!));
              h[j] = o * hAct(cell[j]!);
            }
          }
          Y.set(h, yAt(t, d, b));
        }
        Yh.set(h, sAt(d, b));
        Yc.set(cell, sAt(d, b));
      }
    }
    const yShape = at.layout === 0 ? [S, D, B, H] : [B, S, D, H];
    const outs: (Tensor | undefined)[] = [
      c.node.outputs[0] ? small(Y, yShape, x.dtype, c.device) : undefined,
      c.node.outputs[1] ? small(Yh, stateShape, x.dtype, c.device) : undefined,
    ];
    if (kind === 'LSTM') outs.push(c.node.outputs[2] ? small(Yc, stateShape, x.dtype, c.device) : undefined);
    return outs;
  };
}

function recurrentInfer(kind: Kind) {
  return (c: InferContext): ValueType[] => {
    const dtype = c.inputs[0]?.dtype ?? 'float32';
    const x = c.inputs[0]?.shape, r = c.inputs[2]?.shape;
    const dirs = c.attrs.stringOf('direction', ['forward', 'reverse', 'bidirectional'], 'forward') === 'bidirectional' ? 2 : 1;
    const layout = c.attrs.int('layout', 0);
    const H: Dim = r?.[2] ?? null;
    const [S, B]: Dim[] = x ? (layout === 0 ? [x[0]!, x[1]!] : [x[1]!, x[0]!]) : [null, null];
    const state: Dim[] = layout === 0 ? [dirs, B, H] : [B, dirs, H];
    const out: ValueType[] = [{ dtype, shape: layout === 0 ? [S, dirs, B, H] : [B, S, dirs, H] }, { dtype, shape: state }];
    if (kind === 'LSTM') out.push({ dtype, shape: [...state] });
    return out;
  };
}

for (const kind of ['RNN', 'GRU', 'LSTM'] as const) {
  registerOnnxOp(kind, { cpuOnly: true, validate: (c) => { recurrentAttrs(kind, c); }, infer: recurrentInfer(kind), run: recurrent(kind) });
}

// ---------------------------------------------------------------- RotaryEmbedding

registerOnnxOp('RotaryEmbedding', {
  cpuOnly: true,
  validate: (c) => { c.attrs.intOf('interleaved', [0, 1], 0); c.attrs.int('rotary_embedding_dim', 0); c.attrs.int('num_heads', 0); },
  infer: (c) => [{ dtype: c.inputs[0]?.dtype ?? 'float32', ...(c.inputs[0]?.shape ? { shape: [...c.inputs[0].shape] } : {}) }],
  run: (c) => {
    const x = c.input(0), cosT = c.input(1), sinT = c.input(2), pos = c.inputs[3];
    const interleaved = c.attrs.int('interleaved', 0) === 1;
    let heads = c.attrs.int('num_heads', 0);
    // view the input as [batch, seq, heads, headSize] (4-D input: [batch, heads, seq, headSize])
    let B: number, Sq: number, headSize: number;
    let at: (b: number, s: number, n: number) => number;
    if (x.rank === 4) {
      [B, heads, Sq, headSize] = x.shape as [number, number, number, number];
      at = (b, s, n) => ((b * heads + n) * Sq + s) * headSize;
    } else if (x.rank === 3) {
      if (heads < 1 || x.shape[2]! % heads !== 0) c.fail(`a 3-D input ${shapeStr(x.shape)} needs num_heads dividing its hidden size, found num_heads ${heads}`);
      [B, Sq] = x.shape as [number, number];
      headSize = x.shape[2]! / heads;
      at = (b, s, n) => ((b * Sq + s) * heads + n) * headSize;
    } else return c.fail(`input must be 3-D [batch, seq, hidden] or 4-D [batch, heads, seq, head_size], found ${shapeStr(x.shape)}`);
    const rot = c.attrs.int('rotary_embedding_dim', 0) || headSize;
    if (rot % 2 !== 0 || rot > headSize) c.fail(`rotary_embedding_dim ${rot} must be even and at most the head size ${headSize}`);
    const half = rot / 2;
    const ids = pos ? Array.from(pos.dataSync(), Number) : undefined;
    const cacheShape = ids ? [null, half] : [B, Sq, half];
    if (cosT.rank !== cacheShape.length || cosT.shape.some((d, i) => cacheShape[i] !== null && d !== cacheShape[i]) || shapeStr(sinT.shape) !== shapeStr(cosT.shape)) {
      c.fail(`cos_cache ${shapeStr(cosT.shape)} and sin_cache ${shapeStr(sinT.shape)} must both be ${ids ? `[max_position, ${half}]` : shapeStr([B, Sq, half])}`);
    }
    if (ids && pos!.size !== B * Sq) c.fail(`position_ids ${shapeStr(pos!.shape)} must be [${B}, ${Sq}]`);
    const cos = hostFloats(c, cosT, 'cos_cache'), sin = hostFloats(c, sinT, 'sin_cache');
    const src = hostFloats(c, x, 'input');
    const y = Float32Array.from(src);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < Sq; s++) {
        const row = ids ? ids[b * Sq + s]! : b * Sq + s;
        if (ids && !(row >= 0 && row < cosT.shape[0]!)) c.fail(`position id ${row} is outside the caches' ${cosT.shape[0]} rows`);
        for (let n = 0; n < heads; n++) {
          const base = at(b, s, n);
          for (let i = 0; i < half; i++) {
            const [p1, p2] = interleaved ? [base + 2 * i, base + 2 * i + 1] : [base + i, base + i + half];
            const co = cos[row * half + i]!, si = sin[row * half + i]!;
            const a1 = src[p1]!, a2 = src[p2]!;
            y[p1] = a1 * co - a2 * si;
            y[p2] = a2 * co + a1 * si;
          }
        }
      }
    }
    return [small(y, x.shape, x.dtype, c.device)];
  },
});
