// Stateless shape and pass-through modules: Identity, Dropout (identity at inference) and Flatten.
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** Returns its input unchanged. @example new Identity().forward(x) === x */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/** Dropout: the identity, since this library only runs inference. `p` is kept for reference. @example new Dropout(0.1) */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`forwardpass: Dropout: p must be a probability in [0, 1], got ${String(p)}`);
  }
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/** Merge dims startDim..endDim (inclusive) into one; defaults as torch.nn.Flatten (1, -1). @example new Flatten().forward(x) // [N, C*H*W] */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
    if (!Number.isInteger(startDim) || !Number.isInteger(endDim)) throw new RangeError(`forwardpass: Flatten: startDim and endDim must be integers, got ${String(startDim)}, ${String(endDim)}`);
  }
  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}
