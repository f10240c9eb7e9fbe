// The conformance runner on a handful of test folders written here (model.onnx + .pb data with the suite's layout):
// each classification (pass, wrong, unsupported, error, timeout), the tallies, the passing list and the exit code.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeTensor, onnxModel, type ElemName } from '../io/onnx/writer.js';
import { mismatch } from './check.js';
import { summarizeDevice, type Row } from './report.js';
import { webgpu } from '../webgpu.js';

const ROOT = join(import.meta.dirname, '../..');

function writeTest(dir: string, name: string, op: string, x: { type: ElemName; dims: number[]; data: number[] | bigint[] }, y: { type: ElemName; dims: number[]; data: number[] | bigint[] }, extra: Partial<{ outShape: number[]; attrs: Record<string, number[]> }> = {}) {
  const d = join(dir, 'node', name);
  mkdirSync(join(d, 'test_data_set_0'), { recursive: true });
  writeFileSync(join(d, 'model.onnx'), onnxModel({
    opset: 17,
    nodes: [{ op, inputs: op === 'Reshape' ? ['x', 's'] : ['x'], outputs: ['y'], attrs: extra.attrs }],
    inputs: [{ name: 'x', type: x.type, shape: x.dims }, ...(op === 'Reshape' ? [{ name: 's', type: 'int64' as const, shape: [extra.outShape!.length] }] : [])],
    outputs: [{ name: 'y', type: y.type }],
  }));
  writeFileSync(join(d, 'test_data_set_0', 'input_0.pb'), encodeTensor({ name: 'x', ...x }));
  if (op === 'Reshape') writeFileSync(join(d, 'test_data_set_0', 'input_1.pb'), encodeTensor({ name: 's', type: 'int64', dims: [extra.outShape!.length], data: extra.outShape!.map(BigInt) }));
  writeFileSync(join(d, 'test_data_set_0', 'output_0.pb'), encodeTensor({ name: 'y', ...y }));
}

function runRunner(args: string[]): { code: number; out: string; report: { backend: string; adapter?: string; summary: { total: Record<string, number> }; tests: { id: string; status: string; reason?: string; nodes?: number; fallback?: string[] }[]; newPasses: string[]; regressions: string[] } } {
  const json = join(mkdtempSync(join(tmpdir(), 'fp-conf-')), 'report.json');
  const r = spawnSync('node', ['--import', 'tsx', '--import', './test/wgsl-hook.mjs', 'test/conformance/run.ts', ...args, '--json', json, '--quiet'], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout + r.stderr, report: JSON.parse(readFileSync(json, 'utf8')) };
}

