// POST /v1/completions on real language models, loaded as `forwardpass serve --model` loads them: Hugging Face folders
// (test/fixtures/hf, without tokenizers: id prompts; ../shared/hf/models gpt2 and llama with tokenizer.json) and GGUF
// files (../shared/hf/models/llama/*.gguf, tokenizer in the file). Greedy output equals transformers' reference ids
// and the library's own generate; streaming equals non-streaming; seeded sampling, stop strings, n, echo, usage,
// errors, concurrent requests, and a client that leaves mid-stream. One server on 127.0.0.1, closed at the end.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServedModel } from '../../src/cli/serve-models.js';
import * as fp from '../../src/node.js';
import { startModelServer, type ModelServer } from '../../src/serve/server.js';
import { HAS_SHARED, LOCAL_MODELS, readReference, SHARED_MODELS, SHARED_REASON } from '../hf/helpers.js';

if (!HAS_SHARED) console.warn(`completions on the shared checkpoints skipped: ${SHARED_REASON}`);
const LLAMA = resolve(SHARED_MODELS, 'llama');
const GPT2 = resolve(SHARED_MODELS, 'gpt2');
/** Local fixtures with transformers' greedy ids (generate, eos_token_id=None). */
const local = readdirSync(LOCAL_MODELS).filter((n) => readReference(resolve(LOCAL_MODELS, n)).generation).sort();
const PROMPT = 'The quick brown fox jumps';

let s: ModelServer;
beforeAll(async () => {
  const paths: [string, string][] = local.map((n) => [n, resolve(LOCAL_MODELS, n)]);
  if (HAS_SHARED) paths.push(['llama', LLAMA], ['gpt2', GPT2], ['llama-f32-gguf', resolve(LLAMA, 'model-f32.gguf')], ['llama-q8-gguf', resolve(LLAMA, 'model-q8_0.gguf')]);
  const models = await Promise.all(paths.map(([name, path]) => loadServedModel(path, name, 'cpu')));
  s = await startModelServer({ models, batch: { maxQueue: 64 }, maxBodyBytes: 1 << 20 });
});
afterAll(() => s?.close());

interface Choice { index: number; text: string; token_ids: number[]; finish_reason: 'stop' | 'length' | null }
interface Completion { choices: Choice[]; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }; error?: string }

async function complete(body: Record<string, unknown>, init: RequestInit = {}): Promise<{ status: number; json: Completion }> {
  const r = await fetch(`${s.url}/v1/completions`, { method: 'POST', body: JSON.stringify(body), ...init });
  return { status: r.status, json: (await r.json()) as Completion };
}

