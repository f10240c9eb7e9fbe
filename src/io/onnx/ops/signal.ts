// ONNX signal ops as typed-array kernels (cpuOnly), computed in float64: DFT (opset 17 axis attribute, opset 20 axis
// input; forward, inverse, one-sided RFFT and IRFFT), STFT, the Hann/Hamming/Blackman windows and MelWeightMatrix.
// The DFT is the direct O(n²) sum (a reference, not an FFT). Complex values are a trailing dim of 2 (real, imag); a
// real input has a trailing dim of 1.
import type { DType } from '../../../tensor/dtype.js';
import { numel, shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { onnxCodeDType, onnxCodeName } from '../values.js';
import { registerOnnxOp, type NodeContext, type RunContext } from './registry.js';
import { FLOAT_DTYPES, hostOut, requireDType, valuesOf } from './host.js';

/**
 * out[k] = Σ_{n<len} x[n] e^{∓2πi kn/size} for k < outLen (inverse: + and divided by size). x is read at
 * (re[n], im[n]) for n < len (zero beyond: padding), written to (outRe, outIm).
 */
function dft1(re: Float64Array, im: Float64Array, len: number, size: number, outLen: number, inverse: boolean, outRe: Float64Array, outIm: Float64Array): void {
  const sign = inverse ? 1 : -1;
  for (let k = 0; k < outLen; k++) {
    let sr = 0, si = 0;
    for (let n = 0; n < len; n++) {
      const ang = (sign * 2 * Math.PI * ((k * n) % size)) / size;
      const c = Math.cos(ang), s = Math.sin(ang);
      sr += re[n]! * c - im[n]! * s;
      si += re[n]! * s + im[n]! * c;
    }
    outRe[k] = inverse ? sr / size : sr;
    outIm[k] = inverse ? si / size : si;
  }
}

/** The float output dtype of a signal op from its input (float16 stays float16). */
const floatOf = (x: Tensor): DType => (x.dtype === 'float16' ? 'float16' : 'float32');

function dft(c: RunContext): Tensor {
  const x = c.input(0);
  const cplx = x.shape[x.rank - 1];
  if (x.rank < 2 || (cplx !== 1 && cplx !== 2)) c.fail(`input must end in a dim of 1 (real) or 2 (complex), found ${shapeStr(x.shape)}`);
  const inverse = c.attrs.intOf('inverse', [0, 1], 0) === 1, onesided = c.attrs.intOf('onesided', [0, 1], 0) === 1;
  let axis: number;
  if (c.opset >= 20) {
    const a = c.ints(2);
    axis = a && a.length ? a[0]! : -2;
  } else axis = c.attrs.int('axis', 1);
  if (axis < 0) axis += x.rank;
  if (!(axis >= 0 && axis < x.rank - 1)) c.fail(`axis ${axis} must name a signal dim of ${shapeStr(x.shape)} (not the last, complex dim)`);
  const n = x.shape[axis]!;
  const irfft = onesided && inverse;
  if (irfft && cplx !== 2) c.fail('a one-sided inverse DFT (IRFFT) needs a complex input');
  if (onesided && !inverse && cplx !== 1) c.fail('a one-sided forward DFT (RFFT) needs a real input');
  const lenIn = c.ints(1);
  const size = lenIn && lenIn.length ? lenIn[0]! : irfft ? 2 * (n - 1) : n;
  if (!(size >= 1)) c.fail(`dft_length must be positive, found ${size}`);
  const outLen = onesided && !inverse ? Math.floor(size / 2) + 1 : size;
  const outC = irfft ? 1 : 2;
  const outShape = x.shape.slice();
  outShape[axis] = outLen;
  outShape[x.rank - 1] = outC;
  const outer = numel(x.shape.slice(0, axis)), inner = numel(x.shape.slice(axis + 1, -1));
  const v = valuesOf(x);
  const out = new Float64Array(numel(outShape));
  const re = new Float64Array(size), im = new Float64Array(size), oRe = new Float64Array(outLen), oIm = new Float64Array(outLen);
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      re.fill(0);
      im.fill(0);
      const at = (j: number) => ((o * n + j) * inner + q) * cplx;
      if (irfft) {
        // rebuild the full spectrum from its first half: X[size - k] = conj(X[k])
        for (let k = 0; k < size; k++) {
          const src = k < n ? k : size - k;
          if (src >= n || src < 0) continue;
          re[k] = v[at(src)]!;
          im[k] = k < n ? v[at(src) + 1]! : -v[at(src) + 1]!;
        }
      } else {
        for (let j = 0; j < Math.min(n, size); j++) {
          re[j] = v[at(j)]!;
          im[j] = cplx === 2 ? v[at(j) + 1]! : 0;
        }
      }
      dft1(re, im, size, size, outLen, inverse, oRe, oIm);
      for (let k = 0; k < outLen; k++) {
        const p = ((o * outLen + k) * inner + q) * outC;
        out[p] = oRe[k]!;
        if (outC === 2) out[p + 1] = oIm[k]!;
      }
    }
  }
  return hostOut(c, out, outShape, floatOf(x));
}

