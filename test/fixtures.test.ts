// The fixtures shipped in test/fixtures are byte-identical to their manifest (SHA-256 and size of every file).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from './helpers.js';

describe('fixtures', () => {
  it('match manifest.json', () => {
    const manifest = JSON.parse(readFileSync(fixturePath('manifest.json'), 'utf8')) as { files: { path: string; bytes: number; sha256: string }[] };
    expect(manifest.files.length).toBe(49);
    for (const f of manifest.files) {
      const bytes = readFileSync(fixturePath(f.path));
      expect({ path: f.path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual(f);
    }
  });
});
