// The NaN / ±Inf cases of test/nan/expected.json (written by gen.py from PyTorch) and the forwardpass call for each
// op name there, with the comparison rule: non-finite values must match exactly, finite ones within a tolerance.
import { readFileSync } from 'node:fs';
import * as fp from '../../src/index.js';

type Enc = number | 'NaN' | 'Infinity' | '-Infinity';
interface EncTensor { shape: number[]; dtype: 'float32' | 'int32' | 'bool'; data: Enc[] }
export interface NanCase { name: string; op: string; attrs: Record<string, number | number[] | string | boolean>; inputs: number[]; out: EncTensor }

const file = JSON.parse(readFileSync(new URL('./expected.json', import.meta.url), 'utf8')) as { torch: string; tensors: EncTensor[]; cases: NanCase[] };
export const CASES = file.cases;
export const TORCH_VERSION = file.torch;

const dec = (v: Enc) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);

/** A CPU tensor from its encoded form. */
function decode(t: EncTensor): fp.Tensor {
  const v = t.data.map(dec);
  if (t.dtype === 'bool') return fp.tensor(Uint8Array.from(v), { dtype: 'bool', shape: t.shape });
  if (t.dtype === 'int32') return fp.tensor(Int32Array.from(v), { dtype: 'int32', shape: t.shape });
  return fp.tensor(Float32Array.from(v), { shape: t.shape });
}

/** The case named `name` (for tests that reuse its inputs and PyTorch's values). */
export function caseNamed(name: string): NanCase {
  const c = CASES.find((k) => k.name === name);
  if (!c) throw new Error(`test/nan/expected.json has no case '${name}'`);
  return c;
}

/** Input i of a case: dims and decoded values. */
export function inputData(c: NanCase, i = 0): { dims: number[]; data: number[] } {
  const t = file.tensors[c.inputs[i]!]!;
  return { dims: t.shape, data: t.data.map(dec) };
}

/** The inputs of a case as CPU tensors (fresh each call). */
export const inputsOf = (c: NanCase) => c.inputs.map((i) => decode(file.tensors[i]!));
/** The expected values, decoded. */
export const expectedOf = (c: NanCase) => c.out.data.map(dec);

type Call = (ins: fp.Tensor[], a: NanCase['attrs']) => fp.Tensor;
const n = (v: unknown) => v as number;
const unary = (f: (x: fp.Tensor) => fp.Tensor): Call => ([x]) => f(x!);
const binary = (f: (a: fp.Tensor, b: fp.Tensor) => fp.Tensor): Call => ([a, b]) => f(a!, b!);
const axisOpt = (a: NanCase['attrs']) => (a.axis === undefined ? {} : { axis: a.axis as number | number[], keepdim: !!a.keepdim });

const argOpt = (a: NanCase['attrs']) => (a.axis === undefined ? {} : { axis: n(a.axis) });

