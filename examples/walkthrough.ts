// Generates examples/walkthrough-tiny-gpt.md: tiny-gpt's forward pass on a fixed prompt, op by op, from a real trace
// (CPU, float32), grouped by module, with shapes, statistics, small value excerpts and what each kind of step does.
// No timings go into the document, so it is deterministic (test/walkthrough.test.ts regenerates and compares it).
// Run: node --import tsx --import ./test/wgsl-hook.mjs examples/walkthrough.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as fp from '../src/node.js';

export const PROMPT = 'the Program';
const MODEL_DIR = fileURLToPath(new URL('../test/fixtures/tiny-gpt', import.meta.url));
export const OUTPUT = fileURLToPath(new URL('./walkthrough-tiny-gpt.md', import.meta.url));

/** What each kind of step does, said once, at its first occurrence. */
const EXPLAIN: Record<string, string> = {
  'token embedding': 'Each character id picks one row of the 80 x 64 table `wte`: every character becomes a vector of 64 learned numbers.',
  'position embedding': 'The positions 0..T-1 pick rows of `wpe` (64 x 64). The same letter gets a different vector at each place, which is all the model knows about order.',
  'embedding sum': 'Token and position vectors are added (the [T, 64] positions broadcast over the batch). This [B, T, 64] tensor is the residual stream: every block reads it and adds its result back into it.',
  'layer norm': "Each position's 64 values are shifted to mean 0 and scaled to variance 1 (eps 1e-5), then multiplied by a learned weight and shifted by a learned bias. GPT-2 normalizes the input of each sublayer (pre-LN); the residual stream itself stays unnormalized until `ln_f`.",
  'q/k/v projection': 'One Linear 64 -> 192 makes the queries, keys and values of every position at once: columns 0-63 are q, 64-127 k, 128-191 v, and each is cut into 4 heads of 16 columns. (The tensor is flattened to [B*T, 64] rows for the kernel.)',
  'split heads (q)': 'The q columns, viewed as [B, H, T, D] (a reshape and a permute: free views), are copied into contiguous memory for the matmul.',
  'split heads (k transposed)': 'The keys of each head, transposed to [H, D, S], so that one batched matmul compares every query with every key.',
  'attention scores': 'q · kᵀ per head: a T x S table whose entry (i, j) says how well query i matches key j.',
  scale: 'The scores are multiplied by 1/sqrt(D) = 1/sqrt(16) = 0.25, so their spread does not grow with the head size and the softmax does not saturate.',
  'causal mask': 'Building the causal mask: for query i the last key it may see is i (plus the number of cached positions, 0 here); `le` marks key j as allowed when j <= i.',
  'apply mask': 'Scores of future keys (j > i) become -inf, so after the softmax they weigh exactly 0: a character can only look back.',
  softmax: 'Each row is exponentiated and normalized to sum to 1: the attention probabilities, how much query i reads from each position up to itself.',
  'masked-row guard': 'A row whose keys were all masked would be all -inf, and its softmax NaN; `max`, `eq` and `where` set such rows to zeros. No row is fully masked here, so the probabilities pass unchanged: this is the checkpoint `attn.probs`, the attention map.',
  'fused attention': "The attention module's real output: scaled dot-product attention computes softmax(q·kᵀ·scale, causal mask)·v for every head in one kernel. The explicit probabilities above were computed only because the tracer listens to the module (the attention maps need them); an untraced forward runs just this op.",
  'merge heads': "The heads' [T, 16] outputs are put side by side again: [B, T, 64], heads in order (the checkpoint `attn.merged`).",
  'attention output projection': "Linear 64 -> 64 mixes the heads' outputs; the result is what the attention sublayer adds to the residual stream.",
  'residual add': "The sublayer's output is added to the residual stream (x = x + f(ln(x))). Each sublayer only adds a correction, so the embeddings' information flows straight through the whole stack.",
  'MLP up-projection': "Linear 64 -> 256, applied to each position on its own: the MLP's hidden layer is 4 times wider than the stream.",
  GELU: 'GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). A smooth ReLU: large positive values pass, negative ones are squashed towards 0 (its minimum is about -0.17).',
  'MLP down-projection': 'Linear 256 -> 64 brings the hidden layer back to the width of the residual stream.',
  'final layer norm': '`ln_f` normalizes the residual stream once more, after the last block, before the output layer.',
  logits: "`lm_head`, Linear 64 -> 80 without bias, scores every character of the vocabulary as the next one, at every position. Only the last position's row predicts the character after the prompt; its softmax gives the probabilities below.",
};

