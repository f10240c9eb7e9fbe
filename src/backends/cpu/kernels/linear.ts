// CPU linear kernel: y = act(x·wᵀ + bias), the hot path of every model, on top of the matmul machinery.
// Legend: M = rows of x (tokens or batch), K = in features, N = out features; x [M, K], w [N, K] (nn.Linear layout).
import type { ActivationName } from '../../../ops/attrs.js';
import { UNARY } from '../../../ops/elementwise.js';
import type { CpuKernel, NumArray } from '../types.js';
import { gemm, type Gemm } from './matmul.js';

/** Add bias [N] to every row of out [M, N] and apply the activation, in one pass. */
export function linearEpilogue(o: NumArray, M: number, N: number, bias: NumArray | null, bOff: number, activation: ActivationName): void {
  if (bias) {
    for (let i = 0, p = 0; i < M; i++) for (let j = 0; j < N; j++, p++) o[p] += bias[bOff + j]!;
  }
  const n = M * N;
  if (activation === 'none') return;
  if (activation === 'relu') {
    for (let p = 0; p < n; p++) if (o[p]! < 0) o[p] = 0; // as the relu op: NaN stays NaN
    return;
  }
  const f = UNARY[activation].ref;
  for (let p = 0; p < n; p++) o[p] = f(o[p]!, 0, 0);
}

/** A linear kernel from a product (the benchmark swaps products; the table uses `gemm`). */
export function linearWith(prod: Gemm): CpuKernel<{ activation: ActivationName }> {
  return ([out], [x, w, bias], { activation }) => {
    const [M, K] = x!.shape as [number, number];
    const N = w!.shape[0]!;
    const o = out!.data;
    prod(M, N, K, x!.data, x!.offset, w!.data, w!.offset, true, o, 0);
    linearEpilogue(o, M, N, bias ? bias.data : null, bias ? bias.offset : 0, activation);
  };
}

/** linear kernel: x [M, K], w [N, K], optional bias [N] -> act(x·wᵀ + bias) [M, N] (all contiguous). */
export const linear = linearWith(gemm);
