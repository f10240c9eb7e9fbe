// The step-through page's controller: loads the chosen model on the chosen backend and precision, makes its input
// from the drawing or the prompt, steps through the forward pass with steps() (prev/next/run to end), shows each op
// (stats, histogram, heatmap, attention map), the prediction, and the int8-vs-f32 divergence per layer. Every error
// ends up in the page's error box. `window.fpPage` mirrors the state for tests.
import * as fp from '../../src/index.js';
import { DrawPad, digitInput } from './draw.js';
import { build, exampleList, exampleSource, fileSource, makeInputs, predict, type Built, type Guess, type Precision, type Source, type UserInput } from './models.js';
import { drawAttention, drawHeatmap, drawHistogram, drawLegend, fmt, fmtMs, showChar, timerResolution } from './render.js';
import { showDivergence } from './divergence.js';
import { explainOp } from './explain.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** What tests read: the page's state after each action. */
interface PageState {
  status: 'starting' | 'loading' | 'ready' | 'busy' | 'error';
  model: string;
  backend: string;
  precision: Precision;
  webgpu: boolean;
  /** The preprocessed input: pixels in [0, 1] or token ids. */
  input: number[] | null;
  prediction: Guess[] | null;
  /** Records received so far, whether the pass has finished, and the op shown. */
  ops: number;
  done: boolean;
  current: number;
  divergence: { rows: number; diverged: number } | null;
  error: string | null;
  /** The smallest step of performance.now() measured here (ms), and whether the page is cross-origin isolated. */
  timerResolution: number;
  isolated: boolean;
  /** Labels written under the heatmap's colour legend (min, 0, max), empty when none is shown. */
  legend: string[];
}

const state: PageState = { status: 'starting', model: '', backend: 'cpu', precision: 'f32', webgpu: false, input: null, prediction: null, ops: 0, done: false, current: -1, divergence: null, error: null, timerResolution: timerResolution(), isolated: globalThis.crossOriginIsolated === true, legend: [] };
(window as unknown as { fpPage: PageState }).fpPage = state;

let source: Source | null = null;
let built: Built | null = null;
let examples: { name: string; files: string[] }[] = [];
let records: fp.TraceRecord[] = [];
let gen: AsyncGenerator<fp.TraceRecord, void, undefined> | null = null;
let inputs: Record<string, fp.Tensor> | null = null;
let tokens: string[] = [];
let queue: Promise<void> = Promise.resolve();
const pad = new DrawPad($<HTMLCanvasElement>('pad'));

// ---------------------------------------------------------------- errors and status

function showError(e: unknown): void {
  const raw = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e);
  const msg = /^forwardpass\b/.test(raw) ? raw : `forwardpass page: ${raw}`;
  const box = $('error');
  box.textContent = msg;
  box.classList.add('shown');
  state.error = msg;
  state.status = 'error';
  setStatus(`error (see the red box)`);
}

function clearError(): void {
  $('error').classList.remove('shown');
  $('error').textContent = '';
  state.error = null;
}

function setStatus(text: string): void {
  $('status').textContent = text;
}

