// Build: ESM + CJS + .d.ts for the library, and an ESM entry for the CLI; .wgsl files load as text.
import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', node: 'src/node.ts' },
    format: ['esm', 'cjs'],
    // shared chunks for CJS too, so 'forwardpass' and 'forwardpass/node' share one Tensor class and backend registry
    splitting: true,
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
