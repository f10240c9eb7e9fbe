// Markdown and SVG charts of the model benchmark: throughput by batch per engine/precision, detail table,
// cold start, accuracy vs f32, peer ratios; charts of latency and throughput vs batch and accuracy vs precision.
import { accuracyTable, bytes, coldTable, num, textTable } from '../src/cli/bench-report.js';
import type { AccuracyFigure, BenchFigure, ColdStartFigure } from '../src/cli/bench-result.js';
import type { TimeBudget } from '../src/cli/bench-stats.js';
import { lineChart, type Series } from '../src/cli/bench-svg.js';

export interface ModelReport {
  adapter: string;
  isSoftware: boolean;
  batches: number[];
  rows: BenchFigure[];
  accuracy: AccuracyFigure[];
  coldStart: ColdStartFigure[];
  skipped: { key: string; reason: string }[];
  inputSources: Record<string, string>;
  peerNotes: string[];
  versions: Record<string, string | null>;
  budget: TimeBudget;
  limits: { cpuMs: number; webgpuMs: number };
}

const models = (r: ModelReport) => [...new Set(r.rows.map((x) => String(x.model)))];
const variantsOf = (rows: BenchFigure[]) => [...new Set(rows.map((x) => String(x.variant)))];

/** The markdown body of results/models.md. */
export function modelMarkdown(r: ModelReport): string {
  const out: string[] = [
    `WebGPU adapter: ${r.adapter}.${r.isSoftware ? ' **Software adapter: the WebGPU figures are CPU speed** (SwiftShader on the same cores), to be compared only side by side.' : ''}`, '',
    `Method: per model and batch, every engine/precision makes one untimed warm-up call (its output is compared with forwardpass cpu f32: "max |diff|"; memory is sampled while the call's tensors are alive), then all are timed round-robin in 2 passes with tinybench, ~${Math.round(r.budget.timeMs)} ms each in all; p50/p95/p99 over all timed calls. Every call includes reading the output to the host (for WebGPU: the readback copy and map; no timestamp queries). A call predicted (linear in the batch) or measured above ${(r.limits.cpuMs / 1000).toFixed(1)} s on CPU, ${(r.limits.webgpuMs / 1000).toFixed(1)} s on WebGPU is skipped with its larger batches. Peers: onnxruntime-node ${r.versions['onnxruntime-node'] ?? 'not installed'}, onnxruntime-web ${r.versions['onnxruntime-web'] ?? 'not installed'}, both on the fixture model.onnx, one thread.`, '',
    'Inputs: ' + Object.entries(r.inputSources).map(([m, s]) => `${m}: ${s}`).join('; ') + '.', '',
    '## Throughput (samples/s at the median call) by batch', '',
  ];
  for (const m of models(r)) {
    const rows = r.rows.filter((x) => x.model === m);
    out.push(`### ${m}`, '');
    const head = ['engine / precision', ...r.batches.map((b) => `batch ${b}`)];
    const body = variantsOf(rows).map((v) => [v, ...r.batches.map((b) => {
      const x = rows.find((y) => y.variant === v && y.size === b);
      if (x) return `${num(x.throughput)} (${num(x.medianMs)} ms)`;
      const s = r.skipped.find((y) => y.key.startsWith(`model ${m} ${v} b${b}`));
      return s ? (s.reason.startsWith('skipped: time budget') ? 'skipped (time)' : s.reason.slice(0, 40)) : '—';
    })]);
    out.push(textTable(head, body), '');
    for (const engine of ['forwardpass', 'forwardpass-onnx']) {
      const ratios = rows.filter((x) => x.engine === engine && x.backend === 'cpu' && x.precision === 'f32' && x.speedVsPeers);
      if (ratios.length) out.push(`${engine} cpu f32 speed relative to the peers (throughput ratio, > 1: forwardpass faster): ${ratios.map((x) => `batch ${x.size}: ${Object.entries(x.speedVsPeers as Record<string, number>).map(([k, v]) => `${num(v)}x ${k}`).join(', ')}`).join('; ')}.`, '');
    }
  }
  out.push('## Every figure', '', 'p50 / p95 / p99 in ms; "peak heap": peak growth of V8 heap + array buffers during the warm-up call over a garbage-collected start, sampled after every op and once its output is read, while its intermediate tensors are still alive (approximate; peers are sampled after the call); "backend live / pooled": growth of the backend\'s live bytes at that point (WebGPU: device buffers) and the bytes its pool keeps for reuse.', '');
  out.push(textTable(['model', 'batch', 'engine / precision', 'p50', 'p95', 'p99', 'ms/sample', 'n', 'max |diff|', 'weights', 'peak heap', 'backend live / pooled'], r.rows.map((x) => [
    String(x.model), String(x.size), `${x.variant}${x.readback ? ' (+readback)' : ''}`, num(x.medianMs), num(x.p95Ms), num(x.p99Ms), num(x.msPerItem), String(x.samples), x.maxAbsDiff === undefined ? '' : num(x.maxAbsDiff), bytes(x.weightBytes), bytes(x.peakHeapBytes),
    x.backendLiveBytes === undefined ? '' : `${bytes(x.backendLiveBytes)} / ${bytes(x.backendPooledBytes as number)}`,
  ]), { left: 3 }), '');
  out.push('## Cold start', '', 'Building the model from its folder (config.json + safetensors, or the ONNX session), converting the precision, moving it to the device, then the first call at the smallest batch (WebGPU: pipeline compilation included; pipelines compiled for an earlier model in the same process are reused).', '', coldTable(r.coldStart), '');
  out.push('## Accuracy vs f32', '', 'Whole eval set (tiny-gpt: seeded random ids [64, 64], every position) through each engine/precision, compared with forwardpass cpu f32: top-1 agreement of the argmax, max |logit difference|, cosine of all logits; accuracy against the labels where the eval set has them.', '', accuracyTable(r.accuracy), '');
  if (r.skipped.length || r.peerNotes.length) out.push('## Not measured', '', ...r.peerNotes.map((n) => `- ${n}`), ...r.skipped.map((s) => `- ${s.key}: ${s.reason}`), '');
  out.push('## Charts', '', ...models(r).flatMap((m) => [`- ${m}: [latency vs batch](charts/models-${m}-latency.svg), [throughput vs batch](charts/models-${m}-throughput.svg)`]), '- [accuracy vs precision](charts/models-accuracy.svg), [max |diff| vs precision](charts/models-maxdiff.svg)', '');
  return out.join('\n');
}

