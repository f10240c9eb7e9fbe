// Models for the step-through page: the server's example list, files the user opens (.onnx, or .safetensors with its
// config.json), building one at a backend and precision, what input it takes (a drawn digit, a prompt, a symbol
// sequence), and turning its output into a prediction.
import * as fp from '../../src/index.js';

export type Precision = 'f32' | 'f16' | 'int8';

/** Bytes of a model, before it is built on a backend. */
export interface Source {
  label: string;
  kind: 'nn' | 'onnx';
  /** config.json text (nn models; optional for ONNX, where it gives a vocab). */
  config?: string;
  weights?: Uint8Array;
  onnx?: Uint8Array;
}

/** A graph input as the page sees it. */
interface InputDecl {
  name: string;
  dtype: string;
  shape: (number | string | null)[];
}

/** What input the page makes for a model. */
export type InputPlan =
  | { kind: 'image'; name: string; size: number; shape: number[] }
  | { kind: 'text'; name: string; vocab: string[]; context: number }
  | { kind: 'symbols'; ids: string; mask: string; count: number; maxLen: number };

/** A model built on a backend at a precision. */
export interface Built {
  model: Parameters<typeof fp.trace>[0];
  plan: InputPlan;
  precision: Precision;
  backend: string;
  /** Graph outputs by name. */
  run(inputs: Record<string, fp.Tensor>): Promise<Record<string, fp.Tensor>>;
  dispose(): void;
}

const fail = (msg: string): never => {
  throw new Error(`forwardpass page: ${msg}`);
};

/** The example models the server lists (`/models/index.json`), each in its formats. */
export async function exampleList(): Promise<{ name: string; files: string[]; task?: string }[]> {
  const r = await fetch('/models/index.json');
  if (!r.ok) return [];
  return (await r.json()) as { name: string; files: string[]; task?: string }[];
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) fail(`cannot fetch ${url} (HTTP ${r.status}${r.status === 404 ? ': not found' : ''})`);
  return new Uint8Array(await r.arrayBuffer());
}

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) fail(`cannot fetch ${url} (HTTP ${r.status}${r.status === 404 ? ': not found' : ''})`);
  return r.text();
}

/** An example from the server: `format` 'safetensors' (config + weights) or 'onnx' (with the config when there is one). */
export async function exampleSource(name: string, format: 'safetensors' | 'onnx', files: string[]): Promise<Source> {
  const base = `/models/${encodeURIComponent(name)}`;
  const config = files.includes('config.json') ? await fetchText(`${base}/config.json`) : undefined;
  if (format === 'onnx') return { label: `${name} (ONNX)`, kind: 'onnx', onnx: await fetchBytes(`${base}/model.onnx`), ...(config ? { config } : {}) };
  return { label: name, kind: 'nn', config: config!, weights: await fetchBytes(`${base}/model.safetensors`) };
}

/** Files the user opened: one .onnx (optionally with config.json), or one .safetensors with its config.json. */
export async function fileSource(files: readonly File[]): Promise<Source> {
  if (!files.length) fail('no file selected');
  const by = (ext: string) => files.filter((f) => f.name.toLowerCase().endsWith(ext));
  const [onnx, st, json] = [by('.onnx'), by('.safetensors'), by('.json')];
  const other = files.filter((f) => !/\.(onnx|safetensors|json)$/i.test(f.name));
  if (other.length) fail(`cannot open '${other[0]!.name}': expected a .onnx file, or a .safetensors file with its config.json`);
  if (onnx.length + st.length !== 1) fail(`expected one model file (.onnx or .safetensors), got ${onnx.length + st.length} (${files.map((f) => f.name).join(', ')})`);
  const config = json[0] ? await json[0].text() : undefined;
  if (onnx[0]) return { label: onnx[0].name, kind: 'onnx', onnx: new Uint8Array(await onnx[0].arrayBuffer()), ...(config ? { config } : {}) };
  if (!config) fail(`'${st[0]!.name}' holds weights only: select its config.json too (both files at once)`);
  return { label: st[0]!.name, kind: 'nn', config, weights: new Uint8Array(await st[0]!.arrayBuffer()) };
}

function parseConfig(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return fail(`config.json is not valid JSON (${(e as Error).message})`);
  }
}

/** Which input the page can make for these graph inputs (and the config's vocab), or a readable error. */
export function planInputs(decls: InputDecl[], config: Record<string, unknown> | undefined): InputPlan {
  const list = decls.map((d) => `${d.name} ${d.dtype} [${d.shape.map((x) => x ?? '?').join(', ')}]`).join('; ');
  const names = decls.map((d) => d.name);
  if (decls.length === 1 && /float/.test(decls[0]!.dtype)) {
    const d = decls[0]!;
    const rest = d.shape.slice(1);
    const n = rest.every((x) => typeof x === 'number') ? (rest as number[]).reduce((a, b) => a * b, 1) : NaN;
    const side = Math.round(Math.sqrt(n));
    const square = side * side === n && side >= 4 && side <= 64;
    if (square && (rest.length === 1 || (rest.length === 3 && rest[0] === 1) || (rest.length === 2 && rest[0] === side))) return { kind: 'image', name: d.name, size: side, shape: [1, ...(rest as number[])] };
  }
  const vocab = config?.vocab;
  const arch = (config?.architecture ?? {}) as { context?: number; max_len?: number; num_classes?: number };
  if (decls.length === 1 && Array.isArray(vocab) && !/float/.test(decls[0]!.dtype)) return { kind: 'text', name: decls[0]!.name, vocab: vocab as string[], context: arch.context ?? 64 };
  if (names.includes('input_ids') && names.includes('attention_mask') && decls.length === 2 && vocab && !Array.isArray(vocab) && JSON.stringify(vocab).includes('[CLS]')) {
    return { kind: 'symbols', ids: 'input_ids', mask: 'attention_mask', count: arch.num_classes ?? 8, maxLen: arch.max_len ?? 16 };
  }
  if (decls.length === 1 && !/float/.test(decls[0]!.dtype)) return fail(`this model takes token ids (${list}) but no vocab: open its config.json (with a "vocab" list) together with the model file`);
  return fail(`the page cannot make this model's inputs (${list}): it draws digits (one float input of N*N pixels, e.g. [batch, 64] or [batch, 1, 28, 28]) or types text (token ids with a vocab in config.json)`);
}

