// Server metrics in the Prometheus text exposition format (version 0.0.4): request and error counters, queue depth,
// and histograms of batch sizes and request latency, labelled by model.

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const num = (v: number) => (v === Infinity ? '+Inf' : String(v));

/** A cumulative histogram with fixed upper bounds. */
class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]!) this.counts[i]!++;
  }
}

export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Counters and histograms of one server; `text()` renders them for `GET /metrics`. */
export class Metrics {
  private requests = new Map<string, number>();
  private errors = new Map<string, number>();
  private batches = new Map<string, Histogram>();
  private latency = new Map<string, Histogram>();
  private queues = new Map<string, () => number>();

  /** Report `model`'s queue depth from `depth()` (read when metrics are rendered). */
  watchQueue(model: string, depth: () => number): void {
    this.queues.set(model, depth);
  }

  /** One finished HTTP request: endpoint ('infer', 'completions', ...), status code, seconds taken. */
  request(model: string, endpoint: string, status: number, seconds: number): void {
    const key = JSON.stringify([model, endpoint, String(status)]);
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (status >= 400) {
      const ek = JSON.stringify([model, endpoint]);
      this.errors.set(ek, (this.errors.get(ek) ?? 0) + 1);
    }
    if (model) this.hist(this.latency, model, LATENCY_BUCKETS).observe(seconds);
  }

  /** One forward pass of `rows` rows. */
  batch(model: string, rows: number): void {
    this.hist(this.batches, model, BATCH_BUCKETS).observe(rows);
  }

  private hist(map: Map<string, Histogram>, model: string, bounds: readonly number[]): Histogram {
    let h = map.get(model);
    if (!h) map.set(model, (h = new Histogram(bounds)));
    return h;
  }

  text(): string {
    const out: string[] = [];
    const head = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    head('forwardpass_requests_total', 'counter', 'HTTP requests answered, by model, endpoint and status code.');
    for (const [k, v] of this.requests) {
      const [model, endpoint, code] = JSON.parse(k) as string[];
      out.push(`forwardpass_requests_total${labels({ model: model!, endpoint: endpoint!, code: code! })} ${v}`);
    }
    head('forwardpass_request_errors_total', 'counter', 'HTTP requests answered with a 4xx or 5xx status, by model and endpoint.');
    for (const [k, v] of this.errors) {
      const [model, endpoint] = JSON.parse(k) as string[];
      out.push(`forwardpass_request_errors_total${labels({ model: model!, endpoint: endpoint! })} ${v}`);
    }
    head('forwardpass_queue_depth', 'gauge', 'Requests waiting in the model\'s batching queue.');
    for (const [model, depth] of this.queues) out.push(`forwardpass_queue_depth${labels({ model })} ${depth()}`);
    this.histText(out, 'forwardpass_batch_size', 'Rows per forward pass (dynamic batching joins requests).', this.batches);
    this.histText(out, 'forwardpass_request_duration_seconds', 'Time from request received to response sent.', this.latency);
    return out.join('\n') + '\n';
  }

  private histText(out: string[], name: string, help: string, map: Map<string, Histogram>): void {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [model, h] of map) {
      h.bounds.forEach((b, i) => out.push(`${name}_bucket${labels({ model, le: num(b) })} ${h.counts[i]}`));
      out.push(`${name}_bucket${labels({ model, le: '+Inf' })} ${h.count}`, `${name}_sum${labels({ model })} ${h.sum}`, `${name}_count${labels({ model })} ${h.count}`);
    }
  }
}
