// The committed tiny-gpt walkthrough is what examples/walkthrough.ts generates today (no timings in it, so it is
// deterministic), covers every traced op once, and names the prediction the model really makes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../src/node.js';
import { OUTPUT, PROMPT, walkthrough } from '../examples/walkthrough.js';
import { fixturePath } from './helpers.js';

describe('examples/walkthrough-tiny-gpt.md', () => {
  it('equals a fresh regeneration, op by op, with the real next character', async () => {
    const md = await walkthrough();
    const committed = readFileSync(OUTPUT, 'utf8');
    // timings are kept out of the document; a line with milliseconds would make it nondeterministic
    expect(md).not.toMatch(/\d\s?ms\b/);
    expect(md).toBe(committed);
    const ops = [...md.matchAll(/^\*\*op (\d+)\*\*/gm)].map((m) => Number(m[1]));
    const model = (await fp.loadModel(fixturePath('tiny-gpt'))) as fp.GPT;
    const tok = fp.CharTokenizer.fromConfig(JSON.parse(readFileSync(fixturePath('tiny-gpt', 'config.json'), 'utf8')));
    const ids = fp.tensor(Int32Array.from(tok.encode(PROMPT)), { shape: [1, PROMPT.length], dtype: 'int32' });
    const t = await fp.trace(model, { input_ids: ids });
    expect(ops).toEqual(t.records.map((r) => r.index));
    // the next character by an independent argmax over the model's own logits
    const logits = model.run({ input_ids: ids }).logits!;
    const last = Array.from(await logits.data()).slice(-tok.vocabSize);
    const best = tok.vocab[last.indexOf(Math.max(...last))]!;
    expect(md).toContain(`The model predicts \`${best === ' ' ? '␣' : best}\``);
    for (const kind of ['token embedding', 'position embedding', 'layer norm', 'q/k/v projection', 'attention scores', 'apply mask', 'softmax', 'fused attention', 'residual add', 'GELU', 'logits']) expect(md).toContain(` · ${kind}`);
    model.dispose();
  });
});
