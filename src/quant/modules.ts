// Quantized layers: QuantizedLinear and QuantizedConv2d hold a QTensor weight (`weight.qs`, `weight.d`) and a float
// bias, and run the int8 kernels: W8A8 with activations quantized at run time per row / per image (dynamic) or
// with one calibrated scale (static), or W8 weight-only (activations stay float).
import { numel, shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { fromStorage } from '../tensor/creation.js';
import type { ActivationName } from '../ops/attrs.js';
import type { Conv2dOptions } from '../ops/conv.js';
import { conv2dInt8, linearInt8, linearW8, quantizeRows } from '../ops/quant.js';
import { Module } from '../nn/module.js';
import type { Linear } from '../nn/linear.js';
import type { Conv2d } from '../nn/conv.js';
import type { WeightScheme } from './formats.js';
import { QTensor } from './qtensor.js';

/** How a layer's input is treated: quantized per row at run time, with a calibrated scale, or kept float. */
export type ActivationMode = 'dynamic' | 'static' | 'none';
export const ACTIVATION_MODES: readonly ActivationMode[] = ['dynamic', 'static', 'none'];

/** What a quantized layer is, as recorded in a quantized model's metadata. */
export interface LayerScheme {
  type: 'Linear' | 'Conv2d';
  weights: WeightScheme;
  activations: ActivationMode;
  /** Static activation scale (activations 'static'). */
  scale?: number;
  /** Float weight shape, values per row (true K), padded row length and block (0 or 32). */
  shape: number[];
  k: number;
  kp: number;
  block: number;
}

/** Options of the quantized layers: weight scheme, activation mode (and static scale), device, scale dtype. */
export interface QuantOptions {
  weights?: WeightScheme;
  activations?: ActivationMode;
  staticScale?: number;
  device?: string;
  scaleDType?: 'float32' | 'float16';
}

function checkMode(what: string, activations: ActivationMode, staticScale: number): void {
  if (!ACTIVATION_MODES.includes(activations)) throw new RangeError(`forwardpass: ${what}: activations must be one of ${ACTIVATION_MODES.join(', ')}, got '${String(activations)}'`);
  if (activations === 'static' && !(staticScale >= 2 ** -126 && staticScale <= 3.4e38)) {
    throw new RangeError(`forwardpass: ${what}: static activations need a positive finite scale, got ${String(staticScale)}`);
  }
}

/**
 * Linear layer with int8 weights: [..., in] -> [..., out]. Usually made by `quantize(model)`.
 *
 * @example const q = await QuantizedLinear.fromLinear(fc, { weights: 'q8_0' }); q.forward(x);
 */
export class QuantizedLinear extends Module {
  readonly weight: QTensor;
  readonly activation: ActivationName;
  readonly activations: ActivationMode;
  readonly staticScale: number;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: QuantOptions & { bias?: boolean; activation?: ActivationName } = {}) {
    super();
    this.activation = opts.activation ?? 'none';
    this.activations = opts.activations ?? 'dynamic';
    this.staticScale = this.activations === 'static' ? opts.staticScale ?? NaN : 0;
    checkMode('QuantizedLinear', this.activations, this.staticScale);
    this.weight = this.registerModule('weight', new QTensor([outFeatures, inFeatures], opts.weights ?? 'per-channel', opts));
    if (opts.bias ?? true) this.registerParameter('bias', fromStorage(new Float32Array(outFeatures), [outFeatures], 'float32', opts.device));
  }

  get bias(): Tensor | undefined {
    return this.maybeParameter('bias');
  }

  /** Quantize a Linear's weight (its bias and fused activation are kept). */
  static async fromLinear(lin: Linear, opts: QuantOptions & { name?: string } = {}): Promise<QuantizedLinear> {
    const q = await QTensor.fromTensor(lin.weight, opts.weights ?? 'per-channel', opts.name ?? 'Linear');
    const m = new QuantizedLinear(lin.inFeatures, lin.outFeatures, { ...opts, bias: lin.bias !== undefined, activation: lin.activation, device: lin.weight.device, scaleDType: q.d.dtype as 'float32' | 'float16' });
    adopt(m, q, lin.bias);
    return m;
  }

  describe(): LayerScheme {
    return describe('Linear', this.weight, this.activations, this.staticScale);
  }

  override forward(x: Tensor): Tensor {
    const K = this.inFeatures, N = this.outFeatures;
    if (x.rank < 1 || x.shape[x.rank - 1] !== K) {
      throw new RangeError(`forwardpass: QuantizedLinear(${K} -> ${N}): expected an input [..., ${K}], got ${shapeStr(x.shape)}`);
    }
    const lead = x.shape.slice(0, -1);
    const x2 = x.reshape([numel(lead), K]);
    const { qs, d, block } = this.weight;
    const bias = this.bias ?? null;
    let y: Tensor;
    if (this.activations === 'none') y = linearW8(x2, qs, d, bias, { block, activation: this.activation });
    else {
      const [xq, xs] = quantizeRows(x2, { block, staticScale: this.staticScale });
      y = linearInt8(xq, xs, qs, d, bias, { block, k: K, activation: this.activation, dtype: x.dtype === 'float16' ? 'float16' : 'float32' });
    }
    return y.reshape([...lead, N]);
  }
}

