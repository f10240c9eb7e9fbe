// Builds the package (tsup, with declarations), packs it with npm and installs only the tarball into a fresh temporary
// project, as a stranger would; the package tests then run the installed bin, type-check against it and import it there.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../bundle.js';

export interface Installed {
  /** The temporary project with forwardpass in node_modules. */
  project: string;
  /** Folder the tarball was packed into (also holds the npm cache used). */
  stage: string;
  tarball: string;
  /** Paths inside the tarball, relative to the package root. */
  files: string[];
}

/** Run npm offline with a private cache, no scripts, audit or fund requests (forwardpass has no runtime dependencies). */
export function npm(args: string[], cwd: string, stage: string): string {
  const flags = ['--no-audit', '--no-fund', '--ignore-scripts', '--offline', `--cache=${join(stage, 'npm-cache')}`, '--loglevel=error'];
  return execFileSync('npm', [...args, ...flags], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Build, `npm pack` and `npm install <tarball>` into a new project; takes about half a minute (mostly the .d.ts build). */
export function packAndInstall(): Installed {
  const stage = mkdtempSync(join(tmpdir(), 'fp-pack-'));
  // src comes along so the tarball check sees that package.json "files" leaves it out
  for (const f of ['package.json', 'README.md', 'LICENSE', 'kernels', 'src']) cpSync(join(ROOT, f), join(stage, f), { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, FORWARDPASS_BUILD_OUT: join(stage, 'dist') };
  delete env.FORWARDPASS_NO_DTS;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/tsup/dist/cli-default.js'), '--silent'], { cwd: ROOT, env, stdio: 'pipe' });
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', stage], stage, stage)) as { filename: string; files: { path: string }[] }[];
  const tarball = join(stage, packed!.filename);
  const project = mkdtempSync(join(tmpdir(), 'fp-consumer-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  npm(['install', tarball, '--no-package-lock'], project, stage);
  return { project, stage, tarball, files: packed!.files.map((f) => f.path) };
}
