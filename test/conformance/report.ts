// Tallies of a conformance run: per group, per op type and per failure reason, next to onnxruntime 1.30's result
// from the suite's index.json, as printed tables and as the JSON report.
import type { Status, TestResult } from './check.js';

/** One test's entry in the suite's index.json. */
export interface IndexEntry {
  group: string;
  name: string;
  opset: number | null;
  opTypes: string[];
  tensorOnly: boolean;
  notTensorReason: string | null;
  onnxruntime_1_30: string;
}

export interface Row extends TestResult {
  id: string;
  group: string;
  opTypes: string[];
  tensorOnly: boolean;
  ort?: string;
}

export type Tally = Record<Status, number> & { tests: number; ortPass: number };

const empty = (): Tally => ({ tests: 0, pass: 0, wrong: 0, unsupported: 0, error: 0, ortPass: 0 });

function add(t: Tally, r: Row): void {
  t.tests++;
  t[r.status]++;
  if (r.ort === 'pass') t.ortPass++;
}

/** The failure reason with names and numbers blanked, and each op an "unsupported ops" list names on its own. */
export function reasonKeys(r: Row): string[] {
  if (r.status === 'pass' || !r.reason) return [];
  const m = /unsupported ops \(opset \d+\): (.*)$/.exec(r.reason);
  if (m) return [...m[1]!.matchAll(/([\w.]+) \(node '[^']*'(?:, \d+ nodes)?\)/g)].map((x) => `unsupported op ${x[1]}`);
  return [r.reason.replace(/'[^']*'/g, "'…'").replace(/(?<![\w.])-?\d+(\.\d+)?(e[-+]?\d+)?(?![\w])/g, 'N').slice(0, 160)];
}

export interface Summary {
  total: Tally;
  /** Tensor-only tests of the node group: the issue's headline figure. */
  nodeTensorOnly: Tally;
  /** Passes that hold at the ONNX runner's own atol 1e-7 too. */
  strictPass: number;
  /** Tests onnxruntime passes and forwardpass does not. */
  ortPassWeFail: string[];
  groups: Record<string, Tally>;
  ops: Record<string, Tally>;
  reasons: { reason: string; tests: number }[];
}

export function summarize(rows: Row[]): Summary {
  const s: Summary = { total: empty(), nodeTensorOnly: empty(), strictPass: 0, ortPassWeFail: [], groups: {}, ops: {}, reasons: [] };
  const reasons = new Map<string, number>();
  for (const r of rows) {
    add(s.total, r);
    if (r.group === 'node' && r.tensorOnly) add(s.nodeTensorOnly, r);
    add((s.groups[r.group] ??= empty()), r);
    for (const op of new Set(r.opTypes)) add((s.ops[op] ??= empty()), r);
    if (r.status === 'pass' && r.strict) s.strictPass++;
    if (r.ort === 'pass' && r.status !== 'pass') s.ortPassWeFail.push(r.id);
    for (const k of new Set(reasonKeys(r))) reasons.set(k, (reasons.get(k) ?? 0) + 1);
  }
  s.reasons = [...reasons].map(([reason, tests]) => ({ reason, tests })).sort((a, b) => b.tests - a.tests || a.reason.localeCompare(b.reason));
  return s;
}

const pad = (x: string | number, n: number) => String(x).padStart(n);

function table(title: string, entries: [string, Tally][], width: number): string[] {
  const lines = [title, `${'name'.padEnd(width)} ${pad('tests', 6)} ${pad('pass', 6)} ${pad('wrong', 6)} ${pad('unsup', 6)} ${pad('error', 6)} ${pad('ort', 6)}`];
  for (const [k, t] of entries) lines.push(`${k.padEnd(width)} ${pad(t.tests, 6)} ${pad(t.pass, 6)} ${pad(t.wrong, 6)} ${pad(t.unsupported, 6)} ${pad(t.error, 6)} ${pad(t.ortPass, 6)}`);
  return lines;
}

/** The printed report: groups, op types with a failure (most failures first, `opLimit` rows), top reasons. */
export function format(s: Summary, opLimit = 60): string {
  const lines: string[] = [];
  lines.push(...table('per group (ort = onnxruntime 1.30 passes)', [...Object.entries(s.groups), ['all', s.total]], 18), '');
  const ops = Object.entries(s.ops).filter(([, t]) => t.pass < t.tests).sort((a, b) => (b[1].tests - b[1].pass) - (a[1].tests - a[1].pass) || a[0].localeCompare(b[0]));
  lines.push(...table(`op types with a failing test (${ops.length}; first ${Math.min(opLimit, ops.length)} by failures)`, ops.slice(0, opLimit), 28), '');
  lines.push('failure reasons (tests):');
  for (const r of s.reasons.slice(0, 40)) lines.push(`${pad(r.tests, 5)}  ${r.reason}`);
  lines.push('');
  const n = s.nodeTensorOnly;
  lines.push(`tensor-only node tests: forwardpass ${n.pass} of ${n.tests} pass; onnxruntime 1.30 ${n.ortPass}`);
  lines.push(`all tests: forwardpass ${s.total.pass} of ${s.total.tests}; onnxruntime 1.30 ${s.total.ortPass}; ${s.strictPass} of the passes also hold at atol 1e-7`);
  lines.push(`tests onnxruntime passes and forwardpass does not: ${s.ortPassWeFail.length}`);
  return lines.join('\n');
}

/** How a device run (--backend webgpu) went, next to the CPU's passing list. */
export interface DeviceSummary {
  /** Tests that loaded with every node on the device (Shape/Size and shape arithmetic on constants aside). */
  onDevice: Tally;
  /** Tests that loaded with some nodes on the CPU as a fallback. */
  withFallback: Tally;
  /** Op types the CPU ran as a fallback: in how many tests. */
  fallbackOps: Record<string, number>;
  /** Tests of the CPU's passing list that fail here with every node on the device: device bugs. */
  bugs: string[];
  /** Tests of the CPU's passing list that fail here with some nodes on the CPU. */
  fallbackFailures: string[];
}

export function summarizeDevice(rows: Row[], cpuPassing: ReadonlySet<string>): DeviceSummary {
  const d: DeviceSummary = { onDevice: empty(), withFallback: empty(), fallbackOps: {}, bugs: [], fallbackFailures: [] };
  for (const r of rows) {
    const fell = (r.fallback?.length ?? 0) > 0;
    if (r.nodes !== undefined) add(fell ? d.withFallback : d.onDevice, r);
    for (const op of new Set(r.fallback)) d.fallbackOps[op] = (d.fallbackOps[op] ?? 0) + 1;
    if (cpuPassing.has(r.id) && r.status !== 'pass') (fell ? d.fallbackFailures : d.bugs).push(r.id);
  }
  return d;
}

/** The printed lines of a device run. */
export function formatDevice(d: DeviceSummary, backend: string, adapter: string): string {
  const ops = Object.entries(d.fallbackOps).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [
    `${backend} (${adapter || 'adapter unknown'}): ${d.onDevice.pass + d.withFallback.pass} tests pass: ${d.onDevice.pass} of ${d.onDevice.tests} loaded with every node on ${backend}, ${d.withFallback.pass} of ${d.withFallback.tests} with some nodes on the CPU`,
    `ops the CPU ran as a fallback (tests): ${ops.map(([op, n]) => `${op} ${n}`).join(', ') || 'none'}`,
    `tests the CPU passes (passing list) and ${backend} fails with every node on ${backend} (${backend} bugs): ${d.bugs.length}${d.bugs.length ? `: ${d.bugs.join(', ')}` : ''}`,
    `... and with some nodes on the CPU: ${d.fallbackFailures.length}${d.fallbackFailures.length ? `: ${d.fallbackFailures.join(', ')}` : ''}`,
  ].join('\n');
}