/** Build `src` on `backend` at `precision`. */
export async function build(src: Source, backend: string, precision: Precision): Promise<Built> {
  const config = parseConfig(src.config);
  if (src.kind === 'onnx') {
    const s = await fp.loadOnnx(src.onnx!, { backend, precision, name: src.label });
    try {
      const plan = planInputs(s.inputs, config);
      return { model: s, plan, precision, backend, run: (x) => s.run(x), dispose: () => s.dispose() };
    } catch (e) {
      s.dispose();
      throw e;
    }
  }
  const m = fp.loadModelAutoFromBytes(src.config!, src.weights!, { device: backend, name: src.label });
  try {
    type Decl = { name: string; dtype?: string; shape?: (number | string)[] };
    const declared = (config?.inputs as Decl[] | undefined) ?? m.inputNames.map((name): Decl => ({ name }));
    const plan = planInputs(declared.map((d) => ({ name: d.name, dtype: d.dtype ?? 'float32', shape: d.shape ?? [] })), config);
    if (precision === 'f16') await m.to({ dtype: 'float16' });
    if (precision === 'int8' && !fp.isQuantized(m)) await fp.quantize(m);
    if (precision !== 'int8' && fp.isQuantized(m)) fail(`'${src.label}' holds an int8 model; choose precision int8`);
    return { model: m, plan, precision, backend, run: async (x) => m.run(x), dispose: () => m.dispose() };
  } catch (e) {
    m.dispose();
    throw e;
  }
}

/** What the user gave: drawn pixels, a prompt, or a symbol string. */
export type UserInput = { pixels: Float32Array } | { text: string };

/** Input tensors for `b` on its backend (float16 for an f16 nn model), plus the tokens shown on attention maps. */
export async function makeInputs(b: Built, given: UserInput): Promise<{ inputs: Record<string, fp.Tensor>; tokens: string[]; raw: number[] }> {
  const p = b.plan;
  // moves `t` to the model's backend; `t` is released either way (the copy is the caller's)
  const place = async (t: fp.Tensor): Promise<fp.Tensor> => {
    if (b.backend === 'cpu') return t;
    try {
      return await t.to(b.backend);
    } finally {
      t.dispose();
    }
  };
  if (p.kind === 'image') {
    if (!('pixels' in given)) return fail('this model takes a drawn digit');
    let x = fp.tensor(given.pixels, { shape: p.shape });
    if (b.precision === 'f16' && !(b.model instanceof fp.OnnxSession)) {
      const f32 = x;
      try {
        x = fp.cast(f32, 'float16');
      } finally {
        f32.dispose();
      }
    }
    return { inputs: { [p.name]: await place(x) }, tokens: [], raw: Array.from(given.pixels) };
  }
  if (!('text' in given)) return fail('this model takes text');
  if (p.kind === 'text') {
    if (given.text.length === 0) fail('type a prompt first');
    const ids = new fp.CharTokenizer(p.vocab).encode(given.text);
    if (ids.length > p.context) fail(`the prompt is ${ids.length} characters; this model reads at most ${p.context}`);
    const x = fp.tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' });
    return { inputs: { [p.name]: await place(x) }, tokens: [...given.text], raw: ids };
  }
  const syms = given.text.replace(/[\s,]+/g, '');
  if (!/^[0-9]*$/.test(syms) || [...syms].some((c) => Number(c) >= p.count)) fail(`type symbols as digits 0..${p.count - 1} (e.g. 3 1 3 0 3), got '${given.text}'`);
  if (syms.length < 1 || syms.length + 1 > p.maxLen) fail(`type 1 to ${p.maxLen - 1} symbols, got ${syms.length}`);
  const ids = [1, ...[...syms].map((c) => Number(c) + 2)];
  const idT = await place(fp.tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' }));
  try {
    const mask = await place(fp.tensor(new Int32Array(ids.length).fill(1), { shape: [1, ids.length], dtype: 'int32' }));
    return { inputs: { [p.ids]: idT, [p.mask]: mask }, tokens: ['CLS', ...syms], raw: ids };
  } catch (e) {
    idT.dispose();
    throw e;
  }
}

/** One ranked guess. */
export interface Guess {
  index: number;
  label: string;
  p: number;
}

/** The top `k` of the last row of the first float output, as softmax probabilities with labels. */
export async function predict(b: Built, outputs: Record<string, fp.Tensor>, k = 5): Promise<Guess[]> {
  const t = Object.values(outputs).find((o) => o.dtype === 'float32' || o.dtype === 'float16') ?? fail('the model returned no float output to predict from');
  const all = await t.data();
  const n = t.shape[t.shape.length - 1] ?? all.length;
  const row = Array.from(all.subarray(all.length - n));
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const z = e.reduce((a, v) => a + v, 0);
  const label = (i: number) => (b.plan.kind === 'text' ? b.plan.vocab[i] ?? String(i) : b.plan.kind === 'symbols' ? `S${i}` : String(i));
  return e.map((v, i) => ({ index: i, label: label(i), p: v / z })).sort((a, c) => c.p - a.p).slice(0, k);
}
