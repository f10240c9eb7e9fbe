// Conv1d and Conv2d modules: PyTorch constructor arguments and weight layout [out, in/groups, k...].
import type { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/creation.js';
import { conv1d, conv2d, type Conv1dOptions, type Conv2dOptions } from '../ops/conv.js';
import { Module } from './module.js';

function checkChannels(op: string, inC: number, outC: number, groups: number): void {
  for (const [n, v] of [['inChannels', inC], ['outChannels', outC], ['groups', groups]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`forwardpass: ${op}: ${n} must be a positive integer, got ${String(v)}`);
  }
  if (inC % groups !== 0 || outC % groups !== 0) {
    throw new RangeError(`forwardpass: ${op}: inChannels ${inC} and outChannels ${outC} must both be divisible by groups ${groups}`);
  }
}

function kernelPair(k: number | [number, number]): [number, number] {
  const p = typeof k === 'number' ? [k, k] : k;
  if (!Array.isArray(p) || p.length !== 2 || p.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new RangeError(`forwardpass: Conv2d: kernelSize must be a positive integer or a pair of them, got ${JSON.stringify(k)}`);
  }
  return [p[0]!, p[1]!];
}

/**
 * What Conv1d and Conv2d share: the channel checks, then `kernel()` (checks and returns the kernel dims), weight
 * [outC, inC/groups, ...kernel], an optional bias [outC] and the options for the op.
 *
 * @example class Conv3 extends ConvModule<Conv1dOptions> { constructor() { super('Conv3', 1, 1, () => [3], {}); } }
 */
export abstract class ConvModule<O extends { groups?: number }> extends Module {
  readonly options: O;
  constructor(op: string, readonly inChannels: number, readonly outChannels: number, kernel: () => number[], opts: O & { bias?: boolean }) {
    super();
    const groups = opts.groups ?? 1;
    checkChannels(op, inChannels, outChannels, groups);
    const dims = kernel();
    const { bias = true, ...conv } = opts;
    this.options = conv as O;
    this.registerParameter('weight', zeros([outChannels, inChannels / groups, ...dims]));
    if (bias) this.registerParameter('bias', zeros([outChannels]));
  }
  get weight(): Tensor {
    return this.getParameter('weight');
  }
  get bias(): Tensor | undefined {
    return this.maybeParameter('bias');
  }
}

export interface Conv2dModuleOptions extends Conv2dOptions {
  /** Add a bias [out] (default true). */
  bias?: boolean;
}

/**
 * 2-D convolution over NCHW input: weight [outC, inC/groups, kH, kW], bias [outC].
 *
 * @example const conv = new Conv2d(1, 16, 3, { padding: 1 }); conv.forward(x); // [N, 1, H, W] -> [N, 16, H, W]
 */
export class Conv2d extends ConvModule<Conv2dOptions> {
  readonly kernelSize: [number, number];
  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], opts: Conv2dModuleOptions = {}) {
    let k: [number, number] = [0, 0];
    super('Conv2d', inChannels, outChannels, () => (k = kernelPair(kernelSize)), opts);
    this.kernelSize = k;
  }
  override forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias ?? null, this.options);
  }
}

export interface Conv1dModuleOptions extends Conv1dOptions {
  /** Add a bias [out] (default true). */
  bias?: boolean;
}

/**
 * 1-D convolution over [N, C, L] input: weight [outC, inC/groups, k], bias [outC].
 *
 * @example const conv = new Conv1d(8, 16, 5, { padding: 2 }); conv.forward(x); // [N, 8, L] -> [N, 16, L]
 */
export class Conv1d extends ConvModule<Conv1dOptions> {
  constructor(inChannels: number, outChannels: number, readonly kernelSize: number, opts: Conv1dModuleOptions = {}) {
    super('Conv1d', inChannels, outChannels, () => {
      if (!Number.isInteger(kernelSize) || kernelSize <= 0) throw new RangeError(`forwardpass: Conv1d: kernelSize must be a positive integer, got ${JSON.stringify(kernelSize)}`);
      return [kernelSize];
    }, opts);
  }
  override forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias ?? null, this.options);
  }
}