/** A streamed completion: the events' chunks in order (the [DONE] line checked and dropped). */
async function streamed(body: Record<string, unknown>): Promise<(Completion & { choices: Choice[] })[]> {
  const r = await fetch(`${s.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ ...body, stream: true }) });
  expect(r.headers.get('content-type')).toBe('text/event-stream');
  const events = (await r.text()).split('\n\n').filter(Boolean);
  expect(events.at(-1)).toBe('data: [DONE]');
  return events.slice(0, -1).map((e) => {
    expect(e.startsWith('data: ')).toBe(true);
    return JSON.parse(e.slice(6)) as Completion;
  });
}

/** Per choice index: the streamed texts joined, the ids joined, and the finish_reason of its last event. */
function joinStream(chunks: Completion[]): Map<number, { text: string; ids: number[]; finish: string | null; pieces: string[] }> {
  const out = new Map<number, { text: string; ids: number[]; finish: string | null; pieces: string[] }>();
  for (const c of chunks) {
    for (const ch of c.choices) {
      const o = out.get(ch.index) ?? { text: '', ids: [], finish: null, pieces: [] };
      o.text += ch.text;
      o.pieces.push(ch.text);
      o.ids.push(...ch.token_ids);
      o.finish = ch.finish_reason;
      out.set(ch.index, o);
    }
  }
  return out;
}

const metric = async (line: string) => {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith(`${line} `))?.split(' ')[1]);
};

describe('greedy completions equal the references', () => {
  for (const name of local) {
    it(`${name} (test/fixtures/hf): id prompt, temperature 0 -> transformers' greedy ids`, async () => {
      const g = readReference(resolve(LOCAL_MODELS, name)).generation!;
      // these folders' EOS id (0) is not among the reference ids, so nothing stops early
      const r = await complete({ model: name, prompt: g.prompt_ids, max_tokens: g.max_new_tokens, temperature: 0 });
      expect(r.status).toBe(200);
      expect(r.json.choices).toEqual([{ index: 0, text: '', token_ids: g.new_ids, logprobs: null, finish_reason: 'length' }]);
      expect(r.json.usage).toEqual({ prompt_tokens: g.prompt_ids.length, completion_tokens: g.new_ids.length, total_tokens: g.prompt_ids.length + g.new_ids.length });
    });
  }

  describe.skipIf(!HAS_SHARED)('shared checkpoints and GGUF files', () => {
    for (const [name, file] of [['llama', ''], ['gpt2', ''], ['llama-f32-gguf', 'model-f32.gguf']] as const) {
      it(`${name}: id prompt -> transformers' 20 greedy ids; the ids decode to the text`, async () => {
        const dir = name === 'gpt2' ? GPT2 : LLAMA;
        const g = readReference(dir).generation as unknown as { prompt_ids: number[]; new_ids: number[] };
        const r = await complete({ model: name, prompt: g.prompt_ids, max_tokens: 20, temperature: 0 });
        expect(r.json.choices[0]!.token_ids).toEqual(g.new_ids);
        const tok = await fp.loadTokenizer(resolve(dir, 'tokenizer.json'));
        const all = tok.decode([...g.prompt_ids, ...g.new_ids], { skipSpecialTokens: true });
        expect(r.json.choices[0]!.text).toBe(all.slice(tok.decode(g.prompt_ids, { skipSpecialTokens: true }).length));
        void file;
      });
    }

    for (const name of ['llama', 'gpt2']) {
      it(`${name}: a text prompt completes as the library's generateText does (tokenizer.json, generation_config.json)`, async () => {
        const dir = name === 'gpt2' ? GPT2 : LLAMA;
        const model = await fp.loadHfModel(dir);
        const tok = await fp.loadTokenizer(dir);
        const defaults = fp.generationDefaults(JSON.parse(readFileSync(resolve(dir, 'generation_config.json'), 'utf8')), JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8')));
        const want = await fp.generateText(model, tok, PROMPT, fp.generationOptions(defaults, { maxNewTokens: 24 }));
        model.dispose();
        const r = await complete({ model: name, prompt: PROMPT, max_tokens: 24 });
        expect(r.json.choices[0]!.token_ids).toEqual(want.ids);
        expect(r.json.choices[0]!.text).toBe(want.text);
        expect(r.json.usage.prompt_tokens).toBe(tok.encode(PROMPT, { addSpecialTokens: false }).ids.length);
      });
    }

    for (const type of ['f32', 'q8_0']) {
      it(`model-${type}.gguf: a text prompt completes as the library's generate on the same file (its own tokenizer)`, async () => {
        const file = await fp.readGgufFile(resolve(LLAMA, `model-${type}.gguf`));
        const model = await fp.ggufModelFromFile(file);
        const tok = await fp.ggufTokenizer(file);
        const ids = tok.encode(PROMPT).ids;
        const want = await fp.generate(model, ids, { maxNewTokens: 16, eosTokenId: 0 });
        model.dispose();
        const r = await complete({ model: `llama-${type === 'f32' ? 'f32' : 'q8'}-gguf`, prompt: PROMPT, max_tokens: 16, temperature: 0 });
        expect(r.json.choices[0]!.token_ids).toEqual(want);
        expect(r.json.choices[0]!.text).toBe(tok.decode([...ids, ...want]).slice(tok.decode(ids).length));
      });
    }
  });
});

