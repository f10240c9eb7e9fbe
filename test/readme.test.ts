// The README's TypeScript snippets run as written (imports of 'forwardpass' pointed at src/), and print what
// the README says they print.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath } from './helpers.js';
import { HAS_SHARED, SHARED_REASON } from './hf/helpers.js';
import { webgpu } from './webgpu.js'; // sets up Dawn on SwiftShader (environment inherited by the snippets)

const ROOT = resolve(fixturePath(), '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(join(tmpdir(), 'fp-readme-'));

function run(code: string, i: number): string {
  const src = code
    .replaceAll("from 'forwardpass/node'", `from ${JSON.stringify(join(ROOT, 'src/node.ts'))}`)
    .replaceAll("from 'forwardpass'", `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`);
  const file = join(dir, `snippet${i}.mts`);
  writeFileSync(file, src);
  return execFileSync(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'test/wgsl-hook.mjs'), file], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What each snippet must print (in order of appearance in the README). */
const expected: RegExp[] = [
  /^tensor\(\[\[0\., 3\.\],\n\s+\[1\., 4\.\],\n\s+\[2\., 5\.\]\]\)\n\[ \[ 10, 21, 32 \], \[ 13, 24, 35 \] \]\n\[\s*'0\.090',\s*'0\.245',\s*'0\.665',\s*'0\.090',\s*'0\.245',\s*'0\.665'\s*\]\n\[ 2, 2 \] \[ 3, 12 \]\n$/,
  /^\[\s*2,\s*1,\s*6,\s*1,\s*7,\s*6,\s*9,\s*9\s*\]\n\[\s*2,\s*1,\s*6,\s*1,\s*7,\s*6,\s*9,\s*9\s*\]\n20682 parameters\n$/,
  /^\[ 1, 10 \] fc1\.weight fc1\.bias fc2\.weight fc2\.bias fc3\.weight fc3\.bias\n$/,
  /^GNU General Public License in the program is free software\n$/,
  /^1\n$/,
  /^(software adapter \(CPU speed\)|hardware adapter) 4\nyou must be distributed under\ntrue\n$/,
  /^0\.262\n$/,
  /^input: float32 \[batch, 1, 28, 28\] opset 17\n\[\s*2,\s*1,\s*6,\s*1,\s*7,\s*6,\s*9,\s*9\s*\]\n$/,
  /^fc1:linear relu1:relu fc2:linear relu2:relu fc3:linear\n-16\.98 11\.96 0\n(0\.99\d\d\d|1\.00000)( (0\.99\d\d\d|1\.00000)){4}\n$/,
  /^Phi3ForCausalLM \d+ parameters\n62 77 40 117 2 15 91 114 78 81\n\[ 1, 5, 32 \] \[ 1, 32 \] \[ 1, 32 \]\n$/,
  /^true true\n(\[\d+\]){4}\n64 -?[01]\.\d{3}\n\[ \{ label: 'LABEL_0', score: 0\.68\d+ \} \]\n$/,
  /^\[CLS\] he ##ll ##o , to ##ke ##n ##i ##z ##ers ! \[SEP\]\n\[\[0,0\],\[0,2\],\[2,4\],\[4,5\],\[5,6\],\[7,9\],\[9,11\],\[11,12\],\[12,13\],\[13,14\],\[14,17\],\[17,18\],\[0,0\]\]\nhello, tokenizers!\n1111000000 1111111111\n$/,
];

describe('README snippets', () => {
  it('has the snippets this test expects', () => {
    expect(snippets.length).toBe(expected.length);
  });
  snippets.forEach((code, i) => {
    const needsGpu = code.includes('initWebGPU');
    // snippets on the project's shared checkpoints skip (with the reason printed) only where ../shared is absent
    const needsShared = code.includes('../shared/');
    if (needsShared && !HAS_SHARED) console.warn(`test/readme.test.ts: snippet ${i + 1} skips: ${SHARED_REASON}`);
    it.skipIf((needsGpu && !webgpu.gpu) || (needsShared && !HAS_SHARED))(`snippet ${i + 1} runs and prints what the README says`, () => {
      expect(run(code, i)).toMatch(expected[i]!);
    });
  });
});
