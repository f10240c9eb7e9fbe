// `forwardpass bench` in-process with a tiny time budget on mlp-digits: the table, the JSON file (rows with
// percentiles, memory, cold start, accuracy vs f32), `bench compare` on the result, and usage errors.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { BenchFile } from '../../src/cli/bench-result.js';
import { progressBar } from '../../src/cli/bench-report.js';
import { fixturePath } from '../helpers.js';
import { captureCli, scratchDir } from '../cli/capture.js';

const io = captureCli();
const tmp = () => scratchDir('fp-bench-');

describe('forwardpass bench', () => {
  it('benchmarks mlp-digits on a tiny budget: a table on stdout and a JSON file with every figure', async () => {
    const json = join(tmp(), 'r.json');
    const code = await main(['bench', fixturePath('mlp-digits'), '--batch', '1,4', '--precision', 'f32,int8', '--time-ms', '2', '--rounds', '1', '--json', json]);
    expect(io.err).toBe('');
    expect(code).toBe(0);
    expect(io.out).toMatch(/\| model\s+\| batch \| engine\s+\| precision \| p50 ms \| p95 ms \| p99 ms \| samples\/s/);
    expect(io.out).toMatch(/\| mlp-digits \| 4\s+\| forwardpass cpu \| int8/);
    expect(io.out).toContain('cold start');
    expect(io.out).toMatch(/mlp-digits \| forwardpass cpu \| int8\s+\|\s+540 \|/);
    const f = JSON.parse(readFileSync(json, 'utf8')) as BenchFile;
    expect(f.format).toBe('forwardpass-bench-v1');
    expect(f.machine.node).toBe(process.version);
    expect(typeof f.machine.commit).toBe('string');
    expect(f.rows.map((r) => `${r.precision} b${r.size}`).sort()).toEqual(['f32 b1', 'f32 b4', 'int8 b1', 'int8 b4']);
    for (const r of f.rows) {
      expect(r.medianMs <= r.p95Ms! && r.p95Ms! <= r.p99Ms!, r.key).toBe(true);
      expect(r.throughput).toBeCloseTo((r.size! * 1000) / r.medianMs, 6);
      expect(r.warmupMs!.length).toBeGreaterThan(0);
      expect(r.weightBytes).toBeGreaterThan(0);
      expect(r.readback).toBeNull();
      // the peak of live CPU bytes inside the call holds the hidden activations, not only the [B, 10] logits
      expect(r.backendLiveBytes, r.key).toBeGreaterThan(2 * 4 * 10 * r.size!);
    }
    // int8 weights are about a quarter of float32's (plus scales and float biases)
    const w = (p: string) => f.rows.find((r) => r.precision === p)!.weightBytes!;
    expect(w('int8') / w('f32')).toBeLessThan(0.35);
    expect(f.rows.find((r) => r.precision === 'int8')!.maxAbsDiff).toBeGreaterThan(0);
    expect(f.coldStart!.map((c) => c.precision)).toEqual(['f32', 'int8']);
    const a = f.accuracy!.find((x) => x.precision === 'int8')!;
    expect(a.n).toBe(540);
    expect(a.top1Agreement).toBeGreaterThan(0.98);
    expect(a.cosine).toBeGreaterThan(0.999);
    expect(f.accuracy!.find((x) => x.precision === 'f32')!).toMatchObject({ top1Agreement: 1, maxAbsDiff: 0, cosine: 1 });

    // compare against itself: nothing beyond noise, exit 0
    io.out = '';
    expect(await main(['bench', 'compare', json, json])).toBe(0);
    expect(io.out).toContain('0 regression(s)');
    // one row twice as slow (its spread set to 0 in both files, so 5% is the threshold): a regression, exit 1
    const quiet = { ...f, rows: f.rows.map((r, i) => (i === 0 ? { ...r, spread: 0 } : r)) };
    const slow = { ...f, rows: f.rows.map((r, i) => (i === 0 ? { ...r, spread: 0, medianMs: r.medianMs * 2 } : r)) };
    const quietPath = join(tmp(), 'quiet.json'), slowPath = join(tmp(), 'slow.json');
    writeFileSync(quietPath, JSON.stringify(quiet));
    writeFileSync(slowPath, JSON.stringify(slow));
    io.out = '';
    expect(await main(['bench', 'compare', quietPath, slowPath])).toBe(1);
    expect(io.out).toMatch(/^REGRESSION\s+model mlp-digits forwardpass cpu f32 b1/m);
    expect(io.err).toMatch(/^forwardpass: bench compare: 1 regression\(s\) beyond noise between .*\n$/);
  }, 30_000);

  it('rejects bad arguments with one line and exit code 2', async () => {
    expect(await main(['bench'])).toBe(2);
    expect(io.err).toMatch(/^forwardpass: bench: expected one model folder, got 0/);
    io.err = '';
    expect(await main(['bench', fixturePath('mlp-digits'), '--batch', '1,0'])).toBe(2);
    expect(io.err).toBe("forwardpass: bench: --batch expects positive integers (e.g. 1,8,64), got '0'\n");
    io.err = '';
    expect(await main(['bench', fixturePath('mlp-digits'), '--precision', 'f8'])).toBe(2);
    expect(io.err).toBe("forwardpass: bench: --precision must list some of f32, f16, int8, got 'f8'\n");
    io.err = '';
    expect(await main(['bench', 'compare', 'a.json'])).toBe(2);
    expect(io.err).toMatch(/^forwardpass: bench compare: expected two result files \(a.json b.json\), got 1\n$/);
    io.err = '';
    expect(await main(['bench', 'compare', join(tmp(), 'missing.json'), 'b.json'])).toBe(1);
    expect(io.err).toMatch(/^forwardpass: bench compare: cannot read '.*missing.json' \(ENOENT\)\n$/);
    io.err = '';
    expect(await main(['bench', fixturePath('mlp-digits', 'model.onnx')])).toBe(2);
    expect(io.err).toMatch(/^forwardpass: bench: expected a model folder \(config.json \+ model.safetensors\), got the ONNX file '.*model.onnx'/);
    io.err = '';
    expect(await main(['bench', fixturePath('mlp-digits'), '--backend', 'cpu,tpu'])).toBe(2);
    expect(io.err.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('the CLI side of the benchmarks', () => {
  it('never imports tinybench or a peer engine (zero runtime dependencies)', () => {
    const dir = new URL('../../src/cli/', import.meta.url);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      expect(text, f).not.toMatch(/from '(tinybench|onnxruntime-[a-z]+|@tensorflow\/[a-z-]+)'/);
    }
  });

  it('draws the progress bar only on a terminal', () => {
    let tty = '';
    const fake = (isTTY: boolean) => ({ isTTY, write: (s: string) => { tty += s; return true; } }) as unknown as NodeJS.WriteStream;
    const quiet = progressBar(2, fake(false));
    quiet.tick('a');
    quiet.done();
    expect(tty).toBe('');
    const bar = progressBar(2, fake(true));
    bar.tick('mlp b1');
    expect(tty).toMatch(/\[#{12}\.{12}\] 1\/2 .*mlp b1/);
    bar.done();
  });
});
