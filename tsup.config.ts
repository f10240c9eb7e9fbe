// Build: ESM + CJS + .d.ts for the library ('forwardpass' and 'forwardpass/node'), and the ESM CLI; .wgsl loads as text.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const common = {
  sourcemap: true,
  target: 'es2022',
  loader: { '.wgsl': 'text' } as const,
  define: { __FORWARDPASS_VERSION__: JSON.stringify(version) },
  // dist/ is emptied by the build script before both configs run, so neither cleans the other's output
  clean: false,
};

export default defineConfig([
  {
    ...common,
    entry: { index: 'src/index.ts', node: 'src/node.ts' },
    format: ['esm', 'cjs'],
    // shared chunks for CJS too, so 'forwardpass' and 'forwardpass/node' share one Tensor class and backend registry
    splitting: true,
    dts: true,
  },
  {
    ...common,
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