describe.skipIf(!HAS_SHARED)('streaming, sampling, stop strings, n, echo', () => {
  it('the streamed deltas join to the non-streamed text and ids; no delta cuts a character', async () => {
    let held = 0;
    for (const [model, seed] of [['llama', 1], ['gpt2', 2], ['llama', 3], ['llama-q8-gguf', 4]] as const) {
      const body = { model, prompt: PROMPT, max_tokens: 30, temperature: 1, seed };
      const whole = (await complete(body)).json.choices[0]!;
      const got = joinStream(await streamed(body)).get(0)!;
      expect(got.text).toBe(whole.text);
      expect(got.ids).toEqual(whole.token_ids);
      expect(got.finish).toBe('length');
      // byte-level BPE splits characters across tokens: those tokens send '' until the character is whole
      for (const p of got.pieces.slice(0, -1)) expect(p.endsWith('\ufffd')).toBe(false);
      held += got.pieces.filter((p) => p === '').length;
    }
    expect(held).toBeGreaterThan(0); // the runs above do split characters, so the rule was exercised
  });

  it('seeded sampling is reproducible and equals the library with the same seed; n choices use seed, seed + 1, ...', async () => {
    const body = { model: 'llama', prompt: PROMPT, max_tokens: 12, temperature: 0.9, top_p: 0.95, top_k: 40, seed: 7, n: 2 };
    const a = (await complete(body)).json.choices;
    const b = (await complete(body)).json.choices;
    expect(a.map((c) => c.index)).toEqual([0, 1]);
    expect(b).toEqual(a);
    const model = await fp.loadHfModel(LLAMA);
    const tok = await fp.loadTokenizer(LLAMA);
    for (const i of [0, 1]) {
      const want = await fp.generateText(model, tok, PROMPT, { maxNewTokens: 12, temperature: 0.9, topP: 0.95, topK: 40, seed: 7 + i, eosTokenId: [0] });
      expect(a[i]!.token_ids).toEqual(want.ids);
    }
    model.dispose();
    expect(a[0]!.token_ids).not.toEqual(a[1]!.token_ids);
  });

  it('stop strings: the text ends before the first one (left out), finish_reason stop, streamed the same', async () => {
    const free = (await complete({ model: 'gpt2', prompt: PROMPT, max_tokens: 30, temperature: 0 })).json.choices[0]!;
    // two stop strings taken from the free text: the earlier one wins; a prefix of one at the end of a delta is held back
    const stopA = free.text.slice(9, 12), stopB = free.text.slice(14, 16);
    const cut = Math.min(free.text.indexOf(stopA), free.text.indexOf(stopB));
    const body = { model: 'gpt2', prompt: PROMPT, max_tokens: 30, temperature: 0, stop: [stopB, stopA] };
    const r = (await complete(body)).json;
    expect(r.choices[0]!.text).toBe(free.text.slice(0, cut));
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.choices[0]!.token_ids).toEqual(free.token_ids.slice(0, r.choices[0]!.token_ids.length));
    expect(r.choices[0]!.token_ids.length).toBeLessThan(30);
    expect(r.usage.completion_tokens).toBe(r.choices[0]!.token_ids.length);
    const s1 = joinStream(await streamed(body)).get(0)!;
    expect([s1.text, s1.finish]).toEqual([r.choices[0]!.text, 'stop']);
    // a single string works too; a stop string never produced leaves the text as it was
    expect((await complete({ ...body, stop: stopA })).json.choices[0]!.text).toBe(free.text.slice(0, free.text.indexOf(stopA)));
    expect((await complete({ ...body, stop: 'no such text \u2603' })).json.choices[0]).toMatchObject({ text: free.text, finish_reason: 'length' });
  });

  it('several prompts (text and ids) with n: choices prompt-major, usage summed; echo puts the prompt first', async () => {
    const g = readReference(LLAMA).generation as unknown as { prompt_ids: number[]; new_ids: number[] };
    const r = await complete({ model: 'llama', prompt: [PROMPT, 'Hello'], max_tokens: 5, temperature: 0, n: 2 });
    expect(r.json.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    const one = async (p: string) => (await complete({ model: 'llama', prompt: p, max_tokens: 5, temperature: 0 })).json;
    const [x, y] = [await one(PROMPT), await one('Hello')];
    expect(r.json.choices.map((c) => c.text)).toEqual([x.choices[0]!.text, x.choices[0]!.text, y.choices[0]!.text, y.choices[0]!.text]);
    expect(r.json.usage).toEqual({ prompt_tokens: x.usage.prompt_tokens + y.usage.prompt_tokens, completion_tokens: 20, total_tokens: x.usage.prompt_tokens + y.usage.prompt_tokens + 20 });
    const ids = await complete({ model: 'llama', prompt: [g.prompt_ids, g.prompt_ids.slice(0, 3)], max_tokens: 4, temperature: 0 });
    expect(ids.json.choices[0]!.token_ids).toEqual(g.new_ids.slice(0, 4));
    const echoed = await complete({ model: 'llama', prompt: PROMPT, max_tokens: 5, temperature: 0, echo: true });
    expect(echoed.json.choices[0]!.text).toBe(PROMPT + x.choices[0]!.text);
    const es = joinStream(await streamed({ model: 'llama', prompt: PROMPT, max_tokens: 5, temperature: 0, echo: true })).get(0)!;
    expect(es.text).toBe(PROMPT + x.choices[0]!.text);
  });

  it('stream_options.include_usage: a last chunk with no choices and the usage', async () => {
    const chunks = await streamed({ model: 'gpt2', prompt: PROMPT, max_tokens: 3, temperature: 0, stream_options: { include_usage: true } });
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage.completion_tokens).toBe(3);
  });
});

