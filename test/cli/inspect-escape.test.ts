// inspect prints names and metadata read from files with control and bidi characters escaped (a model file cannot
// drive the terminal); --json keeps the exact strings. Also the printable() escaping itself.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { printable } from '../../src/cli/printable.js';
import * as fp from '../../src/index.js';
import { fixturePath } from '../helpers.js';
import { onnxModel } from '../io/onnx/writer.js';
import { captureCli, scratchDir } from './capture.js';

const io = captureCli();
const EVIL = 'a\x1b[2J\x1b]0;title\x07\nb\r\tc\u202ed\x7f\x9b';
const SHOWN = 'a\\x1b[2J\\x1b]0;title\\x07\\nb\\r\\tc\\u202ed\\x7f\\x9b';
/** Nothing a terminal acts on: C0 and C1 controls, DEL, line separators, bidi overrides and isolates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** The same but newline, which inspect's own line breaks use. */
const UNSAFE_IN_OUTPUT = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('printable', () => {
  it('escapes controls and bidi marks, leaves other text alone', () => {
    expect(printable(EVIL)).toBe(SHOWN);
    expect(printable('fc1.weight é 中 \\x')).toBe('fc1.weight é 中 \\x');
    for (let c = 0; c < 0x3000; c++) expect(printable(String.fromCharCode(c))).not.toMatch(UNSAFE);
  });
});

describe('forwardpass inspect on hostile names', () => {
  it('escapes safetensors tensor names and __metadata__ keys and values', async () => {
    const file = join(scratchDir('fp-escape-'), 'w.safetensors');
    writeFileSync(file, await fp.saveSafetensors({ [`w${EVIL}`]: fp.tensor([1, 2]) }, { [`k${EVIL}`]: `v${EVIL}` }));
    expect(await main(['inspect', file])).toBe(0);
    expect(io.out).not.toMatch(UNSAFE_IN_OUTPUT);
    expect(io.out).toContain(`w${SHOWN}  F32`);
    expect(io.out).toContain(`  k${SHOWN}: v${SHOWN}\n`);
    expect(lines(io.out)).toHaveLength(5); // header, table head, one row, 'metadata:', one entry (and blank lines)
    io.out = '';
    expect(await main(['inspect', file, '--json'])).toBe(0);
    expect(JSON.parse(io.out).metadata).toEqual({ [`k${EVIL}`]: `v${EVIL}` });
  });

  it('escapes a model folder config name and task', async () => {
    const dir = scratchDir('fp-escape-dir-');
    cpSync(fixturePath('mlp-digits'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, name: `m${EVIL}`, task: `t${EVIL}` }));
    expect(await main(['inspect', dir])).toBe(0);
    expect(io.out.split('\n')[0]).toBe(`${dir}: model 'm${SHOWN}' (mlp) - t${SHOWN}`);
    expect(io.out).not.toMatch(UNSAFE_IN_OUTPUT);
  });

  it('escapes ONNX producer strings, value names and op domains', async () => {
    const file = join(scratchDir('fp-escape-onnx-'), 'm.onnx');
    writeFileSync(file, onnxModel({
      producer: `p${EVIL}`,
      inputs: [{ name: `x${EVIL}`, type: 'float', shape: [2] }],
      outputs: [{ name: 'y', type: 'float', shape: [2] }],
      nodes: [{ op: 'Relu', inputs: [`x${EVIL}`], outputs: ['y'] }, { op: 'Odd', domain: `d${EVIL}`, inputs: ['y'], outputs: ['z'] }],
      opset: [{ domain: '', version: 17 }, { domain: `d${EVIL}`, version: 1 }],
    }));
    expect(await main(['inspect', file])).toBe(0);
    const out = io.out.split('\n');
    expect(out[0]).toBe(`${file}: ONNX model, IR version 8, opset 17, 1 (d${SHOWN}), produced by p${SHOWN}`);
    expect(out[1]).toBe(`inputs:  x${SHOWN} float [2]`);
    expect(io.out).toContain(`d${SHOWN}.Odd`);
    expect(io.out).not.toMatch(UNSAFE_IN_OUTPUT);
  });
});
