// Finding a Vulkan driver before starting Dawn (Linux): the loader's manifest search on a fake file system, and
// `--backend auto` with no driver printing only forwardpass's own one-line notice (no Vulkan loader or Dawn warnings).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingVulkanDriver, vulkanDriverManifests, type DriverFs } from '../../src/backends/webgpu/vulkan-drivers.js';
import { ROOT } from '../bundle.js';
import { fixturePath } from '../helpers.js';
import { scratchDir } from '../cli/capture.js';
import { writeNpyFile, loadFixtureCases } from '../../src/node.js';

/** A fake file system: folders map to their file names; every other listed path is a file. */
function fakeFs(dirs: Record<string, string[]>, files: string[] = []): DriverFs {
  return {
    existsSync: (p) => p in dirs || files.includes(p),
    statSync: (p) => ({ isDirectory: () => p in dirs }),
    readdirSync: (p) => dirs[p] ?? [],
  };
}

describe('vulkanDriverManifests', () => {
  const fs = fakeFs({ '/usr/share/vulkan/icd.d': ['radeon_icd.x86_64.json', 'README'], '/etc/vulkan/icd.d': [], '/opt/icd': ['a.json'] }, ['/sw/icd.json']);

  it('searches the loader folders (XDG defaults, /etc) when no override is set', () => {
    expect(vulkanDriverManifests({ HOME: '/home/u' }, fs)).toEqual(['/usr/share/vulkan/icd.d/radeon_icd.x86_64.json']);
    expect(vulkanDriverManifests({ XDG_DATA_DIRS: '/opt/data' }, fs)).toEqual([]);
    expect(vulkanDriverManifests({ XDG_DATA_DIRS: '/opt/data', VK_ADD_DRIVER_FILES: '/sw/icd.json' }, fs)).toEqual(['/sw/icd.json']);
  });

  it('uses only VK_DRIVER_FILES / VK_ICD_FILENAMES (files or folders) when set', () => {
    expect(vulkanDriverManifests({ VK_ICD_FILENAMES: '/nothing.json' }, fs)).toEqual([]);
    expect(vulkanDriverManifests({ VK_ICD_FILENAMES: '/nothing.json:/sw/icd.json' }, fs)).toEqual(['/sw/icd.json']);
    expect(vulkanDriverManifests({ VK_ICD_FILENAMES: '/opt/icd' }, fs)).toEqual(['/opt/icd/a.json']);
    expect(vulkanDriverManifests({ VK_DRIVER_FILES: '/nothing.json', VK_ICD_FILENAMES: '/sw/icd.json' }, fs)).toEqual([]);
  });

  it('names where it looked, and stays out of the way of other Dawn backends', () => {
    expect(missingVulkanDriver({ VK_ICD_FILENAMES: '/nothing.json' }, fs, [])).toMatch(/^no Vulkan driver found \(no ICD manifest in VK_ICD_FILENAMES\); .*VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json$/);
    expect(missingVulkanDriver({ VK_ICD_FILENAMES: '/nothing.json' }, fs, ['backend=opengl'])).toBeNull();
    expect(missingVulkanDriver({ VK_ICD_FILENAMES: '/nothing.json' }, fs, ['backend=vulkan'])).toMatch(/^no Vulkan driver found/);
    expect(missingVulkanDriver({}, fs, [])).toBeNull();
  });
});

describe.runIf(process.platform === 'linux')('forwardpass run --backend auto without a Vulkan driver', () => {
  it('falls back to the CPU with one line on stderr and nothing from the Vulkan loader or Dawn', async () => {
    const dir = scratchDir('fp-novk-');
    const c = (await loadFixtureCases(fixturePath('mlp-digits')))[0]!;
    await writeNpyFile(join(dir, 'x.npy'), c.inputs.input!);
    const env: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: join(dir, 'no-such-icd.json') };
    delete env.VK_DRIVER_FILES;
    delete env.VK_ADD_DRIVER_FILES;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'test/wgsl-hook.mjs'), join(ROOT, 'src/cli/bin.ts'),
      'run', fixturePath('mlp-digits'), '--input', `input=${join(dir, 'x.npy')}`, '--out', join(dir, 'out'), '--backend', 'auto'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^forwardpass: using cpu \(no WebGPU: no Vulkan driver found \(no ICD manifest in VK_ICD_FILENAMES\)[^\n]*\)\n$/);
    expect(r.stdout).toMatch(/ran mlp-digits on cpu/);
  });
});
