// The published bundles work: tsup builds ESM + CJS + the CLI into a temporary folder, then plain Node runs them
// (catches packaging faults the in-process tests cannot see: tree-shaken registration, split chunks, CJS/ESM mixing).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from './helpers.js';
import { buildBundles, ROOT } from './bundle.js';

let OUT = '';
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  OUT = buildBundles();
}, 120_000);

describe('built package', () => {
  it('the CLI bundle runs a model and generates text', () => {
    expect(node([join(OUT, 'cli.js'), 'generate', fixturePath('tiny-gpt'), '--prompt', 'you must ', '--max-new-tokens', '20'])).toBe('you must be distributed under\n');
    expect(node([join(OUT, 'cli.js'), '--version'])).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('ESM and CJS entries compute, and tensors from both entries mix', () => {
    const esm = `import * as fp from ${JSON.stringify(join(OUT, 'index.js'))}; import * as n from ${JSON.stringify(join(OUT, 'node.js'))};
      const m = await n.loadModel(${JSON.stringify(fixturePath('mlp-digits'))}); console.log(m.parameterCount(), fp.add(fp.tensor([1, 2]), n.tensor([3, 4])).toString());`;
    expect(node(['--input-type=module', '-e', esm])).toBe('17226 tensor([4., 6.])\n');
    const cjs = `const fp = require(${JSON.stringify(join(OUT, 'index.cjs'))}); const n = require(${JSON.stringify(join(OUT, 'node.cjs'))});
      console.log(fp.matmul(fp.tensor([[1, 2]]), n.tensor([[3], [4]])).toString());`;
    expect(node(['-e', cjs])).toBe('tensor([[11.]])\n');
  });

  it('loadTokenizer reads a tokenizer folder from the node entry (ESM and CJS), and the CLI bundle tokenizes', () => {
    const dir = JSON.stringify(fixturePath('tokenizers', 'wordpiece'));
    const esm = `import * as n from ${JSON.stringify(join(OUT, 'node.js'))}; const t = await n.loadTokenizer(${dir}); console.log(t.encode('hello world').ids.join(','));`;
    const cjs = `const n = require(${JSON.stringify(join(OUT, 'node.cjs'))}); n.loadTokenizer(${dir}).then((t) => console.log(t.encode('hello world').ids.join(',')));`;
    const ids = node(['--input-type=module', '-e', esm]);
    expect(ids).toMatch(/^2,(\d+,)+3\n$/);
    expect(node(['-e', cjs])).toBe(ids);
    const out = execFileSync(process.execPath, [join(OUT, 'cli.js'), 'tokenize', fixturePath('tokenizers', 'wordpiece'), '--add-special-tokens'], { cwd: ROOT, encoding: 'utf8', input: '"hello world"\n' });
    expect(JSON.parse(out).ids.join(',') + '\n').toBe(ids);
  });
});
