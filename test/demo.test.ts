// The README's main job stays true: the demo (npm run demo) runs the shipped models and reports them equal to PyTorch.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './bundle.js';

describe('npm run demo', () => {
  it('prints each classifier at its PyTorch accuracy and 4/4 generations identical to PyTorch', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'test/wgsl-hook.mjs'), join(ROOT, 'examples/demo.ts')], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toMatch(/mlp-digits +540 +97\.41% +97\.41%/);
    expect(out).toMatch(/cnn-digits +540 +99\.07% +99\.07%/);
    expect(out).toMatch(/cnn-mnist +1000 +97\.90% +97\.90%/);
    expect(out).toMatch(/tiny-bert-cls +1000 +100\.00% +100\.00%/);
    expect(out).toMatch(/label 2, predicted 2/);
    expect(out).toMatch(/\n4\/4 generations identical to the PyTorch reference\.\n$/);
  }, 120_000);
});
