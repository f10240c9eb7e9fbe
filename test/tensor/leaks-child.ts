// Child process of leaks.test.ts, run as `node --expose-gc --import tsx test/tensor/leaks-child.ts SCENARIO`: makes
// tensors without dispose() (or with it), collects garbage, and prints the memory counters and leak report as JSON.
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('forwardpass tests: run this script with node --expose-gc');

/** Collect until the finalizers have run: full collections with turns of the event loop between them. */
async function collect(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** 10,000 forward passes of mlp-digits whose outputs are never disposed (the case). */
function leakyForwardLoop(model: fp.ConfiguredModel, x: fp.Tensor, n: number): void {
  for (let i = 0; i < n; i++) model.forward(x);
}

function disposedForwardLoop(model: fp.ConfiguredModel, x: fp.Tensor, n: number): void {
  for (let i = 0; i < n; i++) model.forward(x).dispose();
}

async function main(scenario: string): Promise<unknown> {
  const n = Number(process.argv[3] ?? 10_000);
  if (scenario === 'debug') fp.setDebug({ trackAllocations: true });
  const backend = scenario === 'webgpu' ? fp.getBackend((await fp.initWebGPU({ dawnFlags: ['enable-dawn-features=disable_workgroup_init'] })).name) : fp.cpuBackend;
  const model = await fp.loadModel(fixturePath('mlp-digits'));
  if (scenario === 'webgpu') await model.to('webgpu');
  const cpuX = fp.randn([1, 64], { seed: 1 });
  const x = scenario === 'webgpu' ? await cpuX.to('webgpu') : cpuX;
  await collect();
  const before = backend.memory();
  const heapBefore = process.memoryUsage().heapUsed;
  if (scenario === 'disposed') disposedForwardLoop(model, x, n);
  else leakyForwardLoop(model, x, n);
  const beforeGc = backend.memory();
  if (scenario === 'webgpu') await backend.sync!();
  await collect();
  const after = backend.memory();
  const report = fp.leakReport();
  return {
    liveBefore: before.liveBuffers, liveBeforeGc: beforeGc.liveBuffers, liveAfter: after.liveBuffers,
    liveBytesBefore: before.liveBytes, liveBytesAfter: after.liveBytes, pooledAfter: after.pooledBuffers,
    leakedBefore: before.leaked, leakedAfter: after.leaked, leakedBytesAfter: after.leakedBytes, heapGrowth: process.memoryUsage().heapUsed - heapBefore,
    report: { leaked: report.leaked, buffers: report.buffers, byBackend: report.byBackend, tracking: report.tracking, sites: report.sites.slice(0, 3) },
  };
}

main(process.argv[2] ?? 'leaky').then(
  (r) => { process.stdout.write(JSON.stringify(r) + '\n'); process.exit(0); },
  (e) => { process.stderr.write(String((e as Error).stack ?? e) + '\n'); process.exit(1); },
);