/**
 * Conv2d with int8 weights (one scale per output channel); W8A8 quantizes each input image with one scale.
 *
 * @example const q = await QuantizedConv2d.fromConv2d(conv); q.forward(x); // [N, C, H, W] -> [N, O, Ho, Wo]
 */
export class QuantizedConv2d extends Module {
  readonly weight: QTensor;
  readonly activations: ActivationMode;
  readonly staticScale: number;
  readonly kernelSize: [number, number];

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: [number, number], readonly options: Conv2dOptions, opts: QuantOptions & { bias?: boolean } = {}) {
    super();
    this.kernelSize = [kernelSize[0], kernelSize[1]];
    this.activations = opts.activations ?? 'dynamic';
    this.staticScale = this.activations === 'static' ? opts.staticScale ?? NaN : 0;
    checkMode('QuantizedConv2d', this.activations, this.staticScale);
    if ((opts.weights ?? 'per-channel') !== 'per-channel') throw new RangeError(`forwardpass: QuantizedConv2d: conv weights are quantized per output channel, got '${String(opts.weights)}'`);
    const groups = options.groups ?? 1;
    this.weight = this.registerModule('weight', new QTensor([outChannels, inChannels / groups, ...this.kernelSize], 'per-channel', opts));
    if (opts.bias ?? true) this.registerParameter('bias', fromStorage(new Float32Array(outChannels), [outChannels], 'float32', opts.device));
  }

  get bias(): Tensor | undefined {
    return this.maybeParameter('bias');
  }

  /** Quantize a Conv2d's weight per output channel (its bias is kept). */
  static async fromConv2d(conv: Conv2d, opts: Omit<QuantOptions, 'weights'> & { name?: string } = {}): Promise<QuantizedConv2d> {
    const q = await QTensor.fromTensor(conv.weight, 'per-channel', opts.name ?? 'Conv2d');
    const m = new QuantizedConv2d(conv.inChannels, conv.outChannels, conv.kernelSize, conv.options, { ...opts, bias: conv.bias !== undefined, device: conv.weight.device });
    adopt(m, q, conv.bias);
    return m;
  }

  describe(): LayerScheme {
    return describe('Conv2d', this.weight, this.activations, this.staticScale);
  }

  override forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new RangeError(`forwardpass: QuantizedConv2d(${this.inChannels} -> ${this.outChannels}): expected an input [N, ${this.inChannels}, H, W], got ${shapeStr(x.shape)}`);
    }
    const { qs, d } = this.weight;
    const bias = this.bias ?? null;
    const opts = { ...this.options, kernel: this.kernelSize };
    if (this.activations === 'none') return conv2dInt8(x, d, qs, d, bias, opts);
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const [q, s] = quantizeRows(x.reshape([N, C * H * W]), { staticScale: this.staticScale });
    const rows = q.shape[1] === C * H * W ? q : q.narrow(1, 0, C * H * W);
    return conv2dInt8(rows.reshape([N, C, H, W]), s, qs, d, bias, { ...opts, dtype: x.dtype === 'float16' ? 'float16' : 'float32' });
  }
}

/** Move a freshly quantized weight and the float bias into a new quantized layer. */
function adopt(m: QuantizedLinear | QuantizedConv2d, q: QTensor, bias: Tensor | undefined): void {
  m.weight._replaceTensor('qs', q.qs.reshape(q.qs.shape));
  m.weight._replaceTensor('d', q.d.reshape(q.d.shape));
  q.dispose();
  if (bias) m._replaceTensor('bias', bias.clone());
}

function describe(type: 'Linear' | 'Conv2d', w: QTensor, activations: ActivationMode, staticScale: number): LayerScheme {
  return { type, weights: w.scheme, activations, ...(activations === 'static' ? { scale: staticScale } : {}), shape: [...w.shape], k: w.k, kp: w.kp, block: w.block };
}