describe('errors: 4xx and one JSON error naming the field, the expected and the found value', () => {
  const name = local.includes('qwen3') ? 'qwen3' : local[0]!;
  const cases: [Record<string, unknown>, number, RegExp][] = [
    [{ temperature: -1 }, 400, /expected "temperature" to be a number >= 0, found -1/],
    [{ temperature: 'hot' }, 400, /expected "temperature" to be a number >= 0, found "hot"/],
    [{ top_p: 0 }, 400, /expected "top_p" to be a number in \(0, 1\], found 0/],
    [{ top_p: 1.5 }, 400, /expected "top_p" to be a number in \(0, 1\], found 1\.5/],
    [{ top_k: 2.5 }, 400, /expected "top_k" to be an integer >= 0 \(0: off\), found 2\.5/],
    [{ max_tokens: 0 }, 400, /expected "max_tokens" to be an integer in 1\.\.1024, found 0/],
    [{ max_tokens: '5' }, 400, /expected "max_tokens" to be an integer in 1\.\.1024, found "5"/],
    [{ seed: 1.5 }, 400, /expected "seed" to be an integer, found 1\.5/],
    [{ n: 0 }, 400, /expected "n" to be an integer in 1\.\.16, found 0/],
    [{ stop: [''] }, 400, /expected "stop" to be a non-empty string or a list of at most 4 of them, found \[""\]/],
    [{ stream: 'yes' }, 400, /expected "stream" to be true or false, found "yes"/],
    [{ prompt: undefined }, 400, /expected "prompt" to be text or a list of token ids, found nothing/],
    [{ logprobs: 3 }, 400, /expected "logprobs" to be null \(log probabilities are not returned\), found 3/],
    [{ best_of: 3 }, 400, /expected "best_of" to be 1 \(no server-side ranking of choices; ask for n\), found 3/],
    [{ logit_bias: { 5: 10 } }, 400, /expected "logit_bias" to be empty \(logit biases are not supported\), found \{"5":10\}/],
    [{ frequency_penalty: 0.5 }, 400, /expected "frequency_penalty" to be 0 \(not supported\), found 0\.5/],
    [{ prompt: 'text' }, 400, /model '\w[\w-]*' has no tokenizer \(no tokenizer\.json\); expected "prompt" to be a list of token ids, found text/],
    [{ prompt: [1, -2] }, 400, /expected "prompt" to be a non-empty list of token ids in 0\.\.\d+ or a list of such lists, found \[1,-2\]/],
    [{ prompt: [[1], [1e9]] }, 400, /expected "prompt\[1\]" to be .*found \[1000000000\]/],
    [{ prompt: Array(65).fill(1) }, 400, /expected "prompt" to be at most 64 tokens \(the model's context\), found 65 tokens/],
    [{ model: 'nope' }, 404, /expected "model" to name one of .*'qwen3'.*, found "nope"/],
  ];
  for (const [patch, status, msg] of cases) {
    it(`${JSON.stringify(patch).slice(0, 60)} -> ${status}`, async () => {
      const r = await complete({ model: name, prompt: [1, 2, 3], max_tokens: 2, ...patch });
      expect(r.status).toBe(status);
      expect(Object.keys(r.json)).toEqual(['error']);
      expect(r.json.error).toMatch(/^forwardpass: serve: /);
      expect(r.json.error).toMatch(msg);
    });
  }
});

describe('the v2 protocol on a Hugging Face causal LM', () => {
  const name = local.includes('qwen3') ? 'qwen3' : local[0]!;

  it('metadata: input_ids and an optional attention_mask in, logits [batch, sequence, vocab] out', async () => {
    const meta = (await (await fetch(`${s.url}/v2/models/${name}`)).json()) as { platform: string; inputs: unknown[]; outputs: { name: string; shape: number[] }[] };
    expect(meta.platform).toBe('huggingface');
    expect(meta.inputs).toEqual([{ name: 'input_ids', datatype: 'INT64', shape: [-1, -1] }, { name: 'attention_mask', datatype: 'INT64', shape: [-1, -1] }]);
    expect(meta.outputs.map((o) => [o.name, o.shape.length, o.shape[0], o.shape[1]])).toEqual([['logits', 3, -1, -1]]);
  });

  it('concurrent requests of different lengths (joined, right-padded with mask 0) each get the lone run\'s logits', async () => {
    const model = await fp.loadHfModel(resolve(LOCAL_MODELS, name));
    const prompts = [[5, 9, 13, 2, 7], [3, 4], [8, 1, 6, 6]];
    const answers = await Promise.all(prompts.map(async (p) => {
      const r = await fetch(`${s.url}/v2/models/${name}/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'input_ids', shape: [1, p.length], datatype: 'INT64', data: p }] }) });
      return (await r.json()) as { outputs: { shape: number[]; data: number[] }[] };
    }));
    for (let i = 0; i < prompts.length; i++) {
      const lone = await model.run({ input_ids: fp.tensor(Int32Array.from(prompts[i]!), { shape: [1, prompts[i]!.length], dtype: 'int32' }) }).logits!.data();
      const got = answers[i]!.outputs[0]!;
      expect(got.shape).toEqual([1, prompts[i]!.length, lone.length / prompts[i]!.length]);
      expect(Math.max(...got.data.map((v, k) => Math.abs(v - Number(lone[k]))))).toBeLessThanOrEqual(1e-4);
    }
    model.dispose();
  });
});

describe('concurrency and cancellation', () => {
  it('more choices than --max-queue allows generating at once: 503 at once, nothing started', async () => {
    const name = local[0]!;
    const r = await complete({ model: name, prompt: [[1], [2], [3], [4], [5]], n: 16, max_tokens: 1 });
    expect(r.status).toBe(503);
    expect(r.json.error).toMatch(new RegExp(`model '${name}' is generating 0 completions \\(the limit is 64\\); retry later`));
  });


  it('concurrent completions on two models (streamed and not) each equal their lone result', async () => {
    const picks = local.slice(0, 3);
    const jobs = Array.from({ length: 12 }, (_, i) => ({ model: picks[i % picks.length]!, prompt: [3 + i, 7, 11 + (i % 5)], max_tokens: 6, temperature: i % 3 ? 0 : 0.8, seed: i, stream: i % 2 === 0 }));
    const lone: number[][] = [];
    for (const j of jobs) lone.push((await complete({ ...j, stream: false })).json.choices[0]!.token_ids);
    const got = await Promise.all(jobs.map(async (j) => (j.stream ? joinStream(await streamed(j)).get(0)!.ids : (await complete(j)).json.choices[0]!.token_ids)));
    expect(got).toEqual(lone);
    for (const m of picks) expect(await metric(`forwardpass_completions_active{model="${m}"}`)).toBe(0);
  });

  it('v2 infer passes and completions on the same model at once: each answer equals its lone result', async () => {
    const name = local.includes('qwen3') ? 'qwen3' : local[0]!;
    const model = await fp.loadHfModel(resolve(LOCAL_MODELS, name));
    const infer = (p: number[]) => fetch(`${s.url}/v2/models/${name}/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'input_ids', shape: [1, p.length], datatype: 'INT64', data: p }] }) }).then(async (r) => ((await r.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data);
    const prompts = Array.from({ length: 8 }, (_, i) => [4 + i, 9, 2 + (i % 3), 7].slice(0, 2 + (i % 3)));
    const lone = await Promise.all(prompts.map(async (p) => Array.from(await model.run({ input_ids: fp.tensor(Int32Array.from(p), { shape: [1, p.length], dtype: 'int32' }) }).logits!.data(), Number)));
    const want = await fp.generate(model, [5, 6, 7], { maxNewTokens: 12, eosTokenId: 0 });
    model.dispose();
    const [gen, ...logits] = await Promise.all([streamed({ model: name, prompt: [5, 6, 7], max_tokens: 12, temperature: 0 }), ...prompts.map(infer)]);
    expect(joinStream(gen).get(0)!.ids).toEqual(want);
    logits.forEach((l, i) => expect(Math.max(...l.map((v, k) => Math.abs(v - lone[i]![k]!)))).toBeLessThanOrEqual(1e-4));
  });

  it('a client that disconnects mid-stream stops its generation (no tokens generated after it left)', async () => {
    const name = local.includes('gpt-neox') ? 'gpt-neox' : local[0]!;
    const key = `forwardpass_generated_tokens_total{model="${name}"}`;
    const before = await metric(key);
    const ac = new AbortController();
    const r = await fetch(`${s.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: name, prompt: [1, 2, 3], max_tokens: 1000, stream: true }), signal: ac.signal });
    const reader = r.body!.getReader();
    await reader.read(); // the first event: generation is under way
    ac.abort();
    // the server notices the closed socket at the next token and frees the completion
    for (let i = 0; i < 500 && (await metric(`forwardpass_completions_active{model="${name}"}`)) !== 0; i++) await new Promise((res) => setTimeout(res, 10));
    expect(await metric(`forwardpass_completions_active{model="${name}"}`)).toBe(0);
    const made = (await metric(key)) - before;
    expect(made).toBeGreaterThan(0);
    expect(made).toBeLessThan(1000);
    expect(await metric(`forwardpass_queue_depth{model="${name}"}`)).toBe(0);
  });
});
