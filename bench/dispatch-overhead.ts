// Per-op overhead at batch 1: wall time per run of the small fixture models (mlp-digits, cnn-digits, cnn-mnist,
// tiny-bert-cls, tiny-gpt) through loadOnnx, and of a 200-node chain of Relu / Add on 4 floats (nothing but dispatch:
// ONNX session step, op checks, tensor allocation, kernel call), as ms per run and µs per node, each with graph replay
// (src/io/onnx/replay.ts) and without (replay: false), timed in alternating blocks in one process: wall time (median
// of 15 blocks per variant; best block in brackets) and process CPU time (all blocks of the variant; less sensitive
// to other processes on a shared machine). onnxruntime-web (Wasm, one thread), when installed, is timed in the same
// blocks on the same inputs, so the last column compares with it under the same load.
// Usage: node --import tsx --import ./test/wgsl-hook.mjs bench/dispatch-overhead.ts [blockRuns=200] [models...]
//   FORWARDPASS_BENCH_BATCH=1,8,64 times those batch sizes (default 1).
import { cpus, loadavg } from 'node:os';
import * as fp from '../src/index.js';
import { onnxModel } from '../test/io/onnx/writer.js';
import { batchInputs } from '../src/cli/bench-inputs.js';
import { readModelConfig } from '../src/cli/bench-models.js';
import { join } from 'node:path';
import { onnxRunner } from './onnx-runner.js';
import { ortWebOneThread } from './peers.js';

const blockRuns = Number(process.argv[2] ?? 200);
const BLOCKS = 15;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

interface Timing { wall: number; best: number; cpu: number }

/** Time each call in turn, block by block (so that load changes hit every variant alike); ms per run. */
async function time(calls: (() => Promise<unknown>)[]): Promise<Timing[]> {
  for (const call of calls) for (let i = 0; i < 50; i++) await call();
  const blocks = calls.map((): number[] => []), cpu = calls.map(() => 0);
  for (let b = 0; b < BLOCKS; b++) {
    for (const [k, call] of calls.entries()) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      for (let i = 0; i < blockRuns; i++) await call();
      blocks[k]!.push((performance.now() - t0) / blockRuns);
      const c = process.cpuUsage(c0);
      cpu[k]! += (c.user + c.system) / 1000;
    }
  }
  return calls.map((_, k) => ({ wall: median(blocks[k]!), best: Math.min(...blocks[k]!), cpu: cpu[k]! / (BLOCKS * blockRuns) }));
}

const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
const line = (t: Timing, per = 1) => `wall ${us(t.wall / per)} [${us(t.best / per)}], CPU ${us(t.cpu / per)}`;

console.log(`${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()[0]!.toFixed(2)}; replay on | off (replay: false); wall = median block [best block]`);
// the chain: x -> Relu -> Add(x) -> Relu -> ... (N nodes)
const N = 200, nodes = [];
let prev = 'x';
for (let i = 0; i < N; i++) {
  const y = i === N - 1 ? 'y' : `v${i}`;
  nodes.push(i % 2 ? { op: 'Add', inputs: [prev, 'x'], outputs: [y] } : { op: 'Relu', inputs: [prev], outputs: [y] });
  prev = y;
}
const chainModel = onnxModel({ nodes, inputs: [{ name: 'x', type: 'float', shape: [1, 4] }], outputs: [{ name: 'y', type: 'float', shape: [1, 4] }] });
const chains = await Promise.all([true, false].map((replay) => fp.loadOnnx(chainModel, { backend: 'cpu', replay })));
const x = fp.tensor([1, -2, 3, -4], { shape: [1, 4] });
const chainT = await time(chains.map((chain) => async () => { const { y } = await chain.run({ x }); y!.dispose(); }));
console.log(`chain of ${N} Relu/Add on [1, 4], per node: on ${line(chainT[0]!, N)} | off ${line(chainT[1]!, N)}`);
const names = process.argv.slice(3);
const batches = (process.env.FORWARDPASS_BENCH_BATCH ?? '1').split(',').map(Number);
const ort = await ortWebOneThread().catch(() => null);
for (const name of names.length ? names : ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-bert-cls', 'tiny-gpt']) {
  const dir = join('test/fixtures', name);
  const runners = await Promise.all([true, false].map((replay) => onnxRunner(dir, 'cpu', 'f32', { replay })));
  const os = ort ? await ort.InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }) : null;
  for (const B of batches) {
    const { inputs } = await batchInputs(dir, readModelConfig(dir), B);
    const bound = await Promise.all(runners.map((r) => r.bind(inputs)));
    let ops = 0;
    const off = fp.addOpHook(() => { ops++; });
    await bound[1]!.call();
    off();
    const calls: (() => Promise<unknown>)[] = bound.map((b) => () => b.call());
    if (os && ort) {
      const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.dtype === 'int32' ? new ort.Tensor('int64', BigInt64Array.from(v.data, (q) => BigInt(q)), v.shape) : new ort.Tensor('float32', v.data as Float32Array, v.shape)]));
      calls.push(() => os.run(feeds));
    }
    const [on, normal, web] = await time(calls);
    const vsWeb = web ? ` | ort-web ${line(web)} | ort-web / replay ${(web.wall / on!.wall).toFixed(2)}x (CPU ${(web.cpu / on!.cpu).toFixed(2)}x)` : '';
    console.log(`${name.padEnd(14)} B=${B} (${ops} ops): on ${line(on!)} | off ${line(normal!)} | off / on ${(normal!.wall / on!.wall).toFixed(2)}x${vsWeb}`);
    bound.forEach((b) => b.dispose());
  }
  await os?.release();
  runners.forEach((r) => r.dispose());
}
