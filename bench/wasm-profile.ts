// Per-op time on the CPU fast path for the fixture models (op hook wall times, summed over runs): what to move to
// Wasm next. Usage: node --import tsx bench/wasm-profile.ts [batch=8] [models...]; FORWARDPASS_WASM=0 for the twin.
// Models: fixture names, or resnet18 / encoder (bench/real-models.ts).
import * as fp from '../src/index.js';
import { join } from 'node:path';
import { batchInputs } from '../src/cli/bench-inputs.js';
import { readModelConfig } from '../src/cli/bench-models.js';
import { onnxRunner } from './onnx-runner.js';
import { encoderOnnx, resnet18Onnx } from './real-models.js';

/** A bound model call: a fixture through the bench runner, or one of the real-size models through loadOnnx. */
async function bindModel(name: string, B: number): Promise<{ call: () => Promise<unknown>; dispose: () => void }> {
  if (name === 'resnet18' || name === 'encoder') {
    const s = await fp.loadOnnx(name === 'resnet18' ? resnet18Onnx() : encoderOnnx(), { backend: 'cpu' });
    const shape = name === 'resnet18' ? [B, 3, 224, 224] : [B, 128, 384], r = fp.makeRng(B);
    const x = fp.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1), { shape });
    return { call: async () => { for (const t of Object.values(await s.run({ x }))) t.dispose(); }, dispose: () => { x.dispose(); s.dispose(); } };
  }
  const dir = join('test/fixtures', name), config = readModelConfig(dir);
  const runner = await onnxRunner(dir, 'cpu', 'f32');
  const { inputs } = await batchInputs(dir, config, B);
  const bound = await runner.bind(inputs);
  return { call: () => bound.call(), dispose: () => { bound.dispose(); runner.dispose(); } };
}

const B = Number(process.argv[2] ?? 8);
const names = process.argv.slice(3).length ? process.argv.slice(3) : ['tiny-bert-cls', 'tiny-gpt', 'cnn-mnist'];
for (const name of names) {
  const bound = await bindModel(name, B);
  const big = name === 'resnet18' || name === 'encoder';
  for (let i = 0; i < (big ? 1 : 5); i++) await bound.call();
  const per = new Map<string, { ms: number; n: number }>();
  const off = fp.addOpHook((e) => {
    const k = `${e.op}${e.variant ? ` [${e.variant}]` : ''}`;
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
  for (const [k, p] of [...per].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    console.log(`  ${k.padEnd(48)} ${(p.ms / runs).toFixed(3).padStart(8)} ms  ${((100 * p.ms) / runs / total).toFixed(1).padStart(5)}%  ${(p.n / runs).toFixed(0)} calls`);
  }
  bound.dispose();
}
