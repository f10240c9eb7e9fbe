// The drawing pad of the step-through page and the digit preprocessing: white strokes on black, cropped to the ink,
// scaled and centred the way each digit model's training data was (sklearn 8x8 digits, MNIST 28x28).

/** A canvas you draw on with the mouse, a pen or a finger. */
export class DrawPad {
  private drawing = false;
  private last: [number, number] | null = null;
  private readonly ctx: CanvasRenderingContext2D;
  /** Called when a stroke ends. */
  onStroke: () => void = () => {};

  constructor(readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      this.last = this.at(e);
      this.dot(this.last);
      canvas.setPointerCapture?.(e.pointerId);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const p = this.at(e);
      this.line(this.last ?? p, p);
      this.last = p;
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = null;
      this.onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointerleave', end);
  }

  private at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * this.canvas.width, ((e.clientY - r.top) / r.height) * this.canvas.height];
  }

  private get width(): number {
    return this.canvas.width / 12;
  }

  private dot(p: [number, number]): void {
    this.ctx.fillStyle = '#fff';
    this.ctx.beginPath();
    this.ctx.arc(p[0], p[1], this.width / 2, 0, Math.PI * 2);
    this.ctx.fill();
  }

  private line(a: [number, number], b: [number, number]): void {
    const c = this.ctx;
    c.strokeStyle = '#fff';
    c.lineWidth = this.width;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(a[0], a[1]);
    c.lineTo(b[0], b[1]);
    c.stroke();
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** The ink as intensities in [0, 1], row-major, canvas.width x canvas.height. */
  ink(): Float32Array {
    const { width, height } = this.canvas;
    const px = this.ctx.getImageData(0, 0, width, height).data;
    const out = new Float32Array(width * height);
    for (let i = 0; i < out.length; i++) out[i] = px[i * 4]! / 255;
    return out;
  }
}

/** Box-average the `rect` [x, y, w, h] of a `width`-wide image into an `outW` x `outH` grid (area weighted). */
function resample(img: Float32Array, width: number, rect: [number, number, number, number], outW: number, outH: number): Float32Array {
  const [rx, ry, rw, rh] = rect;
  const out = new Float32Array(outW * outH);
  const sx = rw / outW, sy = rh / outH;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = ry + oy * sy, y1 = y0 + sy;
    for (let ox = 0; ox < outW; ox++) {
      const x0 = rx + ox * sx, x1 = x0 + sx;
      let sum = 0, area = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += (img[y * width + x] ?? 0) * wx * wy;
          area += wx * wy;
        }
      }
      out[oy * outW + ox] = area > 0 ? sum / area : 0;
    }
  }
  return out;
}

/** Bounding box [x, y, w, h] of the pixels above 0.1, or null for a blank image. */
function inkBox(img: Float32Array, width: number, height: number): [number, number, number, number] | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (img[y * width + x]! > 0.1) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  return x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

/** A square crop around the ink box, `margin` (fraction of the side) around the longer side. */
function squareAround(box: [number, number, number, number], margin: number): [number, number, number, number] {
  const side = Math.max(box[2], box[3]) * (1 + 2 * margin);
  return [box[0] + box[2] / 2 - side / 2, box[1] + box[3] / 2 - side / 2, side, side];
}

/**
 * The drawing as a `size` x `size` digit in [0, 1]: 28 -> MNIST style (the ink scaled into a 20x20 box, centred by
 * its centre of mass in 28x28); other sizes -> sklearn-digits style (the ink filling the grid, values in 17 levels,
 * as pixel counts / 16). Throws a readable error when nothing is drawn.
 */
export function digitInput(img: Float32Array, width: number, height: number, size: number): Float32Array {
  const box = inkBox(img, width, height);
  if (!box) throw new Error('forwardpass page: the drawing is empty; draw a digit on the black square first');
  if (size !== 28) {
    const out = resample(img, width, squareAround(box, 0.08), size, size);
    return out.map((v) => Math.round(Math.min(1, v * 1.6) * 16) / 16);
  }
  const inner = resample(img, width, squareAround(box, 0), 20, 20);
  let mass = 0, cx = 0, cy = 0;
  for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) { const v = inner[y * 20 + x]!; mass += v; cx += v * x; cy += v * y; }
  const dx = Math.round(14 - (mass > 0 ? cx / mass : 9.5) - 0.5), dy = Math.round(14 - (mass > 0 ? cy / mass : 9.5) - 0.5);
  const out = new Float32Array(28 * 28);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) {
    const ty = y + dy, tx = x + dx;
    if (ty >= 0 && ty < 28 && tx >= 0 && tx < 28) out[ty * 28 + tx] = Math.min(1, inner[y * 20 + x]! * 1.3);
  }
  return out;
}