window.addEventListener('error', (e) => showError(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => showError(e.reason));

/** Run actions one after another; each clears the error box first and shows its own failure in it. */
function act(what: string, fn: () => Promise<void>): Promise<void> {
  queue = queue.then(async () => {
    clearError();
    state.status = 'busy';
    setStatus(`${what}…`);
    try {
      await fn();
      state.status = 'ready';
      setStatus(`${state.model} on ${state.backend} (${state.precision})`);
    } catch (e) {
      showError(e);
    }
  });
  return queue;
}

// ---------------------------------------------------------------- model loading

async function stopPass(): Promise<void> {
  const g = gen;
  gen = null;
  await g?.return();
  if (inputs) for (const t of Object.values(inputs)) t.dispose();
  inputs = null;
}

/** Forget the current pass and model: empty ops table, op panel, pictures, prediction and comparison. */
async function clearView(): Promise<void> {
  await stopPass();
  records = [];
  state.ops = 0;
  state.done = false;
  state.current = -1;
  state.prediction = null;
  state.divergence = null;
  renderOps();
  showOp();
  $('pred-body').textContent = '—';
  $('divergence').textContent = '';
  built?.dispose();
  built = null;
}

async function rebuild(): Promise<void> {
  await clearView();
  if (!source) return;
  const backend = $<HTMLSelectElement>('backend').value;
  const precision = $<HTMLSelectElement>('precision').value as Precision;
  if (backend === 'webgpu' && !fp.hasBackend('webgpu')) await fp.initWebGPU();
  built = await build(source, backend, precision);
  Object.assign(state, { model: source.label, backend, precision });
  const p = built.plan;
  $('draw-panel').classList.toggle('hidden', p.kind !== 'image');
  $('text-panel').classList.toggle('hidden', p.kind === 'image');
  if (p.kind === 'image') $('draw-note').textContent = `becomes ${p.size}x${p.size} pixels in [0, 1]`;
  if (p.kind === 'text') {
    $('text-title').textContent = 'Prompt';
    $('text-note').textContent = `characters from the model's vocab of ${p.vocab.length}, at most ${p.context}`;
  }
  if (p.kind === 'symbols') {
    $('text-title').textContent = 'Symbols';
    $('text-note').textContent = `digits 0..${p.count - 1}; the model names the most frequent one`;
    const box = $<HTMLInputElement>('prompt');
    if (!/^[0-9 ,]+$/.test(box.value)) box.value = '3 1 3 5 3 0';
  }
}

async function loadExample(value: string): Promise<void> {
  const [name, format] = value.split('|') as [string, 'safetensors' | 'onnx'];
  const ex = examples.find((e) => e.name === name);
  if (!ex) throw new Error(`forwardpass page: no example named '${name}'`);
  source = await exampleSource(name, format, ex.files);
  await rebuild();
}

// ---------------------------------------------------------------- the pass

function userInput(): UserInput {
  if (built?.plan.kind === 'image') {
    const { width, height } = pad.canvas;
    return { pixels: digitInput(pad.ink(), width, height, built.plan.size) };
  }
  return { text: $<HTMLInputElement>('prompt').value };
}

function showPreview(pixels: number[], size: number): void {
  const c = $<HTMLCanvasElement>('preview');
  c.width = size;
  c.height = size;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(size, size);
  pixels.forEach((v, i) => { img.data.fill(Math.round(v * 255), i * 4, i * 4 + 3); img.data[i * 4 + 3] = 255; });
  ctx.putImageData(img, 0, 0);
}

async function startPass(): Promise<void> {
  if (!built) throw new Error('forwardpass page: no model is loaded; pick an example or open a file');
  await stopPass();
  const given = userInput();
  const made = await makeInputs(built, given);
  inputs = made.inputs;
  tokens = made.tokens.map(showChar);
  state.input = made.raw;
  if (built.plan.kind === 'image') showPreview(made.raw, built.plan.size);
  const outs = await built.run(inputs);
  try {
    state.prediction = await predict(built, outs);
  } finally {
    for (const t of Object.values(outs)) t.dispose();
  }
  showPrediction(state.prediction);
  records = [];
  state.ops = 0;
  state.done = false;
  gen = fp.steps(built.model, inputs, { values: 'full', bins: 24 });
  await advance(0);
}

/** Show op `i`, pulling records from the running pass until it exists (or the pass ends). */
async function advance(i: number): Promise<void> {
  while (records.length <= i && gen) {
    const r = await gen.next();
    if (r.done) { gen = null; state.done = true; break; }
    records.push(r.value);
  }
  state.ops = records.length;
  state.current = Math.max(0, Math.min(i, records.length - 1));
  if (!records.length) state.current = -1;
  renderOps();
  showOp();
}

async function runToEnd(): Promise<void> {
  await advance(Number.MAX_SAFE_INTEGER);
}

function showPrediction(top: Guess[]): void {
  const what = built?.plan.kind === 'text' ? 'next character' : built?.plan.kind === 'symbols' ? 'most frequent symbol' : 'digit';
  const rows = top.map((g) => `<li><b>${escapeHtml(built?.plan.kind === 'text' ? showChar(g.label) : g.label)}</b> <span class="bar" style="width:${Math.max(1, g.p * 120)}px"></span> ${(g.p * 100).toFixed(1)}%</li>`);
  $('pred-body').innerHTML = `<div>${what}: <b id="pred-top">${escapeHtml(built?.plan.kind === 'text' ? showChar(top[0]!.label) : top[0]!.label)}</b></div><ol>${rows.join('')}</ol>`;
}

// ---------------------------------------------------------------- rendering

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const isAttention = (r: fp.TraceRecord) => r.output.shape.length === 4 && (r.marks.some((m) => m.endsWith('.probs')) || r.op === 'softmax');

function renderOps(): void {
  const body = $('ops');
  body.innerHTML = records.map((r, i) => `<tr data-i="${i}"${i === state.current ? ' class="current"' : ''}><td>${i}</td><td>${escapeHtml(r.path || '(model)')}</td><td>${r.op}${isAttention(r) ? ' <span class="tag">attention</span>' : ''}</td><td>[${r.output.shape.join(', ')}]</td><td class="ms">${fmtMs(r.ms, state.timerResolution)}</td></tr>`).join('');
  body.querySelector('tr.current')?.scrollIntoView({ block: 'nearest' });
  $('step-label').textContent = records.length ? `op ${state.current + 1} of ${records.length}${state.done ? '' : '+ (pass paused)'}` : 'no trace yet';
  const note = $('pred-note');
  const paused = records.length > 0 && !state.done;
  note.classList.toggle('paused', paused);
  note.textContent = !state.prediction ? ''
    : paused ? `This is the prediction of the finished pass (the model ran once to the end); the step-through is paused at op ${state.current + 1}, so the ops after it are not shown yet.`
    : records.length ? `The prediction of the finished pass: the last op's output, as probabilities.` : '';
}

/** Blank a canvas (and shrink it), so no picture of an earlier op or model survives. */
function blank(id: string): void {
  const c = $<HTMLCanvasElement>(id);
  c.getContext('2d')!.clearRect(0, 0, c.width, c.height);
}

function showOp(): void {
  const r = records[state.current];
  const dl = $('detail');
  $('attention-fig').classList.toggle('hidden', !r || !isAttention(r));
  $('pics').classList.toggle('hidden', !r);
  $('explain').classList.toggle('hidden', !r);
  if (!r) {
    dl.innerHTML = '';
    $('explain').textContent = '';
    for (const id of ['hist', 'heatmap', 'heatmap-legend', 'attention', 'attention-legend']) blank(id);
    $('heatmap-note').textContent = 'activations';
    state.legend = [];
    return;
  }
  $('explain').textContent = explainOp(r);
  const s = r.output.stats;
  const rows: [string, string][] = [
    ['path', r.path || '(model)'], ['op', r.op + (r.node ? `  (ONNX node ${r.node})` : '')], ['marks', r.marks.join(', ') || '—'],
    ['backend', `${r.backend}${r.variant ? ` · ${r.variant}` : ''}`],
    ['inputs', r.inputs.map((x) => `${x.dtype}[${x.shape.join(', ')}]`).join('  ')], ['output', `${r.output.dtype}[${r.output.shape.join(', ')}]`],
    ['stats', s ? `min ${fmt(s.min)}  max ${fmt(s.max)}  mean ${fmt(s.mean)}  std ${fmt(s.std)}${s.nan ? `  NaN ${s.nan}` : ''}${s.inf ? `  Inf ${s.inf}` : ''}` : '—'],
    ['time', `${fmtMs(r.ms, state.timerResolution)} ms (${r.timing}; timer step ${+state.timerResolution.toPrecision(2)} ms)`],
    ['values', r.output.values ? Array.from(r.output.values.subarray(0, 8), fmt).join(', ') + (r.output.values.length > 8 ? ', …' : '') : '—'],
  ];
  dl.innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  if (s) drawHistogram($<HTMLCanvasElement>('hist'), s.hist);
  else blank('hist');
  if (r.output.values) {
    const L = drawHeatmap($<HTMLCanvasElement>('heatmap'), r.output.values, r.output.shape);
    $('heatmap-note').textContent = `activations: ${L.note}; colour = value (scale above)`;
    state.legend = drawLegend($<HTMLCanvasElement>('heatmap-legend'), L.lo ?? NaN, L.hi ?? NaN);
    if (isAttention(r)) {
      drawAttention($<HTMLCanvasElement>('attention'), r.output.values, r.output.shape, tokens);
      drawLegend($<HTMLCanvasElement>('attention-legend'), 0, 1);
    }
  } else {
    for (const id of ['heatmap', 'heatmap-legend']) blank(id);
    state.legend = [];
  }
}

// ---------------------------------------------------------------- wiring

async function detectWebGPU(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

function wire(): void {
  $<HTMLSelectElement>('model').addEventListener('change', (e) => void act('loading', () => loadExample((e.target as HTMLSelectElement).value)));
  $<HTMLInputElement>('files').addEventListener('change', (e) => void act('opening', async () => {
    // the previous model's pictures must not stay on screen beside an error about the new file
    source = null;
    state.model = '';
    await clearView();
    source = await fileSource(Array.from((e.target as HTMLInputElement).files ?? []));
    await rebuild();
  }));
  $<HTMLSelectElement>('backend').addEventListener('change', () => void act('switching backend', rebuild));
  $<HTMLSelectElement>('precision').addEventListener('change', () => void act('switching precision', rebuild));
  $('clear').addEventListener('click', () => { pad.clear(); });
  $('run').addEventListener('click', () => void act('tracing', startPass));
  $('next').addEventListener('click', () => void act('stepping', () => advance(state.current + 1)));
  $('prev').addEventListener('click', () => void act('stepping', () => advance(Math.max(0, state.current - 1))));
  $('first').addEventListener('click', () => void act('stepping', () => advance(0)));
  $('end').addEventListener('click', () => void act('running to the end', runToEnd));
  $('ops').addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest('tr');
    if (tr?.dataset.i !== undefined) void act('showing op', () => advance(Number(tr.dataset.i)));
  });
  $('compare').addEventListener('click', () => void act('comparing int8 with f32', async () => {
    if (!source || !built) throw new Error('forwardpass page: no model is loaded; pick an example or open a file');
    state.divergence = await showDivergence($('divergence'), source, built.backend, userInput());
  }));
}

async function start(): Promise<void> {
  wire();
  state.webgpu = await detectWebGPU();
  const opt = $<HTMLSelectElement>('backend').options[1]!;
  opt.disabled = !state.webgpu;
  opt.textContent = state.webgpu ? 'webgpu' : 'webgpu (no adapter)';
  examples = await exampleList();
  const select = $<HTMLSelectElement>('model');
  select.innerHTML = examples.flatMap((e) => [
    ...(e.files.includes('model.safetensors') ? [`<option value="${escapeHtml(e.name)}|safetensors">${escapeHtml(e.name)}</option>`] : []),
    ...(e.files.includes('model.onnx') ? [`<option value="${escapeHtml(e.name)}|onnx">${escapeHtml(e.name)} (ONNX)</option>`] : []),
  ]).join('') || '<option value="">(no examples served: open a file)</option>';
  if (examples.length) await loadExample(select.value);
}

void act('starting', start);
