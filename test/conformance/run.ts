// The ONNX conformance runner: `npm run conformance -- <folder> [--backend cpu|webgpu] [--update] [--timeout-ms N] [--jobs N] [--ops N] [--json P]`.
// Runs every test folder under <folder> in child processes (a test over its time limit is killed: an error, not a
// hang; default limit 20 s, 60 s on WebGPU), prints the tallies, writes the JSON report (default
// bench/results/tmp/conformance-report.json), and exits 1 when a test of the passing list no longer passes.
// --backend webgpu runs the same tests on a WebGPU device (one per child process, reused for its tests; no adapter is
// an error) against its own list (passing-webgpu.txt), reports per test which nodes the CPU ran as a fallback, and
// lists the tests of the CPU's list (passing.txt) that fail on WebGPU.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestResult } from './check.js';
import { format, formatDevice, summarize, summarizeDevice, type IndexEntry, type Row } from './report.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

interface Options { folders: string[]; update: boolean; timeoutMs: number; jobs: number; json: string; passing: string; quiet: boolean; ops: number; backend: 'cpu' | 'webgpu' }

const BACKENDS = ['cpu', 'webgpu'] as const;
/** The CPU's passing list (also what a device run is compared with). */
const CPU_PASSING = join(HERE, 'passing.txt');

function parseArgs(argv: string[]): Options {
  const o: Options = { folders: [], update: false, timeoutMs: 0, jobs: 1, json: '', passing: '', quiet: false, ops: 60, backend: 'cpu' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = () => { const v = Number(argv[++i]); if (!(v > 0)) throw new Error(`forwardpass: conformance: ${a} needs a positive number, found '${argv[i]}'`); return v; };
    if (a === '--update') o.update = true;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--timeout-ms') o.timeoutMs = num();
    else if (a === '--jobs') o.jobs = Math.floor(num());
    else if (a === '--ops') o.ops = Math.floor(num());
    else if (a === '--json') o.json = resolve(argv[++i] ?? '');
    else if (a === '--passing') o.passing = resolve(argv[++i] ?? '');
    else if (a === '--backend') {
      const b = argv[++i] ?? '';
      if (!(BACKENDS as readonly string[]).includes(b)) throw new Error(`forwardpass: conformance: --backend must be ${BACKENDS.join(' or ')}, found '${b}'`);
      o.backend = b as Options['backend'];
    } else if (a.startsWith('--')) throw new Error(`forwardpass: conformance: unknown option '${a}' (expected --backend cpu|webgpu, --update, --quiet, --timeout-ms N, --jobs N, --ops N, --json PATH, --passing PATH)`);
    else o.folders.push(resolve(a));
  }
  // SwiftShader (WebGPU without a GPU) computes at tens of MFLOP/s on a loaded machine: the suite's largest Conv
  // (pytorch-operator/test_operator_conv, 136 MFLOP) took 12-14 s at load 15 on 2 cores
  o.timeoutMs ||= o.backend === 'cpu' ? 20_000 : 60_000;
  const suffix = o.backend === 'cpu' ? '' : `-${o.backend}`;
  o.json ||= join(ROOT, `bench/results/tmp/conformance-report${suffix}.json`);
  o.passing ||= join(HERE, `passing${suffix}.txt`);
  if (o.folders.length === 0) throw new Error('forwardpass: conformance: name a folder of tests (e.g. ../shared/onnx-backend-tests or one of its groups)');
  return o;
}

/** Test folders (holding model.onnx) under `dir`, sorted. */
function findTests(dir: string, depth = 0): string[] {
  if (!existsSync(dir)) throw new Error(`forwardpass: conformance: folder '${dir}' does not exist`);
  if (existsSync(join(dir, 'model.onnx'))) return [dir];
  if (depth > 3) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort().flatMap((d) => findTests(join(dir, d), depth + 1));
}

/** index.json of the suite holding `dir` (the folder itself or a parent), keyed `group/name`. */
function loadIndex(dir: string): Map<string, IndexEntry> {
  for (let d = dir; ; d = dirname(d)) {
    const p = join(d, 'index.json');
    if (existsSync(p)) return new Map((JSON.parse(readFileSync(p, 'utf8')).tests as IndexEntry[]).map((e) => [`${e.group}/${e.name}`, e]));
    if (dirname(d) === d) return new Map();
  }
}

/** A pool of child processes, each running one test at a time; a test past `timeoutMs` kills its child. */
class Pool {
  private idle: ChildProcess[] = [];
  /** The adapter the workers report (device backends). */
  adapter = '';
  constructor(private readonly timeoutMs: number, private readonly backend: string) {}

