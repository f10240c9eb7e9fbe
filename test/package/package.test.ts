// The package as a stranger gets it: packed with npm, installed from the tarball into an empty project, then its bin
// run (local and global installs), its .d.ts type-checked by a consumer with no @webgpu/types, and its ESM and CJS
// builds loaded into one process with their tensors mixed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../helpers.js';
import { ROOT } from '../bundle.js';
import { npm, packAndInstall, type Installed } from './packed.js';

let pkg: Installed;
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

beforeAll(() => {
  pkg = packAndInstall();
}, 180_000);

afterAll(() => {
  for (const dir of [pkg?.project, pkg?.stage]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run a command in the consumer project; returns its exit status and both streams. */
function run(cmd: string, args: string[], cwd = pkg.project) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the tarball', () => {
  it('holds the builds, declarations, kernels, README and LICENSE, and no sources', () => {
    for (const f of ['package.json', 'LICENSE', 'README.md', 'dist/cli.js', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/node.d.ts', 'dist/node.d.cts']) {
      expect(pkg.files).toContain(f);
    }
    expect(pkg.files.some((f) => f.startsWith('kernels/') && f.endsWith('.wgsl'))).toBe(true);
    expect(pkg.files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
  });
});

describe('the installed forwardpass command', () => {
  const bin = () => join(pkg.project, 'node_modules/.bin/forwardpass');

  it('prints help and the version', () => {
    const help = run(bin(), ['--help']);
    expect(help).toMatchObject({ status: 0, stderr: '' });
    expect(help.stdout).toMatch(/^forwardpass: run frozen models[^]*\n  run  .*\n  inspect  /);
    expect(run(bin(), ['inspect', '--help']).stdout).toMatch(/forwardpass inspect /);
    expect(run(bin(), ['--version'])).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('inspects a model folder', () => {
    const r = run(bin(), ['inspect', fixturePath('mlp-digits')]);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toContain("model 'mlp-digits'");
    expect(r.stdout).toMatch(/fc1\.weight +F32 +\[128, 64\]/);
  });

  it('fails a run with exit code 1 and one line on stderr', () => {
    const missing = join(pkg.project, 'missing.npy');
    const r = run(bin(), ['run', fixturePath('mlp-digits'), '--input', `input=${missing}`, '--out', join(pkg.project, 'out')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^forwardpass: [^\n]+\n$/);
    expect(r.stderr).toContain(missing);
  });

  it('runs from a global install too', () => {
    const prefix = mkdtempSync(join(pkg.stage, 'global-'));
    npm(['install', '--global', `--prefix=${prefix}`, pkg.tarball], pkg.stage, pkg.stage);
    expect(run(join(prefix, 'bin/forwardpass'), ['--version'])).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('the published types', () => {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  /** Type-check `files` in the consumer project with these compiler options; returns tsc's output ('' when clean). */
  function typecheck(name: string, options: Record<string, unknown>, files: string[]): string {
    const compilerOptions = { strict: true, noEmit: true, skipLibCheck: false, types: [], target: 'es2022', ...options };
    writeFileSync(join(pkg.project, name), JSON.stringify({ compilerOptions, files }));
    const r = run(process.execPath, [tsc, '-p', name]);
    return `${r.stdout}${r.stderr}`.trim() || (r.status === 0 ? '' : `tsc exited ${r.status}`);
  }

  beforeAll(() => {
    const body = (powerPreference: string) => `import { add, initWebGPU, tensor, type Tensor, type WebGPUOptions } from 'forwardpass';
import { loadModel } from 'forwardpass/node';
const t: Tensor = add(tensor([1, 2]), tensor([3, 4]));
const options: WebGPUOptions = { powerPreference: '${powerPreference}' };
export async function count(): Promise<number> {
  const gpu = await initWebGPU(options);
  const model = await loadModel('folder');
  t[Symbol.dispose]();
  return t.size + gpu.dispatches + model.parameterCount();
}
`;
    writeFileSync(join(pkg.project, 'consumer.ts'), body('low-power'));
    writeFileSync(join(pkg.project, 'consumer-cjs.cts'), body('high-performance'));
    writeFileSync(join(pkg.project, 'consumer-gpu.ts'), `import { initWebGPU } from 'forwardpass';
export async function buffer(device: GPUDevice): Promise<GPUBuffer> {
  const gpu = await initWebGPU({ device });
  return gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
}
`);
  });

  it('type-check a consumer with no @webgpu/types under bundler resolution', () => {
    expect(typecheck('tsconfig.bundler.json', { module: 'esnext', moduleResolution: 'bundler' }, ['consumer.ts'])).toBe('');
  });

  it('type-check ESM and CJS consumers under node16 resolution, without even a DOM lib or esnext.disposable', () => {
    const files = ['consumer.ts', 'consumer-cjs.cts'];
    expect(typecheck('tsconfig.node16.json', { module: 'node16', moduleResolution: 'node16', lib: ['es2022'] }, files)).toBe('');
  });

  it('merge with @webgpu/types where the consumer has them (GPUDevice in, a full GPUDevice out)', () => {
    mkdirSync(join(pkg.project, 'node_modules/@webgpu'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules/@webgpu/types'), join(pkg.project, 'node_modules/@webgpu/types'), 'dir');
    expect(typecheck('tsconfig.webgpu.json', { module: 'node16', moduleResolution: 'node16', types: ['@webgpu/types'] }, ['consumer-gpu.ts'])).toBe('');
  });
});

describe('the ESM and CJS builds in one process', () => {
  it('share one CPU backend, and their tensors mix in either direction', () => {
    const script = `import * as esm from 'forwardpass';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('forwardpass');
const cjsNode = createRequire(import.meta.url)('forwardpass/node');
console.log(esm.tensor !== cjs.tensor, esm.cpuBackend === cjs.cpuBackend);
console.log(esm.add(esm.tensor([1, 2]), cjs.tensor([3, 4])).toString());
console.log(cjs.matmul(cjs.tensor([[1, 2]]), esm.tensor([[3], [4]])).toString());
const model = await cjsNode.loadModel(${JSON.stringify(fixturePath('mlp-digits'))});
console.log(model.forward(esm.zeros([1, 64])).shape.join('x'));
`;
    writeFileSync(join(pkg.project, 'dual.mjs'), script);
    expect(execFileSync(process.execPath, ['dual.mjs'], { cwd: pkg.project, encoding: 'utf8' })).toBe('true true\ntensor([4., 6.])\ntensor([[11.]])\n1x10\n');
  });
});
