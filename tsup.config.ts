// Build: ESM + CJS + .d.ts for the library, and an ESM entry for the CLI; .wgsl files load as text.
import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    loader: { '.wgsl': 'text' },
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'es2022',
    platform: 'node',
    loader: { '.wgsl': 'text' },
    banner: { js: '#!/usr/bin/env node' },
  },
]);