/** SVG charts by path under bench/results/. */
export function modelCharts(r: ModelReport): Record<string, string> {
  const files: Record<string, string> = {};
  for (const m of models(r)) {
    const rows = r.rows.filter((x) => x.model === m);
    const series = (pick: (x: BenchFigure) => number): Series[] => variantsOf(rows).map((v) => ({
      name: v, dashed: !v.startsWith('forwardpass'), points: rows.filter((x) => x.variant === v).map((x) => [x.size as number, pick(x)] as [number, number]),
    }));
    const sw = r.isSoftware ? ' (webgpu: software adapter)' : '';
    files[`charts/models-${m}-latency.svg`] = lineChart({ title: `${m}: p50 latency per call vs batch${sw}`, xLabel: 'batch', yLabel: 'ms per call (p50)', xLog: true, yLog: true, series: series((x) => x.medianMs) });
    files[`charts/models-${m}-throughput.svg`] = lineChart({ title: `${m}: throughput vs batch${sw}`, xLabel: 'batch', yLabel: 'samples/s (at p50)', xLog: true, yLog: true, series: series((x) => x.throughput as number) });
  }
  const precisions = ['f32', 'f16', 'int8'];
  const accModels = [...new Set(r.accuracy.map((a) => a.model))];
  const accSeries = (pick: (a: AccuracyFigure) => number): Series[] => accModels.map((m) => ({
    name: m, points: precisions.map((p, i) => [i, pick(r.accuracy.find((a) => a.model === m && a.precision === p && a.backend === 'forwardpass cpu') ?? ({} as AccuracyFigure))] as [number, number]),
  }));
  files['charts/models-accuracy.svg'] = lineChart({ title: 'Top-1 agreement with f32 (forwardpass cpu)', xLabel: 'precision', yLabel: 'top-1 agreement (%)', categories: precisions, series: accSeries((a) => 100 * a.top1Agreement), yRange: [90, 100] });
  files['charts/models-maxdiff.svg'] = lineChart({ title: 'Max |logit difference| from f32 (forwardpass cpu)', xLabel: 'precision', yLabel: 'max |diff| (log)', categories: precisions.slice(1), yLog: true, series: accModels.map((m) => ({ name: m, points: precisions.slice(1).map((p, i) => [i, r.accuracy.find((a) => a.model === m && a.precision === p && a.backend === 'forwardpass cpu')?.maxAbsDiff ?? NaN] as [number, number]) })) });
  return files;
}
