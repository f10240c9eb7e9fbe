// INT8 accuracy of mlp-digits and tiny-bert-cls on the CPU: eval-set top-1 accuracy within 1 point of the float32 accuracy in
// config.json for every scheme, weight bytes <= 0.27x float32; prints the accuracy table and per-layer cosines.
import { afterAll, describe, it } from 'vitest';
import { checkClassifier, printedReport } from './accuracy-helpers.js';

afterAll(() => console.log(printedReport()));

describe.each(['mlp-digits', 'tiny-bert-cls'])('%s', (name) => {
  it('keeps eval accuracy within 1 point of float32 for every scheme, with weights <= 0.27x their float32 bytes', () => checkClassifier(name), 120_000);
});
