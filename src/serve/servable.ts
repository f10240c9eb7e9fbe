// What the batcher serves: a model seen as named host tensors in and out (float32/int32 typed arrays with shapes),
// with its declared inputs/outputs and how a varying sequence dim may be padded. Adapters for a model loaded from a
// folder (ConfiguredModel) and for an ONNX session; request checking with one error naming the tensor.
import { tensor } from '../tensor/creation.js';
import { keep, scopeSync } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from '../ops/elementwise.js';
import type { ConfiguredModel } from '../nn/models/config.js';
import { GPT } from '../nn/models/gpt.js';
import type { CausalLM } from '../nn/models/generate.js';
import type { HfModel } from '../nn/models/hf-base.js';
import type { OnnxSession } from '../io/onnx/session.js';

export type HostDType = 'float32' | 'int32';

/** A tensor held on the host: row-major `data` of `shape`. */
export interface HostTensor {
  dtype: HostDType;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A declared input or output: dims are numbers (fixed) or names (symbolic; the first one is the batch axis). */
export interface TensorSpec {
  name: string;
  dtype: HostDType;
  shape: (number | string)[];
  /** An input the model may go without (a missing attention mask means all ones). */
  optional?: boolean;
}

/**
 * How requests whose symbolic non-batch dims differ may share a batch: 'mask' pads with zeros and a 0 in the mask
 * input `mask` (the model ignores masked positions), 'causal' pads on the right (a causal decoder's earlier
 * positions never see later ones), 'none' runs only requests of equal shapes together.
 */
export type Padding = { kind: 'mask'; mask: string } | { kind: 'causal' } | { kind: 'none' };

/** A model as the batcher and the server see it. */
export interface ServableModel {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  padding: Padding;
  /** 'decoder' (completions), 'encoder' (embeddings through `embed`), or 'other'. */
  kind: 'decoder' | 'encoder' | 'other';
  /** One forward pass. */
  run(inputs: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  /** Encoders: the servable whose output `embedding` [batch, dim] is the pooled sentence vector. */
  embed?: ServableModel;
  /** Decoders: the context window (positions) and the vocabulary size. */
  context?: number;
  vocabSize?: number;
}

/** A request that cannot run: HTTP maps it to 400. `tensor` names the input at fault. */
export class RequestError extends Error {
  readonly status = 400;
  constructor(message: string, readonly tensor?: string) {
    super(message);
  }
}

const specDType = (d: unknown): HostDType => (/int/i.test(String(d ?? '')) ? 'int32' : 'float32');
const specShape = (s: unknown): (number | string)[] => (Array.isArray(s) ? s.map((d) => (typeof d === 'number' ? d : String(d))) : ['batch']);
export const shapeText = (s: readonly (number | string)[]): string => `[${s.join(', ')}]`;

/** Copy a host tensor into a forwardpass Tensor on `device`. */
export function toTensor(h: HostTensor, device?: string): Tensor {
  return tensor(h.data, { shape: h.shape, dtype: h.dtype, device });
}

/** Read a Tensor back into a host tensor (float16 and smaller ints widen to float32 / int32). */
export async function toHost(t: Tensor): Promise<HostTensor> {
  const f = t.dtype === 'float32' || t.dtype === 'int32' ? t : cast(t, t.dtype === 'float16' ? 'float32' : 'int32');
  try {
    const d = await f.data();
    const data = f.dtype === 'float32' ? Float32Array.from(d as ArrayLike<number>) : Int32Array.from(d as ArrayLike<number>);
    return { dtype: f.dtype as HostDType, shape: [...t.shape], data };
  } finally {
    if (f !== t) f.dispose();
  }
}

/**
 * A forward pass on host tensors: `fn` runs in a scope on tensors copied to `device`; its outputs are read back and
 * freed. They are kept out of any async scope open elsewhere (a completion's step awaiting its logits), which would
 * otherwise free them when it closes.
 */
function runOnHost(fn: (fed: Record<string, Tensor>) => Record<string, Tensor>, device: string | undefined) {
  return async (req: Record<string, HostTensor>): Promise<Record<string, HostTensor>> => {
    const outs = keep(scopeSync(() => fn(Object.fromEntries(Object.entries(req).map(([k, h]) => [k, toTensor(h, device)])))));
    try {
      const res: Record<string, HostTensor> = {};
      for (const [k, t] of Object.entries(outs)) res[k] = await toHost(t);
      return res;
    } finally {
      for (const t of Object.values(outs)) t.dispose();
    }
  };
}

/**
 * A Hugging Face causal LM (a folder's or a GGUF file's) as a servable model: input_ids [batch, sequence] and an
 * optional attention_mask in, logits [batch, sequence, vocab] out; requests of different lengths share a batch
 * right-padded with mask 0 (positions before the padding never see it). Its completions go through /v1/completions.
 * @example const s = servableFromCausalLM(await loadHfModel('models/llama'))
 */
export function servableFromCausalLM(model: HfModel & CausalLM): ServableModel {
  const seq = ['batch', 'sequence'];
  const hasMask = model.inputNames.includes('attention_mask');
  const inputs: TensorSpec[] = [{ name: 'input_ids', dtype: 'int32', shape: seq }];
  if (hasMask) inputs.push({ name: 'attention_mask', dtype: 'int32', shape: seq, optional: true });
  const { vocabSize, context } = model.cfg;
  return {
    inputs,
    outputs: [{ name: 'logits', dtype: 'float32', shape: [...seq, vocabSize] }],
    padding: hasMask ? { kind: 'mask', mask: 'attention_mask' } : { kind: 'causal' },
    kind: 'decoder',
    context,
    vocabSize,
    run: runOnHost((fed) => ({ logits: model.run(fed).logits! }), model.device),
  };
}

/**
 * A model loaded from a folder as a servable model: inputs and outputs from its config.json; a BERT pads with its
 * attention mask (and embeds with its pooled [CLS] vector), a GPT pads on the right (causal).
 * @example const s = servableFromModel(loadModelFolder('test/fixtures/mlp-digits').model)
 */
export function servableFromModel(model: ConfiguredModel): ServableModel {
  const cfg = model.config;
  type Declared = { name: string; dtype?: unknown; shape?: unknown }[];
  const declared: Declared = cfg.inputs ?? model.inputNames.map((name) => ({ name }));
  const inputs: TensorSpec[] = declared.map((d) => ({ name: d.name, dtype: specDType(d.dtype), shape: specShape(d.shape) }));
  const outputs: TensorSpec[] = ((cfg.outputs ?? model.outputNames.map((name) => ({ name }))) as Declared).map((d) => ({ name: d.name, dtype: specDType(d.dtype), shape: specShape(d.shape) }));
  const device = model.stateDict().values().next().value?.device;
  const isBert = typeof (model as { pooled?: unknown }).pooled === 'function';
  const mask = inputs.find((i) => /mask/i.test(i.name));
  if (mask && isBert) mask.optional = true;
  const padding: Padding = mask && isBert ? { kind: 'mask', mask: mask.name } : model instanceof GPT ? { kind: 'causal' } : { kind: 'none' };
  const runWith = (fn: (fed: Record<string, Tensor>) => Record<string, Tensor>) => runOnHost(fn, device);
  const s: ServableModel = { inputs, outputs, padding, kind: 'other', run: runWith((fed) => model.run(fed)) };
  if (model instanceof GPT) Object.assign(s, { kind: 'decoder', context: model.cfg.context, vocabSize: model.cfg.vocabSize });
  if (isBert) {
    const bert = model as ConfiguredModel & { pooled(ids: Tensor, mask: Tensor | null): Tensor; cfg: { dModel: number } };
    s.kind = 'encoder';
    s.embed = {
      inputs, padding, kind: 'other',
      outputs: [{ name: 'embedding', dtype: 'float32', shape: ['batch', bert.cfg.dModel] }],
      run: runWith((fed) => ({ embedding: bert.pooled(fed[inputs[0]!.name]!, (mask && fed[mask.name]) ?? null) })),
    };
  }
  return s;
}

/**
 * An ONNX session as a servable model (int64 inputs are held as int32). An input named like a mask makes requests of
 * different lengths share a batch through it; otherwise only equal shapes batch together.
 * @example const s = servableFromOnnx(await loadOnnx(bytes))
 */
export function servableFromOnnx(session: OnnxSession): ServableModel {
  const spec = (io: OnnxSession['inputs'][number]): TensorSpec => ({
    name: io.name,
    dtype: io.dtype === 'float32' || io.dtype === 'float16' ? 'float32' : 'int32',
    shape: io.shapeKnown ? io.shape.map((d, i) => (d === null ? `${io.name}_dim${i}` : d)) : ['batch'],
  });
  const inputs = session.inputs.map(spec);
  const mask = inputs.find((i) => /mask/i.test(i.name) && i.dtype === 'int32');
  if (mask) mask.optional = true;
  return {
    inputs, outputs: session.outputs.map(spec), kind: 'other',
    padding: mask ? { kind: 'mask', mask: mask.name } : { kind: 'none' },
    async run(req) {
      const fed = Object.fromEntries(Object.entries(req).map(([k, h]) => [k, toTensor(h, session.backend)]));
      if (mask && !fed[mask.name]) {
        const ids = req[inputs.find((i) => i !== mask)!.name]!;
        fed[mask.name] = toTensor({ dtype: 'int32', shape: ids.shape, data: new Int32Array(ids.data.length).fill(1) }, session.backend);
      }
      try {
        const outs = await session.run(fed);
        const res: Record<string, HostTensor> = {};
        try {
          for (const [k, t] of Object.entries(outs)) res[k] = await toHost(t);
        } finally {
          for (const t of Object.values(outs)) t.dispose();
        }
        return res;
      } finally {
        for (const t of Object.values(fed)) t.dispose();
      }
    },
  };
}

/** What a checked request holds: its inputs, its batch rows and the value of each symbolic dim. */
export interface CheckedRequest {
  inputs: Record<string, HostTensor>;
  rows: number;
  dims: Map<string, number>;
}

/**
 * Check a request against the declared inputs: names, dtype, rank, fixed dims, symbolic dims that agree across
 * inputs, data length. Throws a RequestError naming the tensor, what was expected and what was found.
 */
export function checkRequest(specs: readonly TensorSpec[], inputs: Record<string, HostTensor>): CheckedRequest {
  if (inputs === null || typeof inputs !== 'object') throw new RequestError(`forwardpass: serve: expected an object of input tensors (${specs.map((s) => s.name).join(', ')}), found ${inputs === null ? 'null' : typeof inputs}`);
  const names = specs.map((s) => s.name);
  for (const k of Object.keys(inputs)) {
    if (!names.includes(k)) throw new RequestError(`forwardpass: serve: unknown input '${k}'; the model takes ${names.map((n) => `'${n}'`).join(', ')}`, k);
  }
  const dims = new Map<string, number>();
  const out: Record<string, HostTensor> = {};
  for (const s of specs) {
    const h = inputs[s.name];
    if (h === undefined) {
      if (s.optional) continue;
      throw new RequestError(`forwardpass: serve: missing input '${s.name}' (expected ${s.dtype} ${shapeText(s.shape)})`, s.name);
    }
    const want = `${s.dtype} ${shapeText(s.shape)}`;
    const shape = h?.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new RequestError(`forwardpass: serve: input '${s.name}': expected ${want}, found shape ${JSON.stringify(shape)}`, s.name);
    const found = `${h.dtype} ${shapeText(shape)}`;
    if (h.dtype !== s.dtype) throw new RequestError(`forwardpass: serve: input '${s.name}': expected ${want}, found ${found}`, s.name);
    if (shape.length !== s.shape.length) throw new RequestError(`forwardpass: serve: input '${s.name}': expected ${want} (rank ${s.shape.length}), found ${found}`, s.name);
    s.shape.forEach((d, i) => {
      const got = shape[i]!;
      if (typeof d === 'number' && d !== got) throw new RequestError(`forwardpass: serve: input '${s.name}': expected ${want}, found ${found} (dim ${i} is ${got}, expected ${d})`, s.name);
      if (typeof d === 'string') {
        if (got < 1) throw new RequestError(`forwardpass: serve: input '${s.name}': expected ${want} with dim ${i} ('${d}') at least 1, found ${found}`, s.name);
        const seen = dims.get(d);
        if (seen !== undefined && seen !== got) throw new RequestError(`forwardpass: serve: input '${s.name}': dim '${d}' is ${got}, but ${seen} in another input (found ${found})`, s.name);
        dims.set(d, got);
      }
    });
    const n = shape.reduce((a, b) => a * b, 1);
    const arr = s.dtype === 'float32' ? Float32Array : Int32Array;
    if (!(h.data instanceof arr) || h.data.length !== n) throw new RequestError(`forwardpass: serve: input '${s.name}': expected ${n} ${s.dtype} values for ${found}, found ${h.data?.length ?? 0} ${h.data?.constructor?.name ?? typeof h.data}`, s.name);
    out[s.name] = h;
  }
  const first = specs[0]!.shape[0];
  const rows = typeof first === 'string' ? dims.get(first) ?? 1 : 1;
  return { inputs: out, rows, dims };
}