registerOnnxOp('DFT', {
  cpuOnly: true,
  hostInputs: [1, 2],
  validate: (c) => { c.attrs.intOf('inverse', [0, 1], 0); c.attrs.intOf('onesided', [0, 1], 0); },
  infer: (c) => (requireDType(c, 0, FLOAT_DTYPES), [{ dtype: c.inputs[0]?.dtype ?? 'float32' }]),
  run: (c) => [dft(c)],
});

registerOnnxOp('STFT', {
  // signal [batch, length, 1 or 2], frame_step, optional window [L], optional frame_length -> [batch, frames, bins, 2]
  cpuOnly: true,
  hostInputs: [1, 3],
  validate: (c) => { c.attrs.intOf('onesided', [0, 1], 1); },
  infer: (c) => (requireDType(c, 0, FLOAT_DTYPES), [{ dtype: c.inputs[0]?.dtype ?? 'float32' }]),
  run: (c) => {
    const x = c.input(0), win = c.inputs[2];
    if (x.rank !== 3 || (x.shape[2] !== 1 && x.shape[2] !== 2)) c.fail(`signal must be [batch, length, 1 or 2], found ${shapeStr(x.shape)}`);
    const [batch, length, cplx] = [x.shape[0]!, x.shape[1]!, x.shape[2]!];
    const step = c.ints(1)?.[0] ?? c.fail('input 1 (frame_step) is required');
    const lenIn = c.ints(3);
    const L = lenIn && lenIn.length ? lenIn[0]! : win ? win.shape[0]! : length;
    if (win && (win.rank !== 1 || win.shape[0] !== L)) c.fail(`window must be 1-D of frame_length ${L}, found ${shapeStr(win.shape)}`);
    if (!(step >= 1) || !(L >= 1) || L > length) c.fail(`frame_step ${step} and frame_length ${L} must be positive, the frame at most the signal length ${length}`);
    const onesided = c.attrs.intOf('onesided', [0, 1], 1) === 1;
    if (onesided && cplx === 2) c.fail('onesided output needs a real signal');
    const frames = Math.floor((length - L) / step) + 1, bins = onesided ? Math.floor(L / 2) + 1 : L;
    const w = win ? valuesOf(win) : undefined, v = valuesOf(x);
    const out = new Float64Array(batch * frames * bins * 2);
    const re = new Float64Array(L), im = new Float64Array(L), oRe = new Float64Array(bins), oIm = new Float64Array(bins);
    for (let b = 0; b < batch; b++) {
      for (let f = 0; f < frames; f++) {
        for (let j = 0; j < L; j++) {
          const p = (b * length + f * step + j) * cplx, wj = w ? w[j]! : 1;
          re[j] = v[p]! * wj;
          im[j] = cplx === 2 ? v[p + 1]! * wj : 0;
        }
        dft1(re, im, L, L, bins, false, oRe, oIm);
        for (let k = 0; k < bins; k++) {
          const p = ((b * frames + f) * bins + k) * 2;
          out[p] = oRe[k]!;
          out[p + 1] = oIm[k]!;
        }
      }
    }
    return [hostOut(c, out, [batch, frames, bins, 2], floatOf(x))];
  },
});

