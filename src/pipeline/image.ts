// image-classification: preprocessor_config.json (resize with Pillow's bilinear resampling on 8-bit pixels, rescale,
// normalize) on RGBA/RGB pixels or a uint8 tensor [H, W, 3|4], then the ViT classifier's softmax scores by id2label.
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { HfModel } from '../nn/models/hf-base.js';
import { softmax } from '../nn/models/sampling.js';
import { labelsOf, type Scored } from './text.js';

/** Pixels as a canvas gives them (ImageData): row-major, `channels` (default 4, RGBA) bytes per pixel. */
export interface Pixels { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels?: 3 | 4 }

export interface ImagePreprocessor {
  doResize: boolean; height: number; width: number; resample: number;
  doRescale: boolean; rescaleFactor: number;
  doNormalize: boolean; mean: number[]; std: number[];
}

const fail = (msg: string): never => { throw new Error(`forwardpass: pipeline('image-classification'): ${msg}`); };

/** The fields of a preprocessor_config.json this pipeline applies; unsupported settings are errors. */
export function parsePreprocessor(j: Record<string, unknown>): ImagePreprocessor {
  const size = (j.size ?? {}) as { height?: number; width?: number; shortest_edge?: number };
  if (size.shortest_edge !== undefined || j.do_center_crop === true) fail('preprocessor_config.json: shortest_edge resizing and center crops are not implemented (only size {height, width})');
  const resample = Number(j.resample ?? 2);
  if (resample !== 2) fail(`preprocessor_config.json: resample ${resample} is not implemented (only 2, bilinear)`);
  const list = (v: unknown, d: number[]) => (Array.isArray(v) ? (v as number[]) : typeof v === 'number' ? [v, v, v] : d);
  return {
    doResize: j.do_resize !== false, height: Number(size.height ?? 224), width: Number(size.width ?? 224), resample,
    doRescale: j.do_rescale !== false, rescaleFactor: Number(j.rescale_factor ?? 1 / 255),
    doNormalize: j.do_normalize !== false, mean: list(j.image_mean, [0.5, 0.5, 0.5]), std: list(j.image_std, [0.5, 0.5, 0.5]),
  };
}

const PRECISION_BITS = 32 - 8 - 2;

/** Pillow's bilinear coefficients (precompute_coeffs + normalize_coeffs_8bpc) for inSize -> outSize. */
function coeffs(inSize: number, outSize: number): { bounds: Int32Array; kk: Int32Array; ksize: number } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      ww += k[x] = t < 1 ? 1 - t : 0;
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xmax && ww !== 0 ? k[x]! / ww : 0;
      kk[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

const clip8 = (v: number) => Math.min(255, Math.max(0, Math.floor(v / (1 << PRECISION_BITS))));

/** Resize 8-bit RGB [h, w, 3] to [oh, ow, 3] as Pillow's Image.resize(BILINEAR): horizontal pass, then vertical, each rounded to 8 bits. */
export function resizeBilinear8(rgb: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  let src = rgb, sw = w;
  if (ow !== w) {
    const { bounds, kk, ksize } = coeffs(w, ow);
    const out = new Uint8Array(h * ow * 3);
    for (let y = 0; y < h; y++) for (let xx = 0; xx < ow; xx++) {
      const xmin = bounds[xx * 2]!, xmax = bounds[xx * 2 + 1]!;
      for (let c = 0; c < 3; c++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let x = 0; x < xmax; x++) ss += src[(y * sw + x + xmin) * 3 + c]! * kk[xx * ksize + x]!;
        out[(y * ow + xx) * 3 + c] = clip8(ss);
      }
    }
    src = out; sw = ow;
  }
  if (oh !== h) {
    const { bounds, kk, ksize } = coeffs(h, oh);
    const out = new Uint8Array(oh * sw * 3);
    for (let yy = 0; yy < oh; yy++) {
      const ymin = bounds[yy * 2]!, ymax = bounds[yy * 2 + 1]!;
      for (let x = 0; x < sw; x++) for (let c = 0; c < 3; c++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let y = 0; y < ymax; y++) ss += src[((y + ymin) * sw + x) * 3 + c]! * kk[yy * ksize + y]!;
        out[(yy * sw + x) * 3 + c] = clip8(ss);
      }
    }
    src = out;
  }
  return src;
}

/** Pixels or a uint8 tensor [H, W, 3|4] as RGB bytes (alpha dropped, as PIL's convert('RGB')). */
async function toRgb(image: Pixels | Tensor): Promise<{ rgb: Uint8Array; h: number; w: number }> {
  let data: ArrayLike<number>, h: number, w: number, ch: number;
  if ((image as Tensor).__isTensor) {
    const t = image as Tensor;
    if (t.dtype !== 'uint8' || t.rank !== 3 || (t.shape[2] !== 3 && t.shape[2] !== 4)) fail(`expected a uint8 tensor [H, W, 3 or 4] (RGB or RGBA pixels), got ${t.dtype} [${t.shape.join(', ')}]`);
    [h, w, ch] = t.shape as [number, number, number];
    data = (await t.data()) as ArrayLike<number>;
  } else {
    const p = image as Pixels;
    ch = p.channels ?? 4;
    [h, w, data] = [p.height, p.width, p.data];
    if (!p.data || p.data.length !== h * w * ch) fail(`pixels: expected ${h} x ${w} x ${ch} = ${h * w * ch} bytes, got ${p.data?.length}`);
  }
  const rgb = new Uint8Array(h * w * 3);
  for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * ch + c]!;
  return { rgb, h, w };
}

/** pixel_values [1, 3, H, W] float32 for `image` under the preprocessor settings. */
export async function preprocessImage(image: Pixels | Tensor, p: ImagePreprocessor, device = 'cpu'): Promise<Tensor> {
  let { rgb, h, w } = await toRgb(image);
  if (p.doResize && (h !== p.height || w !== p.width)) { rgb = resizeBilinear8(rgb, h, w, p.height, p.width); [h, w] = [p.height, p.width]; }
  const out = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) {
    let v = Math.fround(rgb[i * 3 + c]! * (p.doRescale ? p.rescaleFactor : 1));
    if (p.doNormalize) v = Math.fround(Math.fround(v - Math.fround(p.mean[c]!)) / Math.fround(p.std[c]!));
    out[c * h * w + i] = v;
  }
  return tensor(out, { shape: [1, 3, h, w], device });
}

/** image-classification: labels with softmax scores, best first (topK default 5). */
export async function classifyImage(model: HfModel, p: ImagePreprocessor, image: Pixels | Tensor, opts: { topK?: number } = {}): Promise<Scored[]> {
  const x = await preprocessImage(image, p, model.device);
  const { logits, ...rest } = model.run({ pixel_values: x });
  x.dispose();
  for (const t of Object.values(rest)) t.dispose();
  const data = Float32Array.from((await logits!.data()) as ArrayLike<number>);
  logits!.dispose();
  const scores = softmax(data);
  const labels = labelsOf(model, data.length);
  return Array.from(scores, (score, i) => ({ label: labels[i]!, score })).sort((a, b) => b.score - a.score).slice(0, opts.topK ?? 5);
}
