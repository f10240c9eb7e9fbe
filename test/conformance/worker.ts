// Child process of the conformance runner: runs the test folders it is sent over IPC, one at a time, and sends
// back each result (the parent kills and replaces the process when one test overruns its time limit).
import { runTest } from './check.js';

process.on('message', async (msg: { dir: string; atol?: number }) => {
  process.send!(await runTest(msg.dir, msg.atol));
});
process.send!({ ready: true });