/** forwardpass's form of every op gen.py uses. */
export const OPS: Record<string, Call> = {
  neg: unary(fp.neg), abs: unary(fp.abs), exp: unary(fp.exp), log: unary(fp.log), sqrt: unary(fp.sqrt), rsqrt: unary(fp.rsqrt),
  reciprocal: unary(fp.reciprocal), square: unary(fp.square), sin: unary(fp.sin), cos: unary(fp.cos), tanh: unary(fp.tanh),
  erf: unary(fp.erf), sigmoid: unary(fp.sigmoid), relu: unary(fp.relu), relu6: unary(fp.relu6), gelu: unary(fp.gelu),
  geluTanh: unary((x) => fp.gelu(x, { approximate: 'tanh' })), silu: unary(fp.silu), floor: unary(fp.floor), ceil: unary(fp.ceil),
  round: unary(fp.round), sign: unary(fp.sign), hardSwish: unary(fp.hardSwish), hardSigmoid: unary(fp.hardSigmoid),
  softplus: unary(fp.softplus), logicalNot: unary(fp.logicalNot),
  clamp: ([x], a) => fp.clamp(x!, a.min === undefined ? undefined : n(a.min), a.max === undefined ? undefined : n(a.max)),
  leakyRelu: ([x], a) => fp.leakyRelu(x!, n(a.alpha)),
  elu: ([x], a) => fp.elu(x!, n(a.alpha)),
  add: binary(fp.add), sub: binary(fp.sub), mul: binary(fp.mul), div: binary(fp.div), pow: binary(fp.pow),
  maximum: binary(fp.maximum), minimum: binary(fp.minimum), remainder: binary(fp.remainder),
  eq: binary(fp.eq), ne: binary(fp.ne), lt: binary(fp.lt), le: binary(fp.le), gt: binary(fp.gt), ge: binary(fp.ge),
  logicalAnd: binary(fp.logicalAnd), logicalOr: binary(fp.logicalOr),
  where: ([c, a, b]) => fp.where(c!, a!, b!),
  sum: ([x], a) => fp.sum(x!, axisOpt(a)), mean: ([x], a) => fp.mean(x!, axisOpt(a)),
  max: ([x], a) => fp.max(x!, axisOpt(a)), min: ([x], a) => fp.min(x!, axisOpt(a)), prod: ([x], a) => fp.prod(x!, axisOpt(a)),
  var: ([x], a) => fp.variance(x!, axisOpt(a)),
  argmax: ([x], a) => fp.argmax(x!, argOpt(a)), argmin: ([x], a) => fp.argmin(x!, argOpt(a)),
  softmax: ([x], a) => fp.softmax(x!, n(a.axis)), logSoftmax: ([x], a) => fp.logSoftmax(x!, n(a.axis)),
  layerNorm: ([x, w, b], a) => fp.layerNorm(x!, x!.shape.at(-1)!, w!, b!, n(a.eps)),
  rmsNorm: ([x, w], a) => fp.rmsNorm(x!, x!.shape.at(-1)!, w!, n(a.eps)),
  groupNorm: ([x, w, b], a) => fp.groupNorm(x!, n(a.groups), w!, b!, n(a.eps)),
  batchNorm: ([x, m, v, w, b], a) => fp.batchNorm(x!, m!, v!, w!, b!, n(a.eps)),
  maxPool2d: ([x], a) => fp.maxPool2d(x!, { kernelSize: n(a.kernel), stride: n(a.stride), padding: n(a.padding) }),
  avgPool2d: ([x], a) => fp.avgPool2d(x!, { kernelSize: n(a.kernel), stride: n(a.stride), padding: n(a.padding) }),
  globalAvgPool2d: unary(fp.globalAvgPool2d),
  matmul: binary(fp.matmul),
  linear: ([x, w, b], a) => fp.linear(x!, w!, b!, { activation: a.activation as fp.ActivationName }),
  conv2d: ([x, w, b], a) => fp.conv2d(x!, w!, b!, { stride: n(a.stride), padding: n(a.padding), groups: n(a.groups) }),
  embedding: ([ids, w]) => fp.embedding(ids!, w!),
  concat: ([a, b], a2) => fp.concat([a!, b!], n(a2.axis)),
  pad: ([x], a) => fp.pad(x!, a.pads as number[], { mode: a.mode as 'constant' | 'reflect', value: a.value === 'NaN' ? NaN : 0 }),
  sdpa: ([q, k, v, mask], a) => fp.scaledDotProductAttention(q!, k!, v!, { mask: mask ?? null, isCausal: !!a.causal }),
};

/**
 * Where `got` departs from PyTorch's values: NaN must meet NaN and ±Inf the same infinity; finite values must be
 * within tol·max(1, |want|). Returns up to 4 descriptions.
 */
export function departures(got: ArrayLike<number>, want: number[], tol: number): string[] {
  if (got.length !== want.length) return [`${got.length} values, want ${want.length}`];
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 4; i++) {
    const g = Number(got[i]), w = want[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
    if (!ok) bad.push(`[${i}] got ${g}, want ${w}`);
  }
  return bad;
}
