// `forwardpass trace` in-process: one line per op (default io case or --input), --full values, --step reading one
// stdin line per op (q stops), --compare against another precision with the first divergence, and one-line errors.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { traceCommand } from '../../src/cli/trace.js';
import { loadFixtureCases, writeNpyFile } from '../../src/node.js';
import * as fp from '../../src/index.js';
import { fixturePath } from '../helpers.js';
import { captureCli, scratchDir } from './capture.js';

const io = captureCli();
const tmp = () => scratchDir('fp-cli-trace-');
/** The op lines: index, path and op of each. */
const opLines = (s: string) => s.split('\n').filter((l) => /^ +\d+ {2}/.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '));

describe('forwardpass trace', () => {
  it('prints one line per op of mlp-digits for an .npy input, with stats and a sparkline', async () => {
    const dir = tmp();
    const [c] = await loadFixtureCases(fixturePath('mlp-digits'));
    await writeNpyFile(join(dir, 'x.npy'), c!.inputs.input!);
    const code = await main(['trace', fixturePath('mlp-digits'), '--input', `input=${join(dir, 'x.npy')}`]);
    expect(io.err).toBe('');
    expect(code).toBe(0);
    const lines = io.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^trace: .*mlp-digits on cpu \(f32\); ms = CPU kernel wall time$/);
    expect(opLines(io.out)).toEqual(['0 fc1 linear', '1 relu1 relu', '2 fc2 linear', '3 relu2 relu', '4 fc3 linear']);
    expect(lines[1]).toMatch(/\[1, 128\] +min +-?[\d.e-]+ +mean .* std +[\d.e-]+ +[▁▂▃▄▅▆▇█ ]{16} +[\d.]+ ms {2}= fc1$/);
    expect(lines[lines.length - 1]).toMatch(/^5 ops, [\d.]+ ms \(cpu\)$/);
  });

  it('uses the first io case when no --input is given, and prints values with --full', async () => {
    const code = await main(['trace', fixturePath('tiny-gpt'), '--full', '--bins', '8']);
    expect(code).toBe(0);
    expect(io.err).toBe(`forwardpass: trace: no --input given; using io case 'prompt0' from io.json\n`);
    const ops = opLines(io.out);
    expect(ops.length).toBe(49);
    expect(ops[4]).toBe('4 h.0.attn.c_attn linear');
    expect(io.out).toMatch(/= h\.0\.attn\.probs\ntensor\(\[\[\[\[1\.0000e\+00, 0\.0000e\+00,/);
    expect((io.out.match(/^tensor\(/gm) ?? []).length).toBe(49);
  });

  it('traces an .onnx file with its node names, inputs from the io.json beside it', async () => {
    expect(await main(['trace', fixturePath('mlp-digits', 'model.onnx')])).toBe(0);
    expect(opLines(io.out)).toEqual(['0 /fc1/Gemm linear', '1 /Relu relu', '2 /fc2/Gemm linear', '3 /Relu_1 relu', '4 /fc3/Gemm linear']);
  });

  it('--step reads one line per op and stops at q', async () => {
    const stdin = Readable.from(['\n', '\nq\n']);
    await traceCommand([fixturePath('mlp-digits'), '--step'], { stdin });
    expect(opLines(io.out)).toEqual(['0 fc1 linear', '1 relu1 relu', '2 fc2 linear']);
    expect(io.out).toMatch(/\n3 ops, /);
    io.out = '';
    await traceCommand([fixturePath('mlp-digits'), '--step'], { stdin: Readable.from(['\n']) }); // a pipe that ends: no more waiting
    expect(opLines(io.out).length).toBe(5);
  });

  it('--compare f32 with --precision int8 lists per-op differences and the first divergence', async () => {
    const code = await main(['trace', fixturePath('mlp-digits'), '--precision', 'int8', '--compare', 'f32', '--threshold', '1e-6']);
    expect(code).toBe(0);
    expect(io.out).toMatch(/^compare: this run cpu int8 with cpu f32 \(--compare\); reference: the --compare run, f32 \(the more precise run\); 5 ops matched\n/);
    expect(io.out).toMatch(/^ +0 {2}fc1 +linear→linearInt8 +max\|Δ\| .* ◀ diverges$/m);
    expect(io.out).toMatch(/^unmatched: 0 f32 ops, \d+ int8 ops \(quantizeRows\)$/m);
    expect(io.out).toMatch(/^first divergence \(rel > 0\.000001\): op 0 linear at 'fc1'/m);
    io.out = '';
    await traceCommand([fixturePath('mlp-digits'), '--precision', 'int8', '--compare', 'f32', '--step'], { stdin: Readable.from(['\n', 'q\n']) });
    expect(opLines(io.out)).toEqual(['0 fc1 linear→linearInt8', '1 relu1 relu']);
    io.out = '';
    expect(await main(['trace', fixturePath('mlp-digits'), '--precision', 'f16', '--compare', 'f32'])).toBe(0);
    expect(io.out).toMatch(/no divergence above rel 0\.01 in 5 compared ops\n$/);
  });

  it('traces an .onnx file at f16 and compares it against f16 (the session takes float32 inputs at any precision)', async () => {
    const onnx = fixturePath('mlp-digits', 'model.onnx');
    expect(await main(['trace', onnx, '--precision', 'f16'])).toBe(0);
    expect(io.out).toMatch(/^trace: .*model\.onnx on cpu \(f16\)/);
    const compute = opLines(io.out).filter((l) => !l.endsWith(' cast')).map((l) => l.split(' ').slice(1).join(' ')); // half weights are widened per Gemm
    expect(compute).toEqual(['/fc1/Gemm linear', '/Relu relu', '/fc2/Gemm linear', '/Relu_1 relu', '/fc3/Gemm linear']);
    io.out = '';
    expect(await main(['trace', onnx, '--compare', 'f16'])).toBe(0);
    expect(io.out).toMatch(/^compare: this run cpu f32 with cpu f16 \(--compare\); reference: this run, f32 \(the more precise run\); 5 ops matched\n/);
    expect(io.out).toMatch(/no divergence above rel 0\.01 in 5 compared ops\n$/);
  });

  it('frees the inputs it reads and the copies it makes, also in compare mode', async () => {
    const dir = tmp();
    const [c] = await loadFixtureCases(fixturePath('mlp-digits'));
    await writeNpyFile(join(dir, 'x.npy'), c!.inputs.input!);
    for (const t of Object.values(c!.inputs)) t.dispose();
    const before = fp.cpuBackend.memory().liveBuffers;
    expect(await main(['trace', fixturePath('mlp-digits'), '--input', `input=${join(dir, 'x.npy')}`])).toBe(0);
    expect(await main(['trace', fixturePath('mlp-digits'), '--precision', 'f16', '--compare', 'f32'])).toBe(0);
    expect(await main(['trace', fixturePath('mlp-digits', 'model.onnx'), '--compare', 'int8'])).toBe(0);
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
  });

  it('bad invocations are one line with a non-zero exit', async () => {
    const bare = tmp();
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixturePath('mlp-digits', f), join(bare, f));
    await writeNpyFile(join(bare, 'bad.npy'), fp.zeros([2, 63]));
    const cases: [string[], RegExp, number][] = [
      [['trace'], /^forwardpass: trace: expected one model folder or \.onnx file, got 0; usage: forwardpass trace/, 2],
      [['trace', fixturePath('mlp-digits'), '--compare', 'f8'], /^forwardpass: trace: --compare expects a precision \(f32, f16, int8\), a backend \(cpu, webgpu\) or BACKEND:PRECISION, got 'f8'\n$/, 2],
      [['trace', fixturePath('mlp-digits'), '--precision', 'bf16'], /^forwardpass: trace: --precision must be one of f32, f16, int8, got 'bf16'\n$/, 2],
      [['trace', bare], /^forwardpass: trace: give the model's inputs with --input NAME=FILE\.npy; usage: /, 2],
      [['trace', bare, '--input', `input=${join(bare, 'bad.npy')}`], /^forwardpass: trace: input 'input' must have shape \[batch, 64\], got \[2, 63\] \(dim 1 is 63, expected 64\)\n$/, 1],
      [['trace', join(bare, 'config.json')], /^forwardpass: trace: expected a model folder or a \.onnx file, got '.*config\.json'\n$/, 1],
      [['trace', join(bare, 'nope')], /^forwardpass: trace: '.*nope' does not exist\n$/, 1],
    ];
    for (const [argv, re, want] of cases) {
      io.err = '';
      expect(await main(argv), argv.join(' ')).toBe(want);
      expect(io.err, argv.join(' ')).toMatch(re);
      expect(io.err.trimEnd().split('\n').length).toBe(1);
    }
  });
});
