// Markdown and SVG charts of the kernel benchmark: per op a table of GFLOP/s (and GB/s) by size for every
// variant and peer, forwardpass/peer ratios, what failed its check or did not fit; GFLOP/s vs size charts.
import { num, textTable } from '../src/cli/bench-report.js';
import type { BenchFigure } from '../src/cli/bench-result.js';
import { lineChart, type Series } from '../src/cli/bench-svg.js';

export interface KernelReport {
  adapter: string;
  isSoftware: boolean;
  rows: BenchFigure[];
  skipped: { key: string; reason: string }[];
  notes: string[];
  checks: Record<string, unknown>[];
  timeMs: number;
  limits: { cpuMs: number; webgpuMs: number };
  versions: Record<string, string | null>;
  tfjsSameAdapter: boolean | null;
}

const OPS = ['matmul', 'matvec', 'conv2d', 'attention'] as const;
const uniq = <T,>(xs: T[]) => [...new Set(xs)];

/** The markdown body of results/kernels.md. */
export function kernelMarkdown(r: KernelReport): string {
  const out: string[] = [
    `WebGPU adapter: ${r.adapter}.${r.isSoftware ? ' **Software adapter: WebGPU and tfjs-webgpu figures are CPU speed**; compare them only with each other.' : ''} tfjs-core ${r.versions['tfjs-core'] ?? 'not installed'}, tfjs-backend-cpu ${r.versions['tfjs-backend-cpu'] ?? 'not installed'}, tfjs-backend-webgpu ${r.versions['tfjs-backend-webgpu'] ?? 'not installed'}${r.tfjsSameAdapter === null ? '' : ` (same adapter as forwardpass: ${r.tfjsSameAdapter ? 'yes' : 'NO'})`}.`, '',
    `Method: each task is first called once and its result compared with a float64 reference written in the benchmark (a wrong result is reported and not timed); that call is also the warm-up. The CPU tasks of one problem (forwardpass variants and tfjs-cpu) are then timed round-robin in 2 passes with tinybench, ~${Math.round(r.timeMs)} ms each in all, and so are the WebGPU tasks (forwardpass paths and tfjs-webgpu). Each call includes reading the result to the host (WebGPU: readback; no timestamp queries). GFLOP/s = FLOPs / p50 (matmul 2·n³, matvec 2·n², conv 2·N·O·Ho·Wo·Cg·k², attention 4·B·H·T²·D); GB/s = (inputs + output bytes, each once) / p50. Calls predicted or measured above ${(r.limits.cpuMs / 1000).toFixed(1)} s (CPU) / ${(r.limits.webgpuMs / 1000).toFixed(1)} s (WebGPU) are skipped with the larger sizes.`, '',
  ];
  for (const op of OPS) {
    const rows = r.rows.filter((x) => x.op === op);
    if (!rows.length) continue;
    const groups = uniq(rows.map((x) => x.group));
    out.push(`## ${op}: GFLOP/s (GB/s) at the median call`, '');
    const variants = uniq(rows.map((x) => x.variant));
    out.push(textTable(['variant', ...groups], variants.map((v) => [v, ...groups.map((g) => {
      const x = rows.find((y) => y.group === g && y.variant === v);
      if (x) return `${num(x.value)} (${num(x.gbps as number)})`;
      const s = r.skipped.find((y) => y.key === `kernel ${g} ${v}`);
      return s ? (s.reason.startsWith('failed') ? 'WRONG/failed' : 'skipped (time)') : '—';
    })])), '');
    // the public op (fp.* on the CPU, the automatic path on WebGPU) and the fastest variant, each against the peer
    const ratios = rows.filter((x) => x.speedVsPeers && x.engine === 'forwardpass');
    const best = groups.flatMap((g) => ['cpu', 'webgpu'].map((side) => {
      const rs = ratios.filter((x) => x.group === g && x.backend === side);
      if (!rs.length) return null;
      const pub = rs.find((x) => x.variant.startsWith('fp.') || x.variant === 'webgpu auto') ?? (rs.length === 1 ? rs[0]! : null);
      const top = rs.reduce((m, x) => (x.value > m.value ? x : m));
      const [peer] = Object.keys(top.speedVsPeers as Record<string, number>);
      const r = (x: BenchFigure) => num((x.speedVsPeers as Record<string, number>)[peer!]);
      return `${g} ${side}: ${pub ? `${pub.variant} ${r(pub)}x` : ''}${pub && pub !== top ? ', ' : ''}${pub !== top ? `fastest variant (${top.variant}) ${r(top)}x` : ''} ${peer}`;
    })).filter(Boolean);
    if (best.length) out.push(`Speed against the peer on the same side (GFLOP/s ratio, > 1: forwardpass faster), for the public op and the fastest variant: ${best.join('; ')}.`, '');
  }
  const wrong = r.skipped.filter((s) => s.reason.startsWith('failed'));
  out.push('## Checks', '', wrong.length ? `${wrong.length} task(s) failed their check and were not timed: ${wrong.map((s) => `${s.key} (${s.reason})`).join('; ')}.` : `Every timed task matched the float64 reference (${r.checks.length} checks).`, '');
  if (r.notes.length || r.skipped.length) out.push('## Not measured', '', ...r.notes.map((n) => `- ${n}`), ...r.skipped.filter((s) => !s.reason.startsWith('failed')).map((s) => `- ${s.key}: ${s.reason}`), '');
  out.push('## Charts', '', ...OPS.filter((op) => r.rows.some((x) => x.op === op)).map((op) => `- [${op} GFLOP/s vs size](charts/kernels-${op}.svg)`), '');
  return out.join('\n');
}

/** GFLOP/s vs size per op, one series per variant (peers dashed). */
export function kernelCharts(r: KernelReport): Record<string, string> {
  const files: Record<string, string> = {};
  for (const op of OPS) {
    const rows = r.rows.filter((x) => x.op === op);
    if (!rows.length) continue;
    const groups = uniq(rows.map((x) => x.group));
    const categorical = op === 'conv2d';
    const series: Series[] = uniq(rows.map((x) => x.variant)).map((v) => ({
      name: v, dashed: rows.find((x) => x.variant === v)!.engine!.startsWith('tfjs'),
      points: rows.filter((x) => x.variant === v).map((x) => [categorical ? groups.indexOf(x.group) : (x.size as number), x.value] as [number, number]),
    }));
    const xLabel = op === 'matmul' ? 'n (n x n x n)' : op === 'matvec' ? 'n (1 x n x n)' : op === 'attention' ? 'sequence length T' : 'problem';
    files[`charts/kernels-${op}.svg`] = lineChart({
      title: `${op}: GFLOP/s vs size${r.isSoftware ? ' (webgpu: software adapter)' : ''}`, xLabel, yLabel: 'GFLOP/s (p50, log)', yLog: true, series, width: 760,
      ...(categorical ? { categories: groups.map((g) => g.replace('conv2d ', '')) } : { xLog: true }),
    });
  }
  return files;
}