/** The kind of step a record is (a key of EXPLAIN); `seen` counts earlier copies inside the same attention module. */
function kindOf(r: fp.TraceRecord, copiesBefore: number, afterSoftmax: boolean): string {
  const p = r.path;
  if (r.op === 'gather') return p === 'wpe' ? 'position embedding' : 'token embedding';
  if (r.marks.includes('embed')) return 'embedding sum';
  if (r.op === 'layerNorm') return p === 'ln_f' ? 'final layer norm' : 'layer norm';
  if (p.endsWith('attn.c_attn')) return 'q/k/v projection';
  if (p.endsWith('attn.c_proj')) return 'attention output projection';
  if (p.endsWith('mlp.c_fc')) return 'MLP up-projection';
  if (p.endsWith('mlp.gelu')) return 'GELU';
  if (p.endsWith('mlp.c_proj')) return 'MLP down-projection';
  if (p === 'lm_head') return 'logits';
  if (r.marks.some((m) => m.endsWith('.resid_attn') || m.endsWith('.out'))) return 'residual add';
  if (p.endsWith('.attn')) {
    if (r.op === 'copy') return r.marks.some((m) => m.endsWith('.merged')) ? 'merge heads' : copiesBefore === 0 ? 'split heads (q)' : 'split heads (k transposed)';
    if (r.op === 'matmul') return 'attention scores';
    if (r.op === 'mul') return 'scale';
    if (r.op === 'add' || r.op === 'le') return 'causal mask';
    if (r.op === 'softmax') return 'softmax';
    if (r.op === 'sdpa') return 'fused attention';
    if (r.op === 'where') return afterSoftmax ? 'masked-row guard' : 'apply mask';
    if (r.op === 'max' || r.op === 'eq') return 'masked-row guard';
  }
  return r.op;
}

/** 4 significant digits; -inf/inf/nan spelled out. */
function num(v: number): string {
  if (v === -Infinity) return '-inf';
  if (v === Infinity) return 'inf';
  if (Number.isNaN(v)) return 'nan';
  const s = String(Number(v.toPrecision(4)));
  return s === '-0' ? '0' : s;
}

const shape = (s: readonly number[]) => (s.length ? `[${s.join(', ')}]` : 'scalar');
const show = (ch: string) => (ch === ' ' ? '␣' : ch === '\n' ? '⏎' : ch);

/** Rows x cols excerpt of a row-major matrix starting at `offset`, one fixed-width line per row. */
function matrix(values: Float32Array, offset: number, cols: number, nRows: number, nCols: number, rowLabels?: string[]): string {
  const lines: string[] = [];
  for (let i = 0; i < nRows; i++) {
    const cells = Array.from(values.subarray(offset + i * cols, offset + i * cols + nCols), (v) => num(v).padStart(10));
    lines.push(`${rowLabels ? rowLabels[i]!.padEnd(2) : ''}${cells.join(' ')}${nCols < cols ? '  …' : ''}`);
  }
  return '```\n' + lines.join('\n') + '\n```';
}

