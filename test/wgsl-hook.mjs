// Node load hook: `import source from './kernel.wgsl'` yields the file's text when running TypeScript sources
// directly (tsx: demo, benchmarks, README snippets), as tsup's text loader does in builds.
import { register } from 'node:module';

const hook = `
export async function load(url, context, next) {
  if (url.endsWith('.wgsl')) {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: 'export default ' + JSON.stringify(text) + ';', shortCircuit: true };
  }
  return next(url, context);
}`;
register('data:text/javascript,' + encodeURIComponent(hook));
