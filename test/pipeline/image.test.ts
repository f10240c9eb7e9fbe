// image-classification against transformers (test/fixtures/hf-pipelines/vit-cls, written by test/hf/make_image_refs.py):
// the preprocessor's pixel_values from RGBA pixels (Pillow bilinear resize 45x37 -> 32x32, rescale, normalize) and
// the pipeline's labels and scores; a uint8 tensor gives the same; a hand-checked resize of a tiny image.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';

const DIR = resolve(__dirname, '../fixtures/hf-pipelines/vit-cls');
const ref = JSON.parse(readFileSync(join(DIR, 'image.json'), 'utf8')) as { result_top6: fp.Scored[] };

async function pixels(): Promise<fp.Pixels> {
  const t = await fp.readNpyFile(join(DIR, 'image.npy'));
  const [height, width] = t.shape as [number, number, number];
  return { data: Uint8Array.from((await t.data()) as ArrayLike<number>), width, height };
}

describe('image-classification (tiny ViT, preprocessor_config.json)', () => {
  it('pixel_values equal the ViTImageProcessor output (max difference <= 1e-6)', async () => {
    const pre = fp.parsePreprocessor(JSON.parse(readFileSync(join(DIR, 'preprocessor_config.json'), 'utf8')));
    const got = await fp.preprocessImage(await pixels(), pre);
    const want = await fp.readNpyFile(join(DIR, 'pixel_values.npy'));
    expect(got.shape).toEqual(want.shape);
    const g = await got.data(), w = await want.data();
    let max = 0;
    for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(Number(g[i]) - Number(w[i])));
    expect(max).toBeLessThanOrEqual(1e-6);
  });

  it('labels from id2label and softmax scores equal transformers\' pipeline (1e-4), from pixels and from a uint8 tensor', async () => {
    const clf = await fp.pipeline('image-classification', DIR);
    const px = await pixels();
    const got = (await clf(px, { topK: 6 })) as fp.Scored[];
    expect(got.map((r) => r.label)).toEqual(ref.result_top6.map((r) => r.label));
    got.forEach((r, i) => expect(Math.abs(r.score - ref.result_top6[i]!.score)).toBeLessThan(1e-4));
    const t = fp.tensor(px.data, { shape: [px.height, px.width, 4], dtype: 'uint8' });
    expect(await clf(t)).toEqual(got.slice(0, 5));
    await expect(clf(fp.zeros([3, 8, 8]))).rejects.toThrow(/expected a uint8 tensor \[H, W, 3 or 4\] \(RGB or RGBA pixels\), got float32 \[3, 8, 8\]/);
    clf.dispose();
  });

  it('Pillow bilinear on a 1x4 row halved: each output averages two inputs (support 2, triangle weights 1/4 3/4 3/4 1/4)', () => {
    // centers 1 and 3; weights over x = 0..3 for out 0: |x + 0.5 - 1| / 2 -> 0.75, 0.75, 0.25 (x = 0, 1, 2), normalized
    const row = Uint8Array.from([0, 0, 0, 100, 100, 100, 200, 200, 200, 40, 40, 40]);
    const out = fp.resizeBilinear8(row, 1, 4, 1, 2);
    // out0 = (0 * 0.75 + 100 * 0.75 + 200 * 0.25) / 1.75 = 71.43 -> 71; out1 = (100 * 0.25 + 200 * 0.75 + 40 * 0.75) / 1.75 = 117.14 -> 117
    expect(Array.from(out)).toEqual([71, 71, 71, 117, 117, 117]);
  });
});