/** The section an op belongs to: embeddings, one sublayer of a block, the final norm, the output layer. */
function sectionOf(r: fp.TraceRecord): string {
  if (r.path === '' || r.path === 'wte' || r.path === 'wpe') return 'Embeddings';
  const b = /^h\.(\d+)(?:\.(\w+))?/.exec(r.path);
  if (b) {
    const part = b[2] === 'attn' ? 'causal self-attention' : b[2] === 'mlp' ? 'MLP' : b[2] === 'ln_1' || b[2] === 'ln_2' ? `layer norm \`${b[2]}\`` : 'residual';
    return `Block ${b[1]}: ${part}`;
  }
  return r.path === 'ln_f' ? 'Final layer norm' : 'Output layer';
}

/**
 * The walkthrough as Markdown, from a fresh trace of tiny-gpt on the CPU in float32.
 * @example writeFileSync('walkthrough.md', await walkthrough());
 */
export async function walkthrough(): Promise<string> {
  const config = JSON.parse(readFileSync(`${MODEL_DIR}/config.json`, 'utf8')) as { vocab: string[] };
  const tok = fp.CharTokenizer.fromConfig(config);
  const model = (await fp.loadModel(MODEL_DIR, { device: 'cpu' })) as fp.GPT;
  const ids = tok.encode(PROMPT);
  const x = fp.tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32', device: 'cpu' });
  // The reference (typed-array) kernels, so that the document's figures are the same on every runtime: the Wasm
  // SIMD fast path, where a runtime has it, sums in another order and moves last digits.
  const fast = fp.cpuFastPathEnabled();
  fp.setCpuFastPath(false);
  let t: fp.Trace, cont: number[];
  try {
    t = await fp.trace(model, { input_ids: x }, { values: 'full' });
    cont = await fp.generate(model, ids, { maxNewTokens: 30 });
  } finally {
    fp.setCpuFastPath(fast);
  }
  x.dispose();
  model.dispose();
  const T = ids.length;
  const chars = [...PROMPT].map(show);
  const out: string[] = [];
  out.push('# Walkthrough: tiny-gpt, op by op', '');
  out.push('<!-- Generated by examples/walkthrough.ts from a real trace (CPU reference kernels, float32); do not edit by hand. -->', '');
  out.push(`This is every operation forwardpass executes when tiny-gpt (a 2-block GPT-2 style character model, 114,432 parameters, from \`test/fixtures/tiny-gpt\`) reads the prompt \`${PROMPT}\` and predicts the next character. It was recorded with \`trace(model, inputs, { values: 'full' })\`: ${t.length} ops. Regenerate it with \`node --import tsx --import ./test/wgsl-hook.mjs examples/walkthrough.ts\`; \`forwardpass trace test/fixtures/tiny-gpt\` and the web page (\`forwardpass serve\`) show the same records.`, '');
  out.push('Shapes use B = batch (1), T = prompt length in characters, S = key positions (= T without a cache), C = 64 channels, H = 4 heads, D = 16 channels per head, V = 80 characters in the vocabulary. Statistics are over the op\'s whole output; values are rounded to 4 significant digits.', '');
  out.push('## The input', '');
  out.push(`The character tokenizer maps each character to its index in the sorted vocabulary of the training text: \`${PROMPT}\` → \`input_ids\` = [${ids.join(', ')}], shape [1, ${T}].`, '');

  let section = '';
  const explained = new Set<string>();
  let copies = 0, softmaxSeen = false, attnPath = '';
  for (const r of t.records) {
    if (r.path !== attnPath && r.path.endsWith('.attn')) { attnPath = r.path; copies = 0; softmaxSeen = false; }
    const kind = kindOf(r, copies, softmaxSeen);
    if (r.op === 'copy' && r.path.endsWith('.attn')) copies++;
    if (r.op === 'softmax') softmaxSeen = true;
    const sec = sectionOf(r);
    if (sec !== section) {
      section = sec;
      out.push(`## ${sec}`, '');
    }
    const s = r.output.stats!;
    out.push(`**op ${r.index}** · \`${r.op}\` at \`${r.path || '(model)'}\` · ${kind}${r.marks.length ? ` · output = ${r.marks.map((m) => `\`${m}\``).join(', ')}` : ''}  `);
    out.push(`${r.inputs.map((i) => shape(i.shape)).join(' , ')} → ${shape(r.output.shape)} ${r.output.dtype} · min ${num(s.min)} · max ${num(s.max)} · mean ${num(s.mean)} · std ${num(s.std)}${s.inf ? ` · ${s.inf} infinite` : ''}`, '');
    if (!explained.has(kind) && EXPLAIN[kind]) {
      explained.add(kind);
      out.push(`> ${EXPLAIN[kind]}`, '');
    }
    const v = r.output.values!;
    const excerpt = excerptFor(r, kind, v, T, chars, tok, explained);
    if (excerpt) out.push(excerpt, '');
  }

  const last = t.records[t.records.length - 1]!;
  const V = last.output.shape[last.output.shape.length - 1]!;
  const row = Array.from(last.output.values!.subarray(last.output.values!.length - V));
  const m = Math.max(...row);
  const e = row.map((z) => Math.exp(z - m));
  const sum = e.reduce((a, z) => a + z, 0);
  const top = e.map((z, i) => ({ ch: tok.vocab[i]!, p: z / sum })).sort((a, b) => b.p - a.p).slice(0, 5);
  out.push('## The prediction', '');
  out.push(`Softmax over the last position's ${V} logits (the character after \`${PROMPT}\`):`, '');
  out.push('| rank | next character | probability |', '| --- | --- | --- |');
  top.forEach((c, i) => out.push(`| ${i + 1} | \`${show(c.ch)}\` | ${(c.p * 100).toFixed(1)}% |`));
  out.push('', `The model predicts \`${show(top[0]!.ch)}\`. Repeating the pass with each predicted character appended (greedy decoding with a KV cache, \`generate\`) continues the prompt as:`, '');
  out.push('```', PROMPT + tok.decode(cont), '```', '');
  return out.join('\n');
}

