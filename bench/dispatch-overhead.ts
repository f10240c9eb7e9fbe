// Per-op overhead at batch 1: wall time per run of the small fixture models (mlp-digits, tiny-bert-cls, tiny-gpt,
// cnn-mnist) through loadOnnx, and of a 200-node chain of Relu / Add on 4 floats (nothing but dispatch: ONNX
// session step, op checks, tensor allocation, kernel call), as ms per run and µs per node: wall time (median of 15
// blocks) and process CPU time (all blocks; less sensitive to other processes on a shared machine).
// Usage: node --import tsx --import ./test/wgsl-hook.mjs bench/dispatch-overhead.ts [blockRuns=200] [models...]
import { cpus, loadavg } from 'node:os';
import * as fp from '../src/index.js';
import { onnxModel } from '../test/io/onnx/writer.js';
import { batchInputs } from '../src/cli/bench-inputs.js';
import { readModelConfig } from '../src/cli/bench-models.js';
import { join } from 'node:path';
import { onnxRunner } from './onnx-runner.js';

const blockRuns = Number(process.argv[2] ?? 200);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

/** [wall ms per run (median block), CPU ms per run (user + system over all blocks)]. */
async function time(call: () => Promise<unknown>): Promise<[number, number]> {
  for (let i = 0; i < 50; i++) await call();
  const blocks: number[] = [], c0 = process.cpuUsage();
  for (let b = 0; b < 15; b++) {
    const t0 = performance.now();
    for (let i = 0; i < blockRuns; i++) await call();
    blocks.push((performance.now() - t0) / blockRuns);
  }
  const c = process.cpuUsage(c0);
  return [median(blocks), (c.user + c.system) / 1000 / (15 * blockRuns)];
}

console.log(`${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()[0]!.toFixed(2)}`);
// the chain: x -> Relu -> Add(x) -> Relu -> ... (N nodes)
const N = 200, nodes = [];
let prev = 'x';
for (let i = 0; i < N; i++) {
  const y = i === N - 1 ? 'y' : `v${i}`;
  nodes.push(i % 2 ? { op: 'Add', inputs: [prev, 'x'], outputs: [y] } : { op: 'Relu', inputs: [prev], outputs: [y] });
  prev = y;
}
const chain = await fp.loadOnnx(onnxModel({ nodes, inputs: [{ name: 'x', type: 'float', shape: [1, 4] }], outputs: [{ name: 'y', type: 'float', shape: [1, 4] }] }), { backend: 'cpu' });
const x = fp.tensor([1, -2, 3, -4], { shape: [1, 4] });
const [chainMs, chainCpu] = await time(async () => { const { y } = await chain.run({ x }); y!.dispose(); });
console.log(`chain of ${N} Relu/Add on [1, 4]: wall ${((chainMs * 1000) / N).toFixed(2)} µs, CPU ${((chainCpu * 1000) / N).toFixed(2)} µs per node`);
const names = process.argv.slice(3);
for (const name of names.length ? names : ['mlp-digits', 'tiny-bert-cls', 'tiny-gpt', 'cnn-mnist']) {
  const dir = join('test/fixtures', name), runner = await onnxRunner(dir, 'cpu', 'f32');
  const { inputs } = await batchInputs(dir, readModelConfig(dir), 1);
  const bound = await runner.bind(inputs);
  let ops = 0;
  const off = fp.addOpHook(() => { ops++; });
  await bound.call();
  off();
  const [ms, cpu] = await time(() => bound.call());
  console.log(`${name.padEnd(14)} B=1: wall ${ms.toFixed(3)} ms, CPU ${cpu.toFixed(3)} ms per run (${ops} ops)`);
  bound.dispose();
  runner.dispose();
}
