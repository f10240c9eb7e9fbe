// The int8-vs-f32 view of the step-through page: the same input through the f32 model and its int8 build on one
// backend, both traced with full values and compared under the library's divergence rule (compareRuns, the rule
// `forwardpass trace --compare` uses); one table row per layer (module output, or ONNX node), diverged rows marked.
import * as fp from '../../src/index.js';
import { build, makeInputs, type Built, type Source, type UserInput } from './models.js';
import { fmt } from './render.js';

/** One table row: a layer's output in the f32 run against the int8 run. */
export interface DivergenceRow {
  /** Op index in the f32 (reference) run, layer label, ops on both sides. */
  index: number;
  layer: string;
  op: string;
  maxAbs: number;
  rel: number;
  cosine: number;
  diverged: boolean;
}

/** What the page shows: the per-layer rows and the comparison's summary. */
export interface Divergence {
  rows: DivergenceRow[];
  threshold: number;
  matched: number;
  /** Ops only the int8 run has (its quantize steps). */
  otherOnly: number;
  first?: string;
}

/** Trace `src` at f32 and at int8 on `backend` on the same input and compare them under the divergence rule. */
export async function computeDivergence(src: Source, backend: string, given: UserInput): Promise<Divergence> {
  const ref = await build(src, backend, 'f32');
  let q: Built | undefined;
  const made: fp.Tensor[] = [];
  try {
    q = await build(src, backend, 'int8');
    const a = await makeInputs(ref, given);
    made.push(...Object.values(a.inputs));
    const b = await makeInputs(q, given);
    made.push(...Object.values(b.inputs));
    const ta = await fp.trace(ref.model, a.inputs, { values: 'full' });
    const tb = await fp.trace(q.model, b.inputs, { values: 'full' });
    const c = fp.compareRuns({ trace: ta, setting: { backend, precision: 'f32' } }, { trace: tb, setting: { backend, precision: 'int8' } }).comparison;
    // per layer: module outputs of an nn model; every matched node output of an ONNX graph
    const layered = c.rows.filter((r) => r.ref.marks.length > 0);
    const rows = (layered.length ? layered : c.rows).map((r): DivergenceRow => ({
      index: r.ref.index, layer: label(r.ref), op: r.ref.op + (r.other.op !== r.ref.op ? ` → ${r.other.op}` : ''),
      maxAbs: r.maxAbs, rel: r.rel, cosine: r.cosine, diverged: r.diverged,
    }));
    return { rows, threshold: c.threshold, matched: c.rows.length, otherOnly: c.unmatched.other.length, ...(c.firstDivergence ? { first: label(c.firstDivergence.ref) } : {}) };
  } finally {
    for (const t of made) t.dispose();
    ref.dispose();
    q?.dispose();
  }
}

/** Fill `box` with the per-layer comparison; returns the row counts. */
export async function showDivergence(box: HTMLElement, src: Source, backend: string, given: UserInput): Promise<{ rows: number; diverged: number }> {
  const d = await computeDivergence(src, backend, given);
  const pct = `${+(d.threshold * 100).toFixed(3)}%`;
  const widest = Math.max(1e-12, ...d.rows.map((r) => (Number.isFinite(r.rel) ? r.rel : 0)));
  const head = `<p>${d.first ? `first op past ${pct} relative difference: <b>${esc(d.first)}</b>` : `no op departs more than ${pct} (relative max abs difference) from f32`}; ${d.matched} ops matched, ${d.otherOnly} int8-only ops (quantize steps).</p>`;
  const rule = `<p class="note" id="divergence-rule">${esc(fp.DIVERGENCE_RULE)} (The same rule as <code>forwardpass trace --compare</code>.)</p>`;
  const body = d.rows.map((r) => `<tr${r.diverged ? ' class="diverged"' : ''}><td>${esc(r.layer)}</td><td>${esc(r.op)}</td><td>${fmt(r.maxAbs)}</td><td>${fmt(r.rel)}</td><td>${r.cosine.toFixed(5)}</td><td><span class="bar" style="width:${Math.max(1, Math.round((Number.isFinite(r.rel) ? r.rel / widest : 1) * 80))}px"></span></td></tr>`).join('');
  box.innerHTML = `${head}<table id="divergence-table"><thead><tr><th>layer</th><th>op (f32 → int8)</th><th>max abs</th><th>rel</th><th>cosine</th><th></th></tr></thead><tbody>${body}</tbody></table>${rule}`;
  return { rows: d.rows.length, diverged: d.rows.filter((r) => r.diverged).length };
}

function label(r: fp.TraceRecord): string {
  return r.marks[0] ?? (r.path || '(model)');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
