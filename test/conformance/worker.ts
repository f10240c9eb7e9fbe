// Child process of the conformance runner: runs the test folders it is sent over IPC, one at a time, and sends
// back each result (the parent kills and replaces the process when one test overruns its time limit).
// argv[2] is the backend ('cpu' or 'webgpu'). On WebGPU the process gets its device once (test/webgpu.ts: Dawn,
// on SwiftShader without a GPU driver) and reports the adapter, or why there is none, as its first message; a
// test after which the device no longer works (a GPU error, a lost device) asks to be retired, so the next test
// starts in a fresh process.
import { runTest } from './check.js';

const backend = process.argv[2] ?? 'cpu';
let healthy = async () => true;
let adapter = '';
if (backend === 'webgpu') {
  // test/webgpu.ts throws when FORWARDPASS_REQUIRE_WEBGPU=1 and no adapter is found: either way, the reason goes to the parent
  const { gpu, reason } = await import('../webgpu.js').then((m) => m.getWebGPU()).catch((e: Error) => ({ gpu: null, reason: e.message }));
  if (!gpu) {
    process.send!({ ready: false, reason: `no WebGPU device: ${reason}` }, () => process.exit(1));
    await new Promise(() => {}); // exits once the message is out
  } else {
    const a = gpu.setup.adapter;
    adapter = `${a.vendor} ${a.architecture} ${a.description}`.trim();
    healthy = () => gpu.sync().then(() => true, () => false);
  }
}

process.on('message', async (msg: { dir: string; atol?: number }) => {
  const r = await runTest(msg.dir, msg.atol, backend);
  process.send!((await healthy()) ? r : { ...r, retire: true });
});
process.send!({ ready: true, adapter });
