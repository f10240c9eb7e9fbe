// Activation modules named as in torch.nn: ReLU, ReLU6, GELU, SiLU, Tanh, Sigmoid, Softmax, LeakyReLU.
// They hold no state; each forwards to the elementwise or softmax op of the same name.
import type { Tensor } from '../tensor/tensor.js';
import { gelu, leakyRelu, relu, relu6, sigmoid, silu, tanh } from '../ops/elementwise.js';
import { softmax } from '../ops/reduce.js';
import { Module } from './module.js';

/** max(x, 0). @example new ReLU().forward(x) */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** min(max(x, 0), 6). @example new ReLU6().forward(x) */
export class ReLU6 extends Module {
  override forward(x: Tensor): Tensor {
    return relu6(x);
  }
}

/** GELU, exact (erf) by default or `approximate: 'tanh'` (GPT-2). @example new GELU({ approximate: 'tanh' }) */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    const a = opts.approximate ?? 'none';
    if (a !== 'none' && a !== 'tanh') throw new RangeError(`forwardpass: GELU: approximate must be 'none' or 'tanh', got '${String(a)}'`);
    this.approximate = a;
  }
  override forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
}

/** x·sigmoid(x). @example new SiLU().forward(x) */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** @example new Tanh().forward(x) */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** @example new Sigmoid().forward(x) */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** x for x >= 0, negativeSlope·x otherwise. @example new LeakyReLU(0.2) */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
}

/** Softmax along `dim` (PyTorch requires it; default here: the last dim). @example new Softmax(-1) */
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
    if (!Number.isInteger(dim)) throw new RangeError(`forwardpass: Softmax: dim must be an integer, got ${String(dim)}`);
  }
  override forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}
