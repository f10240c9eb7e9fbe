// `forwardpass serve --model ...`: flags parsed from SERVE_SPEC, default names, folder and .onnx models side by side, a
// Hugging Face folder completing, usage errors, and a real process that finishes a streaming completion after SIGTERM, then exits 0.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseArgs } from '../../src/cli/args.js';
import { defaultModelName, startFromArgs } from '../../src/cli/serve-models.js';
import { SERVE_SPEC } from '../../src/cli/specs.js';
import { fixturePath } from '../helpers.js';
import { captureCli } from '../cli/capture.js';
import { LOCAL_MODELS, readReference } from '../hf/helpers.js';

const io = captureCli();

describe('forwardpass serve --model', () => {
  it('serves a folder and an .onnx file under their default names; --max-batch and friends reach the batcher', async () => {
    const s = await startFromArgs(parseArgs(['--model', fixturePath('mlp-digits'), '--model', fixturePath('tiny-bert-cls', 'model.onnx'), '--port', '0', '--max-batch', '4', '--max-delay-ms', '0'], SERVE_SPEC));
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const meta = (await (await fetch(`${s.url}/v2/models/tiny-bert-cls`)).json()) as { platform: string; inputs: { name: string }[] };
      expect(meta.platform).toBe('onnx');
      expect(meta.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask']);
      expect((await fetch(`${s.url}/v2/models/mlp-digits`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('serves a Hugging Face causal-LM folder: v2 metadata and /v1/completions through its generation', async () => {
    const s = await startFromArgs(parseArgs(['--model', resolve(LOCAL_MODELS, 'qwen3'), '--port', '0'], SERVE_SPEC));
    try {
      const meta = (await (await fetch(`${s.url}/v2/models/qwen3`)).json()) as { platform: string };
      expect(meta.platform).toBe('huggingface');
      const g = readReference(resolve(LOCAL_MODELS, 'qwen3')).generation!;
      const r = (await (await fetch(`${s.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: g.prompt_ids, max_tokens: 10 }) })).json()) as { choices: { token_ids: number[] }[] };
      expect(r.choices[0]!.token_ids).toEqual(g.new_ids); // greedy: its generation_config.json does not sample
    } finally {
      await s.close();
    }
  });

  it('default names: the folder, the .onnx or .gguf file, or the folder of a model.onnx', () => {
    expect(defaultModelName('test/fixtures/mlp-digits/')).toBe('mlp-digits');
    expect(defaultModelName('x/bert.onnx')).toBe('bert');
    expect(defaultModelName('../shared/hf/models/llama/model-q8_0.gguf')).toBe('model-q8_0');
    expect(defaultModelName('test/fixtures/tiny-gpt/model.onnx')).toBe('tiny-gpt');
  });

  it('usage errors name the option (exit 2); a missing model path is one sentence (exit 1)', async () => {
    const cases: [string[], RegExp, number][] = [
      [['--model', 'a', '--model', 'b', '--name', 'x'], /got 1 --name for 2 --model/, 2],
      [['--model', fixturePath('mlp-digits'), '--max-batch', '0'], /--max-batch must be a positive integer, got '0'/, 2],
      [['--model', fixturePath('mlp-digits'), '--max-delay-ms', 'soon'], /--max-delay-ms must be a number >= 0, got 'soon'/, 2],
      [['--model', fixturePath('mlp-digits'), '--models', 'x'], /--models lists folders for the step-through page/, 2],
      [['--max-batch', '8'], /--max-batch applies to the model server; give --model PATH too/, 2],
      [['--model', '/no/such/model', '--port', '0'], /^forwardpass: serve: --model '\/no\/such\/model' does not exist\n$/, 1],
    ];
    for (const [argv, msg, code] of cases) {
      io.err = '';
      expect(await main(['serve', ...argv])).toBe(code);
      expect(io.err).toMatch(msg);
    }
  });

  it('a real process: SIGTERM during a streaming completion lets it finish, then the process exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/wgsl-hook.mjs', 'src/cli/bin.ts', 'serve', '--model', fixturePath('tiny-gpt'), '--name', 'gpt', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        out += c;
        const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`the server exited: ${out} ${err}`)));
    });
    const r = await fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'This License ', max_tokens: 40, stream: true }) });
    const reader = r.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    child.kill('SIGTERM');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(await exited).toBe(0);
    clearTimeout(killer);
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(text.split('\n\n').filter((e) => e.startsWith('data: {')).length).toBe(40);
    expect(out).toMatch(/SIGTERM: not accepting new requests; finishing the ones received\nforwardpass: stopped\n$/);
  }, 60_000);
});
