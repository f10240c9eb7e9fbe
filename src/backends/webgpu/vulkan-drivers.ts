// Linux: is there a Vulkan driver for Dawn to find? Dawn for Node looks only for Vulkan adapters there, and when the
// Vulkan loader finds no driver, the loader and Dawn print warnings to stderr from native code that no flag turns
// off. setupGpu asks this first and reports "no adapter" itself, in one line, without starting Dawn.

/** The few file-system calls the search needs (node:fs in practice; a fake in tests). */
export interface DriverFs {
  existsSync(path: string): boolean;
  statSync(path: string): { isDirectory(): boolean };
  readdirSync(path: string): string[];
}

const listed = (v: string | undefined) => (v ?? '').split(':').filter(Boolean);

/**
 * The ICD manifests (.json) the Vulkan loader would read on Linux: the files and folders in VK_DRIVER_FILES or
 * VK_ICD_FILENAMES when set (they replace the search), plus VK_ADD_DRIVER_FILES; else the icd.d folders under
 * XDG_CONFIG_HOME, XDG_CONFIG_DIRS, /etc, /usr/local/etc, XDG_DATA_HOME and XDG_DATA_DIRS (with their defaults).
 * @example vulkanDriverManifests(process.env, fs) // ['/usr/share/vulkan/icd.d/radeon_icd.x86_64.json']
 */
export function vulkanDriverManifests(env: Record<string, string | undefined>, fs: DriverFs): string[] {
  const manifests = (p: string): string[] => {
    try {
      if (!fs.existsSync(p)) return [];
      if (!fs.statSync(p).isDirectory()) return [p];
      return fs.readdirSync(p).filter((f) => f.endsWith('.json')).sort().map((f) => `${p}/${f}`);
    } catch {
      return [];
    }
  };
  const override = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  const home = env.HOME ?? '';
  const configHome = env.XDG_CONFIG_HOME || (home && `${home}/.config`);
  const dataHome = env.XDG_DATA_HOME || (home && `${home}/.local/share`);
  const searched = override
    ? listed(override)
    : [configHome, ...listed(env.XDG_CONFIG_DIRS || '/etc/xdg'), '/etc', '/usr/local/etc', dataHome, ...listed(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share')]
        .filter(Boolean)
        .map((d) => `${d}/vulkan/icd.d`);
  return [...listed(env.VK_ADD_DRIVER_FILES), ...searched].flatMap(manifests);
}

/** Why Dawn would find no Vulkan driver here, or null when a manifest exists (or the question does not apply). */
export function missingVulkanDriver(env: Record<string, string | undefined>, fs: DriverFs, dawnFlags: readonly string[]): string | null {
  // another Dawn backend asked for (e.g. backend=opengl) does not go through the Vulkan loader
  if (dawnFlags.some((f) => f.startsWith('backend=') && f !== 'backend=vulkan')) return null;
  if (vulkanDriverManifests(env, fs).length) return null;
  const where = env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : 'the Vulkan loader\'s icd.d folders';
  return `no Vulkan driver found (no ICD manifest in ${where}); Dawn for Node needs one on Linux: install a Vulkan driver, or, without a GPU, Debian's chromium package ships SwiftShader: set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json`;
}
