// Memory of GGUF models against their file size: for each file, a fresh child process loads it (readGgufFile +
// ggufModelFromFile at the file's default precision), generates 16 tokens with the KV cache, and reports
// process.memoryUsage() (rss, arrayBuffers) before loading, after loading (after a GC) and after generating, the peak
// RSS from then on (VmHWM after resetting it through /proc/self/clear_refs; Linux), the CPU backend's memory() (live tensor bytes, Wasm pool, kernel caches) and
// the bytes the model's parameters hold. Files: ../shared/hf/models/llama/model-{f32,f16,q8_0,q4_0}.gguf and a
// synthetic llama (hidden 512, 8 layers, ffn 1536, vocab 8192) written here as F32 and Q8_0 by the project's writer.
// Run: node --expose-gc --import tsx --import ./test/wgsl-hook.mjs bench/gguf-memory.ts [--out bench/results/gguf-memory.md]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as fp from '../src/node.js';

const SELF = fileURLToPath(import.meta.url);
const MB = (n: number) => (n / 2 ** 20).toFixed(2);

interface Sample { rss: number; arrayBuffers: number }
interface ChildReport {
  before: Sample; loaded: Sample; generated: Sample; maxRss: number;
  memory: { liveBytes: number; pooledBytes: number; cacheBytes: number };
  memoryAfterGenerate: { liveBytes: number; pooledBytes: number; cacheBytes: number };
  paramBytes: number; precision: string;
}

const sample = (): Sample => { const m = process.memoryUsage(); return { rss: m.rss, arrayBuffers: m.arrayBuffers }; };
/** Linux: reset the peak RSS (VmHWM) to the current RSS, so the peak measured afterwards is this phase's. */
const resetPeak = (): boolean => { try { writeFileSync('/proc/self/clear_refs', '5'); return true; } catch { return false; } };
const peakRss = (): number => {
  try { return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024; } catch { return process.resourceUsage().maxRSS * 1024; }
};
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function child(path: string): Promise<void> {
  gc();
  const before = sample();
  const reset = resetPeak();
  let model: fp.LlamaForCausalLM | null = await fp.ggufModelFromFile(await fp.readGgufFile(path));
  gc();
  const loaded = sample();
  const dev = fp.getBackend('cpu');
  const mem = () => { const m = dev.memory(); return { liveBytes: m.liveBytes, pooledBytes: m.pooledBytes, cacheBytes: m.cacheBytes ?? 0 }; };
  const memory = mem();
  const paramBytes = model.namedParameters().reduce((a, [, t]) => a + t.size * (t.dtype === 'int8' ? 1 : t.dtype === 'float16' ? 2 : 4), 0);
  const precision = model.namedModules().some(([, m]) => m instanceof fp.QuantizedLinear) ? 'int8' : model.namedParameters().some(([, t]) => t.dtype === 'float16') ? 'f16' : 'f32';
  await fp.generate(model, [1, 2, 3, 4, 5, 6, 7, 8], { maxNewTokens: 16 });
  gc();
  const generated = sample();
  const memoryAfterGenerate = mem();
  const report: ChildReport = { before, loaded, generated, maxRss: reset ? peakRss() : NaN, memory, memoryAfterGenerate, paramBytes, precision };
  model.dispose();
  model = null;
  process.stdout.write(JSON.stringify(report));
}

/** A random llama (hidden C, L layers) as F32 and Q8_0 GGUF bytes, written by ggufFromLlama. */
async function synthetic(dir: string): Promise<string[]> {
  const C = 512, L = 8, F = 1536, V = 8192, H = 8;
  const lm = fp.hfModelFromConfig({ model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: V, hidden_size: C, intermediate_size: F, num_hidden_layers: L, num_attention_heads: H, num_key_value_heads: H, max_position_embeddings: 512, rms_norm_eps: 1e-6 }) as fp.LlamaForCausalLM;
  const rng = fp.makeRng(7);
  const state = new Map<string, fp.Tensor>();
  for (const [k, t] of lm.namedParameters()) state.set(k, fp.fromStorage(Float32Array.from({ length: t.size }, () => (k.includes('norm') ? 1 : 0) + 0.05 * (rng() * 2 - 1)), t.shape, 'float32'));
  lm.loadStateDict(state);
  for (const t of state.values()) t.dispose();
  const f32 = join(dir, `synthetic-${C}x${L}-f32.gguf`), q8 = join(dir, `synthetic-${C}x${L}-q8_0.gguf`);
  writeFileSync(f32, await fp.ggufFromLlama(lm));
  await fp.quantize(lm, { weights: 'q8_0' });
  writeFileSync(q8, await fp.ggufFromLlama(lm));
  lm.dispose();
  return [f32, q8];
}

async function parent(): Promise<void> {
  const outIdx = process.argv.indexOf('--out');
  const out = outIdx > 0 ? process.argv[outIdx + 1] : undefined;
  const shared = resolve(SELF, '../../../shared/hf/models/llama');
  const files = ['f32', 'f16', 'q8_0', 'q4_0'].map((t) => join(shared, `model-${t}.gguf`)).filter(existsSync);
  files.push(...(await synthetic(mkdtempSync(join(tmpdir(), 'fp-gguf-mem-')))));
  const rows: string[][] = [];
  for (const path of files) {
    const r = JSON.parse(execFileSync(process.execPath, [...process.execArgv, SELF, '--child', path], { encoding: 'utf8', env: process.env, maxBuffer: 1 << 20 })) as ChildReport;
    const size = statSync(path).size;
    const d = (a: number, b: number) => MB(a - b);
    rows.push([path.split('/').pop()!, MB(size), r.precision, MB(r.paramBytes), d(r.loaded.rss, r.before.rss), d(r.loaded.arrayBuffers, r.before.arrayBuffers), MB(r.memory.liveBytes),
      MB(r.memoryAfterGenerate.cacheBytes + r.memoryAfterGenerate.pooledBytes), d(r.generated.rss, r.before.rss), d(r.maxRss, r.before.rss), (r.paramBytes / size).toFixed(2)]);
    console.error(`${rows[rows.length - 1]!.join(' | ')}`);
  }
  const head = ['file', 'file MB', 'precision', 'params MB', 'RSS +load', 'arrayBuffers +load', 'memory() live', 'memory() cache+pool after gen', 'RSS +gen', 'peak RSS + (load and generate)', 'params / file'];
  const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const text = `${table}\n\nload average at the start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}; node ${process.version}; FORWARDPASS_WASM=${process.env.FORWARDPASS_WASM ?? '(default, fast path on)'}\n`;
  if (out) writeFileSync(out, text);
  console.log(text);
}

if (process.argv[2] === '--child') await child(process.argv[3]!);
else await parent();
