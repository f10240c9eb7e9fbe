// Markdown tables of the serving benchmark (bench/serve-load.ts): bench/results/serve.json (every model, client
// count and batching setting, and the completions), serve-goal*.json (the 32-client mlp-digits comparison, more rounds)
// and serve-32.json (32 clients on each model) into serve.md.
// Run: node --import tsx bench/serve-report.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { textTable } from '../src/cli/bench-report.js';

interface Row { model: string; clients: number; setting: string; rps: number; p50: number; p95: number; p99: number; requests: number; errors: number; mismatched: number; maxDiff: number; meanBatch: number; batchDist: string }
interface LmRow { model: string; clients: number; tokens: number; tokensPerSecond: number; completionsPerSecond: number; ttftP50: number; ttftP99: number; msPerTokenP50: number; msPerTokenP99: number; completions: number; errors: number; mismatched: number }
interface Result { conditions: Record<string, unknown>; rows: Row[]; memory: { requests: number; heapUsed: number; rss: number }[]; memErrors: number; completions?: LmRow[]; libraryTokensPerSecond?: number }

const read = (name: string): Result | undefined => {
  const u = new URL(`./results/${name}.json`, import.meta.url);
  return existsSync(u) ? (JSON.parse(readFileSync(u, 'utf8')) as Result) : undefined;
};
const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');

/** One table; `vs` is each row's throughput over the max-batch 1 row of the same model and client count. */
export function serveTable(rows: Row[]): string {
  const base = (r: Row) => rows.find((b) => b.model === r.model && b.clients === r.clients && b.setting === 'max-batch 1');
  return textTable(
    ['model', 'clients', 'batching', 'req/s', 'vs max-batch 1', 'p50 ms', 'p95 ms', 'p99 ms', 'mean batch', 'batch sizes (share of passes)', 'errors', 'wrong answers', 'max |diff|'],
    rows.map((r) => [r.model, String(r.clients), r.setting, f(r.rps, 0), base(r) ? `${f(r.rps / base(r)!.rps, 2)}x` : '', f(r.p50, 2), f(r.p95, 2), f(r.p99, 2), f(r.meanBatch), r.batchDist, String(r.errors), String(r.mismatched), r.maxDiff.toExponential(1)]),
    { left: 3, md: true },
  );
}

const cond = (c: Record<string, unknown>) => `${c.cpus} × ${c.cpuModel}, Node ${c.node}, load average ${Number(c.loadavg1).toFixed(1)} at the start${c.loadavgEnd === undefined ? '' : ` and ${Number(c.loadavgEnd).toFixed(1)} at the end`}, ${c.secondsPerCell} s per cell × ${c.rounds} round(s) with the settings interleaved, ${c.date}`;

// the full grid, run more than once (--out serve, serve-grid-2): each run with its own tables
const grids = ['serve', 'serve-grid-2'].map(read).filter((r): r is Result => r !== undefined);
// the goal cell, run more than once (--out serve-goal, serve-goal-2, serve-goal-3): each run in its own table
const goals = ['serve-goal', 'serve-goal-2', 'serve-goal-3'].map(read).filter((r): r is Result => r !== undefined);
const at32 = read('serve-32');
const out: string[] = ['# Serving under load', '', 'Measured with `node --import tsx --import ./test/wgsl-hook.mjs bench/serve-load.ts` (tables: `node --import tsx bench/serve-report.ts`).', 'The server runs in its own process, the clients (keep-alive HTTP/1.1 on loopback, each sending its next request when the last is answered) in another, on a machine shared with other sessions: expect large run-to-run swings; compare rows of the same run. Every answer was compared with a lone forward pass of the same input ("wrong answers": more than 1e-5 apart). Batch sizes come from the server\'s /metrics histogram (bucket upper bounds).', ''];
if (goals.length) out.push('## The goal: 32 clients on mlp-digits', '', ...goals.flatMap((g, i) => [`${goals.length > 1 ? `Run ${i + 1}: ` : ''}${cond(g.conditions)}`, '', serveTable(g.rows), '']));
if (at32) out.push('## 32 clients on each model, more rounds', '', cond(at32.conditions), '', serveTable(at32.rows), '');
grids.forEach((all, run) => {
  const tag = grids.length > 1 ? ` (run ${run + 1})` : '';
  out.push(`## Every model, client count and setting${tag}`, '', cond(all.conditions), '', serveTable(all.rows), '');
  if (all.completions?.length) {
    const c = all.completions;
    out.push(`## Completions: streamed tokens from a tiny language model${tag}`, '',
      `\`/v1/completions\` with \`stream: true\`, greedy, ${c[0]!.tokens} new tokens per completion, text prompts of 3 to 7 words, on \`${c[0]!.model}\`${c[0]!.model === 'llama' ? ' (../shared/hf/models/llama: a 2-layer, 64-wide Hugging Face checkpoint with its tokenizer.json)' : ''}, served with everything else idle. Each stream's ids were compared with the library's \`generateText\` on the same prompt ("wrong answers"). A model's completions take turns one token (one forward pass) at a time, each with its own KV cache; "per token" is the time between a stream's first and last token over its tokens. The library alone, in one process without HTTP, made ${f(all.libraryTokensPerSecond ?? NaN, 0)} tokens/s on the same prompts.`, '',
      textTable(['model', 'streams', 'tokens/s', 'completions/s', 'first token p50 ms', 'first token p99 ms', 'per token p50 ms', 'per token p99 ms', 'completions', 'errors', 'wrong answers'],
        c.map((r) => [r.model, String(r.clients), f(r.tokensPerSecond, 0), f(r.completionsPerSecond, 1), f(r.ttftP50), f(r.ttftP99), f(r.msPerTokenP50, 2), f(r.msPerTokenP99, 2), String(r.completions), String(r.errors), String(r.mismatched)]), { left: 1, md: true }), '');
  }
  if (all.memory.length) out.push(`## Memory over many requests${tag}`, '', `The server process's heap after a full GC while ${all.memory.at(-1)!.requests} requests (32 clients, mlp-digits, batch 64 / delay 2 ms) went through; ${all.memErrors} errors or wrong answers.`, '', textTable(['requests', 'heap used MiB', 'rss MiB'], all.memory.map((m) => [String(m.requests), f(m.heapUsed / 2 ** 20), f(m.rss / 2 ** 20)]), { md: true }), '');
});
// hand-written sections (measurements this script does not make) follow this marker in serve.md and are kept
const MARK = '<!-- hand-written sections below: kept by bench/serve-report.ts -->';
const md = new URL('./results/serve.md', import.meta.url);
const old = existsSync(md) ? readFileSync(md, 'utf8') : '';
const kept = old.includes(MARK) ? old.slice(old.indexOf(MARK)) : `${MARK}\n`;
writeFileSync(md, out.join('\n') + '\n' + kept);

/** The README's compact table: per model and client count, req/s and p99 under each setting. */
export function compactTable(rows: Row[]): string {
  const settings = [...new Set(rows.map((r) => r.setting))];
  const keys = [...new Set(rows.map((r) => `${r.model}|${r.clients}`))];
  return textTable(['model', 'clients', ...settings.map((st) => `${st}: req/s (p99 ms)`)], keys.map((k) => {
    const [model, clients] = k.split('|');
    return [model!, clients!, ...settings.map((st) => { const r = rows.find((x) => x.model === model && String(x.clients) === clients && x.setting === st); return r ? `${f(r.rps, 0)} (${f(r.p99, 0)})` : ''; })];
  }), { left: 2, md: true });
}
if (grids.length) process.stdout.write(compactTable(grids.at(-1)!.rows) + '\n');
