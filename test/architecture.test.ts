// Architecture guards: import boundaries between layers, a browser-safe main entry, WGSL only in kernels/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const files = walk(SRC);
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)].map((m) => (m[1] ?? m[2])!);
const resolveImport = (from: string, spec: string) => resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
const rel = (p: string) => relative(SRC, p).split('\\').join('/');

describe('architecture', () => {
  it('tensor/ and ops/ never import a backend (only the interface in backends/backend.ts)', () => {
    const bad: string[] = [];
    for (const f of files.filter((f) => /^(tensor|ops)\//.test(rel(f)))) {
      for (const spec of importsOf(f).filter((s) => s.startsWith('.'))) {
        const target = rel(resolveImport(f, spec));
        if (target.startsWith('backends/') && target !== 'backends/backend.ts') bad.push(`${rel(f)} -> ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('backends never import nn, io, trace or cli', () => {
    const bad: string[] = [];
    for (const f of files.filter((f) => rel(f).startsWith('backends/'))) {
      for (const spec of importsOf(f).filter((s) => s.startsWith('.'))) {
        const target = rel(resolveImport(f, spec));
        if (/^(nn|io|trace|cli)\//.test(target)) bad.push(`${rel(f)} -> ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the main entry (src/index.ts) reaches no Node built-in module, so it bundles for browsers', () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const spec of importsOf(f)) {
        if (spec.startsWith('.')) visit(resolveImport(f, spec));
        else if (spec.startsWith('node:') || ['fs', 'path', 'os', 'url', 'child_process'].includes(spec)) bad.push(`${rel(f)} imports ${spec}`);
      }
    };
    visit(join(SRC, 'index.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect(bad).toEqual([]);
  });

  it('WGSL entry points live in kernels/*.wgsl, never in .ts files', () => {
    expect(files.filter((f) => /@compute/.test(readFileSync(f, 'utf8'))).map(rel)).toEqual([]);
  });

  it('every CPU kernel is implemented (no pending placeholders)', () => {
    const table = readFileSync(join(SRC, 'backends/cpu/kernels/index.ts'), 'utf8');
    expect(table.match(/pending\('\w+'\)/g) ?? []).toEqual([]);
  });
});
