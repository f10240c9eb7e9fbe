// The serving side of text generation without HTTP: the turn queue that completions of one model share (first come,
// first served; abort and timeout while waiting), stop-string hold-back, and a completion stopped early freeing its
// KV cache (streamText ends its generation steps).
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import type { CausalLM } from '../../src/nn/models/generate.js';
import { completionSteps, heldBack, TurnQueue } from '../../src/serve/generation.js';
import { LOCAL_MODELS } from '../hf/helpers.js';

describe('TurnQueue', () => {
  it('hands turns out first come, first served; depth counts the waiting', async () => {
    const q = new TurnQueue();
    const order: string[] = [];
    const first = await q.acquire();
    const waits = ['a', 'b', 'c'].map((k) => q.acquire().then((release) => { order.push(k); release(); }));
    expect(q.depth).toBe(3);
    first();
    first(); // a second release of the same turn does nothing
    await Promise.all(waits);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(q.depth).toBe(0);
    (await q.acquire())(); // free again
  });

  it('a wait ends on abort (499) or timeout (504) and leaves the queue; the others keep their turns', async () => {
    const q = new TurnQueue();
    const held = await q.acquire();
    const ac = new AbortController();
    const aborted = q.acquire({ signal: ac.signal });
    const timed = q.acquire({ timeoutMs: 1 });
    const kept = q.acquire();
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'aborted', status: 499 });
    await expect(timed).rejects.toMatchObject({ code: 'timeout', status: 504, message: expect.stringMatching(/waited over 1 ms for its turn/) });
    expect(q.depth).toBe(1);
    held();
    (await kept)();
    await expect(q.acquire({ signal: ac.signal })).rejects.toMatchObject({ code: 'aborted' });
  });
});

describe('heldBack', () => {
  it('the longest end of the text that starts a stop string (not a whole one)', () => {
    expect(heldBack('hello wor', ['world'])).toBe(3);
    expect(heldBack('hello w', ['world', 'xyz'])).toBe(1);
    expect(heldBack('hello', ['world'])).toBe(0);
    expect(heldBack('a\n', ['\n\n', 'END'])).toBe(1);
    expect(heldBack('abcE', ['\n\n', 'END'])).toBe(1);
    expect(heldBack('', ['x'])).toBe(0);
    expect(heldBack('anything', [])).toBe(0);
  });
});

describe('completionSteps', () => {
  it('a completion left after two tokens ends its generation and frees its KV cache', async () => {
    const model = (await fp.loadHfModel(resolve(LOCAL_MODELS, 'qwen3'))) as unknown as CausalLM;
    let made = 0, freed = 0, forwards = 0;
    const create = model.createCache.bind(model);
    model.createCache = () => {
      made++;
      const c = create();
      const dispose = c.dispose.bind(c);
      c.dispose = () => { freed++; dispose(); };
      return c;
    };
    const forward = model.forward.bind(model);
    model.forward = (...a: Parameters<CausalLM['forward']>) => { forwards++; return forward(...a); };
    const steps: number[] = [];
    for await (const s of completionSteps({ model, codec: null, defaults: null }, [80, 107, 119, 41], { maxNewTokens: 50 }, [], new TurnQueue(), {})) {
      steps.push(s.id);
      if (steps.length === 2) break;
    }
    expect(steps).toEqual([53, 53]); // transformers' first greedy ids for this prompt
    expect([made, freed]).toEqual([1, 1]);
    expect(forwards).toBeLessThanOrEqual(3); // streamText looks one step ahead; nothing ran after the break
    model.dispose();
  });
});
