// Build: ESM + CJS + .d.ts for the library ('forwardpass' and 'forwardpass/node'), the ESM CLI, and the step-through web
// page (examples/web -> dist/web, importing the library bundle at /lib/index.js); .wgsl loads as text.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
// test/build.test.ts builds into a temporary folder without declarations (FORWARDPASS_BUILD_OUT, FORWARDPASS_NO_DTS)
const outDir = process.env.FORWARDPASS_BUILD_OUT ?? 'dist';
const dts = process.env.FORWARDPASS_NO_DTS ? false : true;

const common = {
  sourcemap: true,
  target: 'es2022',
  loader: { '.wgsl': 'text' } as const,
  define: { __FORWARDPASS_VERSION__: JSON.stringify(version) },
  // dist/ is emptied by the build script before both configs run, so neither cleans the other's output
  clean: false,
  outDir,
};

/** The page's imports of the library's entry point stay imports, of the bundle the server serves at /lib/index.js. */
const libraryAsBundle: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'forwardpass-lib',
  setup(build) {
    build.onResolve({ filter: /(^|\/)src\/index\.js$/ }, () => ({ path: '/lib/index.js', external: true }));
  },
};

export default defineConfig([
  {
    ...common,
    entry: { index: 'src/index.ts', node: 'src/node.ts' },
    format: ['esm', 'cjs'],
    // shared chunks for CJS too, so 'forwardpass' and 'forwardpass/node' share one Tensor class and backend registry
    splitting: true,
    dts,
  },
  {
    ...common,
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entry: { app: 'examples/web/app.ts' },
    format: ['esm'],
    platform: 'browser',
    outDir: `${outDir}/web`,
    esbuildPlugins: [libraryAsBundle],
    onSuccess: async () => {
      mkdirSync(`${outDir}/web`, { recursive: true });
      copyFileSync('examples/web/index.html', `${outDir}/web/index.html`);
    },
  },
]);
