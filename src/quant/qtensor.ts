// QTensor: a quantized weight as a (forward-less) Module holding int8 quants `qs` [rows, Kp] and scales `d`
// [rows, nb], so a layer's state dict has `<layer>.weight.qs` (I8) and `<layer>.weight.d` (F32, or F16 for Q8_0
// as ggml stores them), and parameterBytes() counts what is really held.
import { f16ToF32, f32ToF16 } from '../tensor/dtype.js';
import { numel, shapeStr, unravelIndex } from '../tensor/shape.js';
import { fromStorage, zeros } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { paddedLength, QK8_0, quantizeRowsRef, roundScalesToF16, type WeightScheme } from './formats.js';

export const WEIGHT_SCHEMES: readonly WeightScheme[] = ['per-channel', 'q8_0'];

/** Float32 value rounded to the nearest float16 (as a number). */
const toF16 = (v: number) => f16ToF32(f32ToF16(v));

/**
 * A quantized weight of float shape `shape` ([rows, ...]: each row, flattened, is quantized on its own).
 *
 * @example const q = await QTensor.fromTensor(linear.weight, 'q8_0', 'fc1'); q.bytes(); await q.dequantize();
 */
export class QTensor extends Module {
  readonly shape: readonly number[];
  readonly rows: number;
  /** Values per row (the true K). */
  readonly k: number;
  /** Padded row length. */
  readonly kp: number;
  /** 0 (one scale per row) or QK8_0. */
  readonly block: number;

  constructor(shape: readonly number[], readonly scheme: WeightScheme, opts: { device?: string; scaleDType?: 'float32' | 'float16' } = {}) {
    super();
    if (!WEIGHT_SCHEMES.includes(scheme)) throw new RangeError(`forwardpass: QTensor: scheme must be one of ${WEIGHT_SCHEMES.join(', ')}, got '${String(scheme)}'`);
    if (shape.length < 2 || shape.some((d) => !Number.isInteger(d) || d < 1)) throw new RangeError(`forwardpass: QTensor: expected a weight shape [rows, ...] of positive sizes, got ${shapeStr(shape)}`);
    this.shape = Object.freeze([...shape]);
    this.rows = shape[0]!;
    this.k = numel(shape.slice(1));
    this.block = scheme === 'q8_0' ? QK8_0 : 0;
    this.kp = paddedLength(this.k, this.block);
    const device = opts.device;
    this.registerParameter('qs', zeros([this.rows, this.kp], { dtype: 'int8', device }));
    this.registerParameter('d', zeros([this.rows, this.nb], { dtype: opts.scaleDType ?? 'float32', device }));
  }

  /** Scales per row. */
  get nb(): number {
    return this.block > 0 ? this.kp / this.block : 1;
  }
  get qs(): Tensor {
    return this.getParameter('qs');
  }
  get d(): Tensor {
    return this.getParameter('d');
  }

  /** Bytes of quants and scales. */
  bytes(): number {
    return this.parameterBytes();
  }

  /** Bytes of the float32 weight this stands for. */
  floatBytes(): number {
    return this.rows * this.k * 4;
  }

  /**
   * Quantize a float weight [rows, ...] (read from its device; every value must be finite). Q8_0 scales are
   * stored as float16 unless one falls outside float16's normal range (then float32).
   */
  static async fromTensor(w: Tensor, scheme: WeightScheme, layer: string): Promise<QTensor> {
    if (w.dtype !== 'float32' && w.dtype !== 'float16') throw new TypeError(`forwardpass: quantize: layer '${layer}' weight must be float32 or float16, got ${w.dtype}`);
    const q0 = new QTensor(w.shape, scheme, { device: w.device });
    const data = await w.data();
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      q0.dispose();
      const idx = unravelIndex(bad, w.shape);
      throw new RangeError(`forwardpass: quantize: layer '${layer}' weight ${shapeStr(w.shape)} holds ${data[bad]} at [${idx.join(', ')}]; int8 weights need finite values`);
    }
    const q = quantizeRowsRef(data, q0.rows, q0.k, q0.block);
    const f16 = scheme === 'q8_0' && roundScalesToF16(q, data, toF16);
    const out = f16 ? (q0.dispose(), new QTensor(w.shape, scheme, { device: w.device, scaleDType: 'float16' })) : q0;
    out._replaceTensor('qs', fromStorage(q.qs, [out.rows, out.kp], 'int8', w.device));
    out._replaceTensor('d', fromStorage(f16 ? Uint16Array.from(q.d, f32ToF16) : q.d, [out.rows, out.nb], f16 ? 'float16' : 'float32', w.device));
    return out;
  }

  /** The float32 weight these quants stand for, in the original shape: qs · d. */
  async dequantize(): Promise<Tensor> {
    const qs = (await this.qs.data()) as Int8Array;
    const d = (await this.d.data()) as Float32Array;
    const out = new Float32Array(this.rows * this.k);
    const nb = this.nb, bl = this.block > 0 ? this.block : this.kp;
    for (let r = 0; r < this.rows; r++) {
      for (let i = 0; i < this.k; i++) out[r * this.k + i] = qs[r * this.kp + i]! * d[r * nb + Math.floor(i / bl)]!;
    }
    return fromStorage(out, this.shape, 'float32', this.qs.device);
  }

  override forward(): never {
    throw new Error(`forwardpass: QTensor: a quantized weight has no forward(); the layer that owns it runs the int8 kernels`);
  }
}

function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

