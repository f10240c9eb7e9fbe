// Inputs for model benchmarks, as host arrays any engine can take: the first B rows of the folder's eval set
// (cycled past its end), or seeded synthetic inputs built from config.json (token ids, masks, normal floats).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadFixtureEval } from '../node.js';
import { makeRng } from '../tensor/creation.js';
import type { ModelConfig } from '../nn/models/config.js';
import { numel } from '../tensor/shape.js';

export interface HostInput {
  data: Float32Array | Int32Array;
  shape: number[];
  dtype: 'float32' | 'int32';
}

export type HostInputs = Record<string, HostInput>;

interface IoSpec { name: string; dtype?: string; shape?: (number | string)[] }

const evalCache = new Map<string, Promise<HostInputs & { labels?: HostInput } | null>>();

/**
 * The eval set of a model folder as host arrays keyed by the model's input names (plus `labels`), or null
 * when the folder has no eval.json.
 *
 * @example const ev = await evalInputs('test/fixtures/mlp-digits', config); ev?.input.shape // [540, 64]
 */
export function evalInputs(dir: string, config: ModelConfig): Promise<HostInputs & { labels?: HostInput } | null> {
  let p = evalCache.get(dir);
  if (!p) {
    p = (async () => {
      if (!existsSync(join(dir, 'eval.json'))) return null;
      const ev = await loadFixtureEval(dir);
      const names = ((config.inputs ?? [{ name: 'input' }]) as IoSpec[]).map((s) => s.name);
      const out: HostInputs & { labels?: HostInput } = {};
      const host = (k: string): HostInput => {
        const t = ev[k]!;
        return { data: t.dataSync() as Float32Array | Int32Array, shape: [...t.shape], dtype: t.dtype === 'int32' ? 'int32' : 'float32' };
      };
      for (const name of names) {
        const key = ev[name] ? name : names.length === 1 && ev.inputs ? 'inputs' : null;
        if (!key) throw new Error(`forwardpass: bench: ${dir}/eval.json has no array for input '${name}' (has ${Object.keys(ev).join(', ')})`);
        out[name] = host(key);
      }
      if (ev.labels) out.labels = host('labels');
      for (const t of Object.values(ev)) t.dispose();
      return out;
    })();
    evalCache.set(dir, p);
  }
  return p;
}

/** Rows [start, start + B) of a [N, ...] host array, wrapping around past N. */
function rows(x: HostInput, B: number): HostInput {
  const N = x.shape[0]!, row = x.data.length / N;
  const data = new (x.data.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(B * row);
  for (let i = 0; i < B; i++) data.set(x.data.subarray((i % N) * row, (i % N + 1) * row), i * row);
  return { data, shape: [B, ...x.shape.slice(1)], dtype: x.dtype };
}

/** Sequence length for synthetic token inputs: the model's context (capped at 64), else 16. */
function seqLength(config: ModelConfig): number {
  const a = config.architecture as Record<string, unknown>;
  const ctx = [a.context, a.n_ctx, a.max_position_embeddings, a.max_len].find((v) => typeof v === 'number') as number | undefined;
  return Math.min(64, ctx ?? 16);
}

/**
 * Seeded synthetic inputs of batch B from config.json: integer inputs named like masks are all ones, other
 * integer inputs are token ids below `vocab_size`; float inputs are normal with the config's fixed dims.
 *
 * @example syntheticInputs(config, 4, 1).input_ids.shape // [4, 64] for tiny-gpt
 */
export function syntheticInputs(config: ModelConfig, B: number, seed: number): HostInputs {
  const rng = makeRng(seed);
  const specs = (config.inputs ?? [{ name: 'input' }]) as IoSpec[];
  const vocab = ((config.architecture as Record<string, unknown>).vocab_size ?? config.vocab_size ?? 2) as number;
  const T = seqLength(config);
  const out: HostInputs = {};
  for (const s of specs) {
    const shape = (s.shape ?? ['batch', 'seq']).map((d, i) => (typeof d === 'number' ? d : i === 0 ? B : T));
    const n = numel(shape);
    if (/int/.test(s.dtype ?? '')) {
      const mask = /mask/.test(s.name);
      out[s.name] = { data: Int32Array.from({ length: n }, () => (mask ? 1 : Math.floor(rng() * vocab))), shape, dtype: 'int32' };
    } else {
      // Box-Muller normal values
      out[s.name] = { data: Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())), shape, dtype: 'float32' };
    }
  }
  return out;
}

/**
 * Inputs of batch B: eval-set rows when the folder has an eval set, else synthetic ones (see syntheticInputs).
 *
 * @example const x = await batchInputs('test/fixtures/tiny-bert-cls', config, 8); x.attention_mask.shape // [8, 16]
 */
export async function batchInputs(dir: string, config: ModelConfig, B: number): Promise<{ inputs: HostInputs; source: string }> {
  const ev = await evalInputs(dir, config);
  if (!ev) return { inputs: syntheticInputs(config, B, 1000 + B), source: 'seeded synthetic inputs from config.json' };
  const { labels: _labels, ...named } = ev;
  return { inputs: Object.fromEntries(Object.entries(named).map(([k, v]) => [k, rows(v, B)])), source: 'eval-set rows (eval.json)' };
}