describe('conformance runner', () => {
  const suite = mkdtempSync(join(tmpdir(), 'fp-suite-'));
  const f = (data: number[], dims = [data.length]) => ({ type: 'float' as const, dims, data });
  writeTest(suite, 'test_relu_ok', 'Relu', f([-1, 2, Number.NaN]), f([0, 2, Number.NaN]));
  writeTest(suite, 'test_relu_wrong', 'Relu', f([-1, 2]), f([0, 2.01]));
  writeTest(suite, 'test_relu_shape', 'Relu', f([-1, 2]), f([0, 2], [1, 2]));
  writeTest(suite, 'test_no_such_op', 'NoSuchOp', f([1]), f([1]));
  writeTest(suite, 'test_reshape_bad', 'Reshape', f([1, 2, 3]), f([1, 2, 3]), { outShape: [4] });
  // uint64 is held as int32 where values fit: one beyond int32 in the test data is 'unsupported'
  writeTest(suite, 'test_uint64_input', 'Relu', { type: 'uint64', dims: [1], data: [2n ** 40n] }, { type: 'uint64', dims: [1], data: [2n ** 40n] });
  // a 1M-element Softmax (4 MB of data to read) cannot finish within a 5 ms limit
  const slow = mkdtempSync(join(tmpdir(), 'fp-suite-slow-'));
  writeTest(slow, 'test_slow', 'Softmax', f(Array.from({ length: 1_000_000 }, (_, i) => i % 7), [1_000_000]), f([0]));
  writeTest(slow, 'test_zz_after', 'Relu', f([1]), f([1]));
  writeFileSync(join(suite, 'passing.txt'), '# list\nnode/test_relu_ok\nnode/test_relu_wrong\n');

  it('classifies pass, wrong, unsupported and error, and fails on a regression of the passing list', () => {
    const { code, out, report } = runRunner([join(suite, 'node'), '--passing', join(suite, 'passing.txt'), ]);
    const status = Object.fromEntries(report.tests.map((t) => [t.id, t.status]));
    expect(status).toEqual({
      'node/test_relu_ok': 'pass', 'node/test_relu_wrong': 'wrong', 'node/test_relu_shape': 'wrong', 'node/test_no_such_op': 'unsupported',
      'node/test_reshape_bad': 'error', 'node/test_uint64_input': 'unsupported',
    });
    const reason = Object.fromEntries(report.tests.map((t) => [t.id, t.reason]));
    expect(reason['node/test_relu_shape']).toMatch(/shape \[2\], expected \[1, 2\]/);
    expect(reason['node/test_no_such_op']).toMatch(/unsupported ops .*NoSuchOp/);
    expect(report.summary.total).toMatchObject({ tests: 6, pass: 1, wrong: 2, unsupported: 2, error: 1 });
    expect(report.regressions).toEqual(['node/test_relu_wrong']);
    expect(code).toBe(1);
    expect(out).toMatch(/REGRESSIONS \(1\)/);
  }, 120_000);

  it('a test over the time limit is killed and counted as an error; the run goes on with a fresh worker', () => {
    const { code, report } = runRunner([join(slow, 'node'), '--timeout-ms', '5']);
    expect(code).toBe(0);
    expect(report.tests.map((t) => t.id)).toEqual(['node/test_slow', 'node/test_zz_after']);
    expect(report.tests[0]).toMatchObject({ status: 'error', reason: 'timeout: no result within 5 ms' });
  }, 120_000);

  it('--update rewrites the passing list; a run without regressions exits 0 and reports new passes', () => {
    const list = join(suite, 'passing-2.txt');
    writeFileSync(list, 'node/test_other_folder\n');
    const a = runRunner([join(suite, 'node', 'test_relu_ok'), join(suite, 'node', 'test_relu_wrong'), '--passing', list, '--update']);
    expect(a.code).toBe(0);
    expect(a.report.newPasses).toEqual(['node/test_relu_ok']);
    const lines = readFileSync(list, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual(['node/test_other_folder', 'node/test_relu_ok']); // tests outside the run are kept
    const b = runRunner([join(suite, 'node', 'test_relu_ok'), '--passing', list]);
    expect(b.code).toBe(0);
    expect(b.report.newPasses).toEqual([]);
  }, 120_000);

  it('compares with atol + rtol·|expected|, NaN with NaN, ±Inf exactly, integers exactly', () => {
    expect(mismatch([1.001], [1], false)).toBeUndefined(); // 1e-3 <= 1e-4 + 1e-3
    expect(mismatch([1.0012], [1], false)).toMatch(/element 0/);
    expect(mismatch([Number.NaN], [Number.NaN], false)).toBeUndefined();
    expect(mismatch([0], [Number.NaN], false)).toMatch(/element 0/);
    expect(mismatch([Number.NaN], [0], false)).toMatch(/element 0/);
    expect(mismatch([Infinity], [Infinity], false)).toBeUndefined();
    expect(mismatch([3.4e38], [Infinity], false)).toMatch(/element 0/);
    expect(mismatch([2], [3], true)).toMatch(/element 0: 2, expected 3/);
    expect(mismatch([1, 2], [1], true)).toMatch(/2 values, expected 1/);
  });

  it('names an unknown option and an unknown backend', () => {
    expect(() => execFileSync('node', ['--import', 'tsx', 'test/conformance/run.ts', suite, '--frobnicate'], { cwd: ROOT, stdio: 'pipe' })).toThrow(/unknown option '--frobnicate'/);
    expect(() => execFileSync('node', ['--import', 'tsx', 'test/conformance/run.ts', suite, '--backend', 'tpu'], { cwd: ROOT, stdio: 'pipe' })).toThrow(/--backend must be cpu or webgpu, found 'tpu'/);
  });

  it.skipIf(!webgpu.gpu)('--backend webgpu: the same classification on the device, the adapter, and per test the nodes and CPU fallbacks', () => {
    const { code, out, report } = runRunner([join(suite, 'node'), '--backend', 'webgpu', '--passing', join(suite, 'passing.txt')]);
    expect(report.backend).toBe('webgpu');
    expect(report.adapter).toBe(`${webgpu.gpu!.setup.adapter.vendor} ${webgpu.gpu!.setup.adapter.architecture} ${webgpu.gpu!.setup.adapter.description}`.trim());
    const rows = Object.fromEntries(report.tests.map((t) => [t.id, t]));
    expect(Object.fromEntries(report.tests.map((t) => [t.id, t.status]))).toEqual({
      'node/test_relu_ok': 'pass', 'node/test_relu_wrong': 'wrong', 'node/test_relu_shape': 'wrong', 'node/test_no_such_op': 'unsupported',
      'node/test_reshape_bad': 'error', 'node/test_uint64_input': 'unsupported',
    });
    expect(rows['node/test_relu_ok']).toMatchObject({ nodes: 1, fallback: [] });
    expect(rows['node/test_no_such_op']!.nodes).toBeUndefined(); // refused at load: no plan
    expect(report.regressions).toEqual(['node/test_relu_wrong']);
    expect(code).toBe(1);
    expect(out).toMatch(/webgpu \(.+\): 1 tests pass: 1 of \d+ loaded with every node on webgpu/);
  }, 120_000);

  it('--backend webgpu without an adapter stops the run with the reason (exit 2), whether or not CI requires WebGPU', () => {
    for (const require of ['0', '1']) {
      const r = spawnSync('node', ['--import', 'tsx', '--import', './test/wgsl-hook.mjs', 'test/conformance/run.ts', join(suite, 'node', 'test_relu_ok'), '--backend', 'webgpu', '--quiet'], {
        cwd: ROOT, encoding: 'utf8', env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', FORWARDPASS_REQUIRE_WEBGPU: require },
      });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/forwardpass: conformance: --backend webgpu: no WebGPU device: forwardpass: webgpu: no Vulkan driver found/);
    }
  }, 120_000);

  it('device tallies: every node on the device or some on the CPU, and the CPU list\'s tests that fail there (bugs vs fallbacks)', () => {
    const row = (id: string, status: Row['status'], placed: Partial<Row> = {}): Row => ({ id, group: 'node', opTypes: [], tensorOnly: true, status, ms: 1, ...placed });
    const d = summarizeDevice([
      row('a', 'pass', { nodes: 2, fallback: [] }),
      row('b', 'wrong', { nodes: 1, fallback: [] }),
      row('c', 'error', { nodes: 3, fallback: ['TopK', 'TopK'] }),
      row('d', 'pass', { nodes: 2, fallback: ['TopK', 'If'] }),
      row('e', 'unsupported'),
      row('f', 'wrong', { nodes: 1, fallback: [] }),
    ], new Set(['a', 'b', 'c', 'd', 'e']));
    expect(d.onDevice).toMatchObject({ tests: 3, pass: 1, wrong: 2 });
    expect(d.withFallback).toMatchObject({ tests: 2, pass: 1, error: 1 });
    expect(d.fallbackOps).toEqual({ TopK: 2, If: 1 });
    expect(d.bugs).toEqual(['b', 'e']); // e: the CPU passes it, the device refuses it at load
    expect(d.fallbackFailures).toEqual(['c']);
  });
});
