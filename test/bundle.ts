// Builds the published bundles (tsup, no declarations) into a temporary folder, once per test file that asks.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fixturePath } from './helpers.js';

export const ROOT = resolve(fixturePath(), '..', '..');

/** Run tsup with the project's config into a fresh temporary folder; returns the folder. */
export function buildBundles(): string {
  const out = mkdtempSync(join(tmpdir(), 'fp-build-'));
  execFileSync(process.execPath, [join(ROOT, 'node_modules/tsup/dist/cli-default.js'), '--silent'], {
    cwd: ROOT, env: { ...process.env, FORWARDPASS_BUILD_OUT: out, FORWARDPASS_NO_DTS: '1' }, stdio: 'pipe',
  });
  return out;
}
