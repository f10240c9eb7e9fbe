// The whole ONNX conformance suite (../shared/onnx-backend-tests, about 2,000 tests, under 10 s here) through the
// runner against the committed passing list: a test of test/conformance/passing.txt that no longer passes fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SUITE = resolve(ROOT, '../shared/onnx-backend-tests');
const HAS_SUITE = existsSync(join(SUITE, 'index.json'));
if (!HAS_SUITE) console.warn(`ONNX conformance suite skipped: ${SUITE} is absent`);

describe.skipIf(!HAS_SUITE)('ONNX conformance suite', () => {
  it('passes every test of the passing list', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'fp-conf-')), 'report.json');
    const r = spawnSync('node', ['--import', 'tsx', '--import', './test/wgsl-hook.mjs', 'test/conformance/run.ts', SUITE, '--json', json, '--quiet', '--jobs', '2'], { cwd: ROOT, encoding: 'utf8' });
    const report = JSON.parse(readFileSync(json, 'utf8')) as { regressions: string[]; summary: { total: { pass: number; tests: number } } };
    const listed = readFileSync(join(ROOT, 'test/conformance/passing.txt'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(report.regressions, r.stdout).toEqual([]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(report.summary.total.tests).toBeGreaterThan(2000);
    expect(report.summary.total.pass).toBeGreaterThanOrEqual(listed.length);
  }, 300_000);
});