/** A small value excerpt for the steps where the numbers tell something. */
function excerptFor(r: fp.TraceRecord, kind: string, v: Float32Array, T: number, chars: string[], tok: fp.CharTokenizer, explained: Set<string>): string | undefined {
  const C = r.output.shape[r.output.shape.length - 1]!;
  const once = (key: string) => (explained.has(`excerpt:${key}`) ? false : (explained.add(`excerpt:${key}`), true));
  if (kind === 'token embedding' && once(kind)) return `The first 8 of 64 values for the first three characters:\n\n${matrix(v, 0, C, 3, 8, chars)}`;
  if (kind === 'layer norm' && once(kind)) return `The first 8 of 64 values of the first three positions after the norm (compare with the embeddings above):\n\n${matrix(v, 0, C, 3, 8, chars)}`;
  if (kind === 'apply mask' && once(kind)) return `Head 0, the first 6 queries (rows) against the first 6 keys (columns):\n\n${matrix(v, 0, T, 6, 6, chars)}`;
  if (kind === 'masked-row guard' && r.marks.some((m) => m.endsWith('.probs'))) {
    const label = r.marks.find((m) => m.endsWith('.probs'))!;
    return `\`${label}\`, head 0, the first 6 queries against the first 6 keys (each full row sums to 1; the upper triangle is 0):\n\n${matrix(v, 0, T, 6, 6, chars)}`;
  }
  if (kind === 'GELU' && once(kind)) return `Of the ${v.length} hidden values, ${Array.from(v).filter((x) => x < 0).length} are negative after GELU, none below ${num(Math.min(...v))}.`;
  if (kind === 'logits') {
    const row = Array.from(v.subarray(v.length - C));
    const best = row.map((z, i) => [z, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
    return `The largest logits at the last position: ${best.map(([z, i]) => `\`${show(tok.vocab[i]!)}\` ${num(z)}`).join(', ')}.`;
  }
  return undefined;
}

const isMain = process.argv[1] !== undefined && /walkthrough\.ts$/.test(process.argv[1]);
if (isMain) {
  writeFileSync(OUTPUT, await walkthrough());
  process.stdout.write(`wrote ${OUTPUT}\n`);
}
