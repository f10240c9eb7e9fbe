// The CLI on Hugging Face folders (../shared/hf/models and test/fixtures/hf): inspect names the architecture,
// parameters, dtypes and tokenizer; run writes HF's output names matching the references; generate reproduces the
// reference greedy ids, streams text equal to the --json text, and samples reproducibly with a seed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { generate, loadHfModel, readNpyFile } from '../../src/node.js';
import { HAS_SHARED, LOCAL_MODELS, SHARED_MODELS, SHARED_REASON, readReference, validMaxDiff } from '../hf/helpers.js';
import { captureCli, scratchDir } from './capture.js';

const io = captureCli();
const shared = (name: string) => resolve(SHARED_MODELS, name);
if (!HAS_SHARED) console.warn(`test/cli/hf.test.ts: the shared-folder tests skip: ${SHARED_REASON}`);
const withShared = describe.skipIf(!HAS_SHARED);

withShared('forwardpass inspect <hf-folder>', () => {
  it('gpt2: architecture, parameter count, dtypes and tokenizer', async () => {
    expect(await main(['inspect', shared('gpt2')])).toBe(0);
    expect(io.err).toBe('');
    expect(io.out).toMatch(/GPT2LMHeadModel \(model_type gpt2\)/);
    // the tied lm_head is not stored, so the count is the model's own parameter count
    const model = await loadHfModel(shared('gpt2'));
    expect(io.out).toContain(`parameters: ${model.parameterCount().toLocaleString('en-US')} (F32)`);
    model.dispose();
    expect(io.out).toMatch(/tokenizer: BPE, vocabulary 512/);
  });

  it('--json gives the same facts; the parameter count equals the loaded model\'s', async () => {
    expect(await main(['inspect', shared('bert'), '--json'])).toBe(0);
    const j = JSON.parse(io.out) as { architecture: string; model_type: string; parameters: number; dtypes: string[]; tokenizer: { type: string; vocab_size: number }; weights: { elements: number } };
    expect(j.architecture).toBe('BertForSequenceClassification');
    expect(j.model_type).toBe('bert');
    expect(j.dtypes).toEqual(['F32']);
    const model = await loadHfModel(shared('bert'));
    expect(j.parameters).toBe(model.parameterCount());
    model.dispose();
    expect(j.tokenizer).toEqual({ type: 'WordPiece', vocab_size: 1000 });
  });

  it('a folder without a tokenizer says so; BF16 weights are named', async () => {
    expect(await main(['inspect', join(LOCAL_MODELS, 'gemma')])).toBe(0);
    expect(io.out).toMatch(/BF16/);
    expect(io.out).toMatch(/tokenizer: none \(no tokenizer\.json\)/);
  });
});

withShared('forwardpass run <hf-folder>', () => {
  for (const [name, outs] of [['gpt2', ['logits', 'last_hidden_state']], ['bert', ['logits', 'last_hidden_state', 'pooler_output']], ['llama', ['logits']], ['vit', ['logits', 'last_hidden_state']]] as const) {
    it(`${name}: writes ${outs.join(', ')}.npy by HF's names, matching the reference (1e-4)`, async () => {
      const dir = scratchDir('fp-hf-run-');
      const ref = readReference(shared(name));
      const inputs = Object.entries(ref.inputs).flatMap(([k, d]) => ['--input', `${k}=${shared(`${name}/${d.file}`)}`]);
      expect(await main(['run', shared(name), ...inputs, '--out', dir])).toBe(0);
      expect(io.err).toBe('');
      for (const o of outs) {
        const got = await readNpyFile(join(dir, `${o}.npy`));
        const want = await readNpyFile(shared(`${name}/${ref.outputs[o]!.file}`));
        expect(await validMaxDiff(got, want, ref)).toBeLessThan(1e-4);
      }
    });
  }

  it('bert base model folder writes last_hidden_state.npy and pooler_output.npy', async () => {
    const dir = scratchDir('fp-hf-run-');
    const local = join(LOCAL_MODELS, 'bert-base');
    const ref = readReference(local);
    const inputs = Object.entries(ref.inputs).flatMap(([k, d]) => ['--input', `${k}=${join(local, d.file)}`]);
    expect(await main(['run', local, ...inputs, '--out', dir])).toBe(0);
    for (const o of ['last_hidden_state', 'pooler_output']) {
      expect(existsSync(join(dir, `${o}.npy`))).toBe(true);
      const want = await readNpyFile(join(local, ref.outputs[o]!.file));
      expect(await validMaxDiff(await readNpyFile(join(dir, `${o}.npy`)), want, ref)).toBeLessThan(1e-4);
    }
  });

  it('an unknown input name is one line naming what the model takes', async () => {
    const dir = scratchDir('fp-hf-run-');
    expect(await main(['run', shared('gpt2'), '--input', `pixels=${shared('gpt2/input_ids.npy')}`, '--out', dir])).toBe(1);
    expect(io.err).toMatch(/^forwardpass: run: unknown input 'pixels'; the model takes 'input_ids', 'attention_mask'.*\n$/);
  });
});