/** A window's output dtype (output_datatype, default float). */
function windowDType(c: NodeContext): DType {
  const code = c.attrs.int('output_datatype', 1);
  const d = onnxCodeDType(code, true);
  if (!d) c.fail(`output_datatype ${onnxCodeName(code)} is not supported`);
  return d;
}

/** Window value at n for the denominator d (size when periodic, size - 1 when symmetric). */
const WINDOWS: Record<string, (n: number, d: number) => number> = {
  HannWindow: (n, d) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / d),
  HammingWindow: (n, d) => 25 / 46 - (21 / 46) * Math.cos((2 * Math.PI * n) / d),
  BlackmanWindow: (n, d) => 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / d) + 0.08 * Math.cos((4 * Math.PI * n) / d),
};
for (const [opType, f] of Object.entries(WINDOWS)) {
  registerOnnxOp(opType, {
    cpuOnly: true,
    hostInputs: [0],
    validate: (c) => { c.attrs.intOf('periodic', [0, 1], 1); windowDType(c); },
    infer: (c) => [{ dtype: windowDType(c) }],
    run: (c) => {
      const sizeV = c.ints(0) ?? c.fail('input 0 (size) is required');
      if (sizeV.length !== 1 || !(sizeV[0]! >= 0)) c.fail(`size must be one non-negative value, found ${JSON.stringify(sizeV)}`);
      const size = sizeV[0]!;
      const d = c.attrs.intOf('periodic', [0, 1], 1) === 1 ? size : size - 1;
      const out = Float64Array.from({ length: size }, (_, n) => (d === 0 ? 1 : f(n, d)));
      return [hostOut(c, out, [size], windowDType(c))];
    },
  });
}

registerOnnxOp('MelWeightMatrix', {
  // [dft_length/2 + 1, num_mel_bins] triangles with peak 1 between mel-spaced bin edges (the ONNX reference's rounding)
  cpuOnly: true,
  hostInputs: [0, 1, 2, 3, 4],
  validate: (c) => { windowDType(c); },
  infer: (c) => [{ dtype: windowDType(c) }],
  run: (c) => {
    const one = (i: number, what: string) => {
      const v = c.floats(i) ?? [];
      if (v.length !== 1) c.fail(`input ${i} (${what}) must be a scalar`);
      return v[0]!;
    };
    const mels = one(0, 'num_mel_bins'), size = one(1, 'dft_length'), rate = one(2, 'sample_rate');
    const lo = one(3, 'lower_edge_hertz'), hi = one(4, 'upper_edge_hertz');
    if (!(mels >= 1 && size >= 1 && rate > 0 && lo >= 0 && hi > lo)) c.fail(`expected num_mel_bins, dft_length, sample_rate > 0 and 0 <= lower_edge_hertz < upper_edge_hertz, found ${mels}, ${size}, ${rate}, ${lo}, ${hi}`);
    const bins = Math.floor(size / 2) + 1;
    const mel = (f: number) => (2595 * Math.log1p(f / 700)) / Math.LN10;
    const lowMel = mel(lo), step = (mel(hi) - lowMel) / (mels + 2);
    const edge = Array.from({ length: mels + 2 }, (_, i) => Math.floor(((size + 1) * (700 * Math.expm1(((i * step + lowMel) / 2595) * Math.LN10))) / rate));
    const out = new Float64Array(bins * mels);
    const set = (j: number, i: number, v: number) => { if (j >= 0 && j < bins) out[j * mels + i] = v; };
    for (let i = 0; i < mels; i++) {
      const [l, m, r] = [edge[i]!, edge[i + 1]!, edge[i + 2]!];
      if (m === l) set(m, i, 1);
      else for (let j = l; j <= m; j++) set(j, i, (j - l) / (m - l));
      if (r > m) for (let j = m; j < r; j++) set(j, i, (r - j) / (r - m));
    }
    return [hostOut(c, out, [bins, mels], windowDType(c))];
  },
});
