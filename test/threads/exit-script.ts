// Run by exit.test.ts in a child process: threads from FORWARDPASS_THREADS, GEMMs split across them, then nothing more:
// the process must exit by itself (the workers are unref'd). Prints what it saw as one JSON line.
import * as fp from '../../src/index.js';
import { setGemmThreadsMinFlops } from '../../src/backends/cpu/wasm/gemm.js';
import { threadPoolInfo, whenThreadsReady } from '../../src/backends/cpu/wasm/threads.js';

const threads = fp.getNumThreads();
await whenThreadsReady();
setGemmThreadsMinFlops(0);
const a = fp.rand([64, 96], { seed: 1 }), b = fp.rand([96, 80], { seed: 2 });
const variants: string[] = [];
fp.addOpHook((e) => { if (e.variant) variants.push(e.variant); });
for (let i = 0; i < 50; i++) fp.matmul(a, b).dispose();
process.stdout.write(`${JSON.stringify({ threads, variant: variants[0] ?? '', ...threadPoolInfo() })}\n`);
