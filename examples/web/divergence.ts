// The int8-vs-f32 view of the step-through page: the same input through the f32 model and its int8 build on one
// backend, both traced with full values, matched op by op by compareTraces; one table row per layer (module output,
// or ONNX node) with max abs difference, relative difference and cosine, diverged rows marked.
import * as fp from '../../src/index.js';
import { build, makeInputs, type Built, type Source, type UserInput } from './models.js';
import { fmt } from './render.js';

const THRESHOLD = 0.05;

/** Fill `box` with the per-layer comparison; returns the row counts. */
export async function showDivergence(box: HTMLElement, src: Source, backend: string, given: UserInput): Promise<{ rows: number; diverged: number }> {
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
    const c = fp.compareTraces(ta, tb, { threshold: THRESHOLD });
    // per layer: module outputs of an nn model; every matched node output of an ONNX graph
    const layered = c.rows.filter((r) => r.ref.marks.length > 0);
    const rows = layered.length ? layered : c.rows;
    const widest = Math.max(1e-12, ...rows.map((r) => (Number.isFinite(r.rel) ? r.rel : 0)));
    const head = `<p>${c.firstDivergence ? `first op past ${THRESHOLD * 100}% relative difference: <b>${esc(label(c.firstDivergence.ref))}</b>` : `no op departs more than ${THRESHOLD * 100}% (relative max abs difference) from f32`}; ${c.rows.length} ops matched, ${c.unmatched.other.length} int8-only ops (quantize steps).</p>`;
    const body = rows.map((r) => `<tr${r.diverged ? ' class="diverged"' : ''}><td>${esc(label(r.ref))}</td><td>${r.ref.op}${r.other.op !== r.ref.op ? ` → ${r.other.op}` : ''}</td><td>${fmt(r.maxAbs)}</td><td>${fmt(r.rel)}</td><td>${r.cosine.toFixed(5)}</td><td><span class="bar" style="width:${Math.max(1, Math.round((Number.isFinite(r.rel) ? r.rel / widest : 1) * 80))}px"></span></td></tr>`).join('');
    box.innerHTML = `${head}<table id="divergence-table"><thead><tr><th>layer</th><th>op</th><th>max abs</th><th>rel</th><th>cosine</th><th></th></tr></thead><tbody>${body}</tbody></table>`;
    return { rows: rows.length, diverged: rows.filter((r) => r.diverged).length };
  } finally {
    for (const t of made) t.dispose();
    ref.dispose();
    q?.dispose();
  }
}

function label(r: fp.TraceRecord): string {
  return r.marks[0] ?? (r.path || '(model)');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