  private spawn(): Promise<ChildProcess> {
    const child = fork(join(HERE, 'worker.ts'), [this.backend], { execArgv: ['--import', 'tsx', '--import', join(ROOT, 'test/wgsl-hook.mjs')], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    return new Promise((res, rej) => {
      child.once('message', (m: { ready: boolean; adapter?: string; reason?: string }) => {
        child.removeAllListeners('exit');
        if (!m.ready) return rej(new Error(`forwardpass: conformance: --backend ${this.backend}: ${m.reason}`));
        this.adapter = m.adapter ?? '';
        res(child);
      });
      child.once('exit', (code) => rej(new Error(`forwardpass: conformance: the worker exited (${code}) before it was ready`)));
    });
  }

  async run(dir: string): Promise<TestResult> {
    const child = this.idle.pop() ?? (await this.spawn());
    const t0 = performance.now();
    return new Promise((res) => {
      const finish = (r: TestResult, reuse: boolean) => {
        clearTimeout(timer);
        child.removeAllListeners('message');
        child.removeAllListeners('exit');
        if (reuse) this.idle.push(child);
        else child.kill('SIGKILL');
        res(r);
      };
      const timer = setTimeout(() => finish({ status: 'error', reason: `timeout: no result within ${this.timeoutMs} ms`, ms: this.timeoutMs }, false), this.timeoutMs);
      // a worker whose device broke during the test asks to be retired: the next test gets a fresh process
      child.once('message', ({ retire, ...r }: TestResult & { retire?: boolean }) => finish(r, !retire));
      child.once('exit', (code, sig) => finish({ status: 'error', reason: `crash: the worker exited (${code ?? sig})`, ms: Math.round(performance.now() - t0) }, false));
      child.send({ dir });
    });
  }

  close(): void {
    for (const c of this.idle) c.kill();
  }
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const tests = o.folders.flatMap((f) => findTests(f));
  const index = new Map<string, IndexEntry>();
  for (const f of o.folders) for (const [k, v] of loadIndex(f)) index.set(k, v);
  const pool = new Pool(o.timeoutMs, o.backend);
  const rows: Row[] = new Array(tests.length);
  let next = 0, done = 0;
  const workers = Array.from({ length: Math.min(o.jobs, tests.length) }, async () => {
    while (next < tests.length) {
      const k = next++;
      const dir = tests[k]!;
      const id = `${basename(dirname(dir))}/${basename(dir)}`;
      const e = index.get(id);
      const r = await pool.run(dir);
      rows[k] = { id, group: basename(dirname(dir)), opTypes: e?.opTypes ?? [], tensorOnly: e?.tensorOnly ?? true, ...(e ? { ort: e.onnxruntime_1_30 } : {}), ...r };
      if (!o.quiet && ++done % 200 === 0) process.stderr.write(`  ${done} of ${tests.length} tests\n`);
    }
  });
  await Promise.all(workers);
  pool.close();
  const seconds = (performance.now() - t0) / 1000;
  const s = summarize(rows);

  // the passing list: tests of this run that passed before and do not now are regressions
  const readList = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : []);
  const before = readList(o.passing);
  const device = o.backend === 'cpu' ? undefined : summarizeDevice(rows, new Set(readList(CPU_PASSING)));
  const ran = new Set(rows.map((r) => r.id));
  const passed = new Set(rows.filter((r) => r.status === 'pass').map((r) => r.id));
  const regressions = rows.filter((r) => before.includes(r.id) && r.status !== 'pass');
  const newPasses = [...passed].filter((id) => !before.includes(id)).sort();
  mkdirSync(dirname(o.json), { recursive: true });
  writeFileSync(o.json, JSON.stringify({ seconds: Math.round(seconds), folders: o.folders, backend: o.backend, ...(device ? { adapter: pool.adapter, device } : {}), summary: s, regressions: regressions.map((r) => r.id), newPasses, tests: rows }, null, 1) + '\n');

  if (!o.quiet) console.log(format(s, o.ops));
  if (device) console.log(`\n${formatDevice(device, o.backend, pool.adapter)}`);
  console.log(`\n${rows.length} tests in ${seconds.toFixed(1)} s; report: ${o.json}`);
  if (o.update) {
    const kept = before.filter((id) => !ran.has(id));
    const list = [...new Set([...kept, ...passed])].sort();
    const how = o.backend === 'cpu' ? '' : ` on ${o.backend}`;
    writeFileSync(o.passing, `# ONNX conformance tests forwardpass passes${how} (npm run conformance -- <folder>${o.backend === 'cpu' ? '' : ` --backend ${o.backend}`} --update rewrites it)\n${list.join('\n')}\n`);
    console.log(`passing list rewritten: ${list.length} tests (${o.passing})`);
  } else if (newPasses.length) {
    console.log(`new passes (${newPasses.length}; --update adds them to the list): ${newPasses.slice(0, 30).join(', ')}${newPasses.length > 30 ? ', ...' : ''}`);
  }
  if (regressions.length) {
    console.log(`REGRESSIONS (${regressions.length}): tests of the passing list that no longer pass:`);
    for (const r of regressions) console.log(`  ${r.id}: ${r.status}: ${r.reason ?? ''}`);
    return 1;
  }
  return 0;
}

main().then((code) => process.exit(code), (e) => { console.error(e instanceof Error ? e.message : e); process.exit(2); });