withShared('forwardpass generate <hf-folder>', () => {
  for (const name of ['gpt2', 'llama', 'qwen2']) {
    it(`${name}: --prompt-ids ... --json gives the reference greedy ids`, async () => {
      const g = readReference(shared(name)).generation!;
      expect(await main(['generate', shared(name), '--prompt-ids', g.prompt_ids.join(','), '--max-new-tokens', String(g.max_new_tokens), '--json'])).toBe(0);
      expect(io.err).toBe('');
      const out = JSON.parse(io.out) as { ids: number[]; text: string };
      // the config's eos id 0 never comes in these 20 steps (reference: eos_positions_in_new_ids is empty)
      expect(out.ids).toEqual(g.new_ids);
      expect(io.out.split('\n').length).toBe(2);
    });
  }

  it('spawned as a user runs it: --json prints one line with the reference ids, exit 0', () => {
    const g = readReference(shared('llama')).generation!;
    const root = resolve(__dirname, '../..');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(root, 'test/wgsl-hook.mjs'), join(root, 'src/cli/bin.ts'), 'generate', shared('llama'), '--prompt-ids', g.prompt_ids.join(','), '--max-new-tokens', String(g.max_new_tokens), '--json'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { ids: number[] }).ids).toEqual(g.new_ids);
  });

  it('gpt2: the streamed text equals the prompt plus the --json text; --no-cache gives the same', async () => {
    const g = readReference(shared('gpt2')).generation as unknown as { prompt_text: string; decoded_new_text: string };
    const args = ['generate', shared('gpt2'), '--prompt', 'The quick brown fox jumps', '--max-new-tokens', '12'];
    expect(await main([...args, '--json'])).toBe(0);
    const j = JSON.parse(io.out) as { ids: number[]; text: string };
    io.out = '';
    expect(await main(args)).toBe(0);
    expect(io.out).toBe(`The quick brown fox jumps${j.text}\n`);
    io.out = '';
    expect(await main([...args, '--json', '--no-cache'])).toBe(0);
    expect(JSON.parse(io.out)).toEqual(j);
    expect(g.prompt_text).toBe('The quick brown fox jumps');
  });

  it('sampling: the same --seed gives the same ids, another seed other ids; top-k 1 is greedy', async () => {
    const run = async (...extra: string[]) => {
      io.out = '';
      expect(await main(['generate', shared('llama'), '--prompt-ids', '5,6,7', '--max-new-tokens', '16', '--json', ...extra])).toBe(0);
      return (JSON.parse(io.out) as { ids: number[] }).ids;
    };
    const a = await run('--temperature', '1.5', '--seed', '1');
    expect(await run('--temperature', '1.5', '--seed', '1')).toEqual(a);
    expect(await run('--temperature', '1.5', '--seed', '2')).not.toEqual(a);
    expect(await run('--top-k', '1', '--seed', '9')).toEqual(await run());
  });

  it('--repetition-penalty applies to greedy decoding as generate({ repetitionPenalty }) does; --min-p 1 is greedy', async () => {
    const g = readReference(shared('gpt2')).generation!;
    const run = async (...extra: string[]) => {
      io.out = '';
      expect(await main(['generate', shared('gpt2'), '--prompt-ids', g.prompt_ids.join(','), '--max-new-tokens', '12', '--json', ...extra])).toBe(0);
      return (JSON.parse(io.out) as { ids: number[] }).ids;
    };
    const penalized = await run('--repetition-penalty', '1.5');
    // the reference repeats 472 three times; the penalty must change that
    expect(penalized).not.toEqual(g.new_ids.slice(0, 12));
    const model = await loadHfModel(shared('gpt2'));
    expect(penalized).toEqual(await generate(model, g.prompt_ids, { maxNewTokens: 12, repetitionPenalty: 1.5 }));
    model.dispose();
    expect(await run('--min-p', '1', '--seed', '3')).toEqual(g.new_ids.slice(0, 12));
  });

  it('bad flags and models are one line', async () => {
    const cases: [string[], RegExp, number][] = [
      [['generate', shared('llama'), '--prompt-ids', '1,x'], /--prompt-ids must be comma-separated token ids like 1,2,3, got '1,x'/, 2],
      [['generate', shared('llama'), '--prompt-ids', '1', '--top-p', '0'], /--top-p must be a number in \(0, 1\], got '0'/, 2],
      [['generate', shared('llama'), '--prompt', 'a', '--prompt-ids', '1'], /give --prompt or --prompt-ids, not both/, 2],
      [['generate', shared('llama'), '--prompt-ids', '999'], /prompt id 999 at position 0 is outside the vocabulary 0\.\.511/, 1],
      [['generate', shared('bert'), '--prompt', 'hello'], /holds a BertForSequenceClassification; generation needs a causal LM/, 1],
      [['generate', join(LOCAL_MODELS, 'mistral'), '--prompt', 'hello'], /has no tokenizer\.json; give the prompt as --prompt-ids/, 2],
    ];
    for (const [argv, re, code] of cases) {
      io.err = '';
      expect(await main(argv)).toBe(code);
      expect(io.err).toMatch(re);
      expect(io.err.split('\n').length).toBe(2);
    }
  });
});

describe('forwardpass generate on test/fixtures/hf (no tokenizer)', () => {
  it('mistral (sliding window, GQA): --prompt-ids greedy equals the reference ids', async () => {
    const dir = join(LOCAL_MODELS, 'mistral');
    const g = readReference(dir).generation!;
    expect(await main(['generate', dir, '--prompt-ids', g.prompt_ids.join(','), '--max-new-tokens', String(g.max_new_tokens), '--json'])).toBe(0);
    expect((JSON.parse(io.out) as { ids: number[] }).ids).toEqual(g.new_ids);
  });
});
