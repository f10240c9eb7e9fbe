// Shared by the INT8 accuracy tests: the schemes tried on each classifier, the eval run, and the printed table.
import { expect } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';
import { argmaxRows, readJson } from '../models/helpers.js';

export const SCHEMES: [string, (calibration: fp.ModelInputs[]) => fp.QuantizeOptions][] = [
  ['per-channel W8A8 dynamic', () => ({})],
  ['per-channel W8A8 static', (calibration) => ({ activations: 'static', calibration })],
  ['per-channel W8A8 static p99.99', (calibration) => ({ activations: 'static', calibration, percentile: 99.99 })],
  ['Q8_0 W8A8 dynamic', () => ({ weights: 'q8_0' })],
  ['per-channel W8 weight-only', () => ({ activations: 'none' })],
];

const table: string[][] = [['model', 'scheme', 'f32 acc', 'int8 acc', 'drop', 'weight bytes ratio']];
const cosines: string[] = [];

/** The accuracy table and per-layer cosines collected so far, as text. */
export function printedReport(): string {
  const w = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return `\nINT8 accuracy on the eval sets (CPU)\n${table.map((r) => r.map((v, c) => v.padEnd(w[c]!)).join('  ').trimEnd()).join('\n')}\n\nper-layer cosine vs float32 (first 64 eval rows)\n${cosines.join('\n')}\n`;
}

/**
 * Quantize the classifier fixture `name` with every scheme, run its eval set, and assert: accuracy within 1 point
 * of config.json's float32 accuracy, weight bytes <= 0.27x float32, every layer's cosine vs float32 > 0.999.
 */
export async function checkClassifier(name: string): Promise<void> {
  const dir = fixturePath(name);
  const config = readJson(name, 'config.json');
  const ev = await fp.loadFixtureEval(dir);
  const bert = name === 'tiny-bert-cls';
  const inputs: Record<string, fp.Tensor> = bert ? { input_ids: ev.input_ids!, attention_mask: ev.attention_mask! } : { input: ev.inputs! };
  const head: Record<string, fp.Tensor> = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.narrow(0, 0, 64)]));
  const calibration = (await fp.loadFixtureCases(dir)).map((c) => c.inputs); // the io.json inputs: a small calibration set
  const labels = Array.from(await ev.labels!.data());
  const f32Acc = config.eval.accuracy_float32_pytorch as number;
  const reference = await fp.loadModel(dir);
  for (const [label, opts] of SCHEMES) {
    const model = await fp.quantize(await fp.loadModel(dir), opts(calibration));
    const logits = await fp.scope(() => model.run(inputs).logits!.data());
    const pred = argmaxRows(logits, config.eval.num_classes);
    const acc = pred.filter((p, i) => p === labels[i]).length / labels.length;
    const ratio = fp.quantizationReport(model).ratio;
    table.push([name, label, (100 * f32Acc).toFixed(2), (100 * acc).toFixed(2), (100 * (f32Acc - acc)).toFixed(2), ratio.toFixed(3)]);
    const cos = await fp.layerCosines(reference, model, head);
    cosines.push(`${name} ${label}: ${cos.map((c) => `${c.name || 'output'} ${c.cosine.toFixed(5)}`).join(', ')}`);
    expect(acc, `${name} ${label}`).toBeGreaterThanOrEqual(f32Acc - 0.01);
    expect(ratio, `${name} ${label}`).toBeLessThanOrEqual(0.27);
    expect(Math.min(...cos.map((c) => c.cosine)), `${name} ${label}`).toBeGreaterThan(0.999);
    model.dispose();
  }
  reference.dispose();
}
