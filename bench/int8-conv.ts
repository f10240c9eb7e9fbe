// cnn-mnist through loadOnnx at f32 and int8, batch 1/8/64, fast path on; and the conv2dInt8 kernel alone (the op
// hook's ms, summed per run) on the Wasm path against the typed-array twin, alternated run by run in one process.
// Run: node --import tsx --import ./test/wgsl-hook.mjs bench/int8-conv.ts [reps]
import { readFileSync } from 'node:fs';
import * as fp from '../src/index.js';
import { setCpuFastPath } from '../src/backends/cpu/wasm/index.js';

const reps = Number(process.argv[2] ?? 15);
if (process.argv[3]) fp.setNumThreads(Number(process.argv[3]));
const bytes = new Uint8Array(readFileSync('test/fixtures/cnn-mnist/model.onnx'));
const f32 = await fp.loadOnnx(bytes, { backend: 'cpu', precision: 'f32' });
const int8 = await fp.loadOnnx(bytes, { backend: 'cpu', precision: 'int8' });
const name = f32.inputs[0]!.name;
let convMs = 0, convCalls = 0;
const shapes = new Set<string>();
fp.addOpHook((e) => {
  if (e.op !== 'conv2dInt8') return;
  convMs += e.ms; convCalls++;
  shapes.add(`${e.inputs[0]!.shape.join('x')} w${e.inputs[2]!.shape.join('x')} ${e.variant || 'twin'}`);
});
const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]!; };
const fmt = (a: number[]) => `best ${Math.min(...a).toFixed(2)} med ${med(a).toFixed(2)}`;
console.log(`threads ${fp.getNumThreads()}, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const B of [1, 8, 64]) {
  const x = fp.tensor(Float32Array.from({ length: B * 784 }, (_, i) => ((i * 7919) % 256) / 255), { shape: [B, 1, 28, 28] });
  const run = async (s: fp.OnnxSession) => { const t0 = performance.now(); const o = await s.run({ [name]: x }); for (const t of Object.values(o)) t.dispose(); return performance.now() - t0; };
  const t = { f32: [] as number[], int8: [] as number[], int8Twin: [] as number[], convWasm: [] as number[], convTwin: [] as number[] };
  for (let i = 0; i < 3; i++) { await run(f32); await run(int8); setCpuFastPath(false); await run(int8); setCpuFastPath(true); }
  for (let i = 0; i < reps; i++) {
    t.f32.push(await run(f32));
    convMs = 0; t.int8.push(await run(int8)); t.convWasm.push(convMs);
    setCpuFastPath(false);
    convMs = 0; t.int8Twin.push(await run(int8)); t.convTwin.push(convMs);
    setCpuFastPath(true);
  }
  console.log(`batch ${B}: f32 ${fmt(t.f32)} | int8 ${fmt(t.int8)} | int8 all-twin ${fmt(t.int8Twin)} ms`);
  console.log(`  conv2dInt8 per run: wasm ${fmt(t.convWasm)} | twin ${fmt(t.convTwin)} ms (ratio of medians ${(med(t.convTwin) / med(t.convWasm)).toFixed(1)}x)`);
  x.dispose();
}
console.log([...shapes].join('\n'), `\n${convCalls} conv2dInt8 calls, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
