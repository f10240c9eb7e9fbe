// In-process CLI tests: captures what main() writes to stdout and stderr during each test (the writes are spied
// and restored after it), and makes scratch folders.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';

/** What the CLI wrote in the current test; tests may reset either field between commands. */
export interface Captured {
  out: string;
  err: string;
}

/**
 * Register hooks that capture stdout/stderr for every test of the calling file.
 * @example const io = captureCli(); it('...', async () => { await main(['--help']); expect(io.out).toMatch(/usage/); });
 */
export function captureCli(): Captured {
  const io: Captured = { out: '', err: '' };
  beforeEach(() => {
    io.out = '';
    io.err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { io.out += String(s); return true; });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { io.err += String(s); return true; });
  });
  afterEach(() => vi.restoreAllMocks());
  return io;
}

/** A fresh scratch folder under the system temp dir. @example const dir = scratchDir('fp-cli-'); */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
