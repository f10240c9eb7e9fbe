// Per-op time on the CPU fast path for the fixture models (op hook wall times, summed over runs): what to move to
// Wasm next. FORWARDPASS_PROFILE_TOP=n rows (default 12); FORWARDPASS_PROFILE_SHAPES=1 splits rows by input shapes. Usage: node --import tsx bench/wasm-profile.ts [batch=8] [models...]; FORWARDPASS_WASM=0 for the twin.
// Models: fixture names, or a real-size model of bench/real-models.ts by the first word of its name (resnet18, encoder,
// mobilenet_v2, deit-tiny, gpt2-style, distilbert).
import * as fp from '../src/index.js';
import { join } from 'node:path';
import { batchInputs } from '../src/cli/bench-inputs.js';
import { readModelConfig } from '../src/cli/bench-models.js';
import { onnxRunner } from './onnx-runner.js';
import { REAL_MODELS } from './real-models.js';

const realModel = (name: string) => REAL_MODELS.find((m) => m.name.split(' ')[0] === name);

/** A bound model call: a fixture through the bench runner, or one of the real-size models through loadOnnx. */
async function bindModel(name: string, B: number): Promise<{ call: () => Promise<unknown>; dispose: () => void }> {
  const real = realModel(name);
  if (real) {
    const s = await fp.loadOnnx(real.bytes(), { backend: 'cpu' });
    const x = Object.fromEntries(Object.entries(real.feeds(B)).map(([k, f]) => [k, f.type === 'float32' ? fp.tensor(f.data, { shape: f.shape }) : fp.tensor(Int32Array.from(f.data, Number), { shape: f.shape, dtype: 'int32' })]));
    return { call: async () => { for (const t of Object.values(await s.run(x))) t.dispose(); }, dispose: () => { for (const t of Object.values(x)) t.dispose(); s.dispose(); } };
  }
  const dir = join('test/fixtures', name), config = readModelConfig(dir);
  const runner = await onnxRunner(dir, 'cpu', 'f32');
  const { inputs } = await batchInputs(dir, config, B);
  const bound = await runner.bind(inputs);
  return { call: () => bound.call(), dispose: () => { bound.dispose(); runner.dispose(); } };
}

const B = Number(process.argv[2] ?? 8);
/** FORWARDPASS_PROFILE_SHAPES=1: one row per op, variant and input shapes (~ marks a strided view). */
const byShape = process.env.FORWARDPASS_PROFILE_SHAPES === '1';
const names = process.argv.slice(3).length ? process.argv.slice(3) : ['tiny-bert-cls', 'tiny-gpt', 'cnn-mnist'];
for (const name of names) {
  const bound = await bindModel(name, B);
  const big = !!realModel(name);
  for (let i = 0; i < (big ? 1 : 5); i++) await bound.call();
  const per = new Map<string, { ms: number; n: number }>();
  const off = fp.addOpHook((e) => {
    const k = `${e.op}${e.variant ? ` [${e.variant}]` : ''}${byShape ? ` ${e.inputs.map((t) => `[${t.shape.join(',')}]${t.isContiguous() ? '' : '~'}`).join(' ')}` : ''}`;
    const p = per.get(k) ?? { ms: 0, n: 0 };
    p.ms += e.ms; p.n++;
    per.set(k, p);
  });
  const runs = big ? 3 : 20, t0 = performance.now();
  for (let i = 0; i < runs; i++) await bound.call();
  const wall = (performance.now() - t0) / runs;
  off();
  const total = [...per.values()].reduce((s, p) => s + p.ms, 0) / runs;
  console.log(`${name} B=${B}: ${wall.toFixed(3)} ms per run, ${total.toFixed(3)} ms in ops`);
  for (const [k, p] of [...per].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.FORWARDPASS_PROFILE_TOP ?? 12))) {
    console.log(`  ${k.padEnd(48)} ${(p.ms / runs).toFixed(3).padStart(8)} ms  ${((100 * p.ms) / runs / total).toFixed(1).padStart(5)}%  ${(p.n / runs).toFixed(0)} calls`);
  }
  bound.dispose();
}
