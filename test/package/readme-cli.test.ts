// The README's way to run the CLI from a clone without building works as written (it needs the .wgsl load hook).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../bundle.js';

it("the README's from-a-clone CLI command runs inspect on a model folder", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const command = /`(node --import tsx [^`]*src\/cli\/bin\.ts) \.\.\.`/.exec(readme)?.[1];
  expect(command).toBeDefined();
  const [, ...args] = command!.split(' ');
  const out = execFileSync(process.execPath, [...args, 'inspect', 'test/fixtures/mlp-digits'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(out).toContain("model 'mlp-digits'");
});
