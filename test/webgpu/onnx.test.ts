// ONNX runtime on WebGPU: every fixture model.onnx within 1e-3 of PyTorch with its outputs on the device, shape
// arithmetic kept on the host (only integer/bool ops run on the CPU), int8 precision on a classifier.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath, maxAbsDiff } from '../helpers.js';
import { webgpu } from '../webgpu.js';
import { f32c, i64, makeModel, runNode } from '../io/onnx/session-helpers.js';

const MODELS = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-gpt', 'tiny-bert-cls'];
const bytes = (name: string) => readFileSync(fixturePath(name, 'model.onnx'));

describe.skipIf(!webgpu.gpu)(`ONNX fixtures on webgpu (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  for (const name of MODELS) {
    it(`${name}: every io case within 1e-3 of PyTorch; only integer shape arithmetic runs on the host`, async () => {
      const s = await fp.loadOnnx(bytes(name), { backend: 'webgpu' });
      const hostDTypes = new Set<string>();
      const off = fp.addOpHook((e) => { if (e.backend === 'cpu') e.outputs.forEach((o) => hostDTypes.add(o.dtype)); });
      let worst = 0;
      try {
        for (const c of await fp.loadFixtureCases(fixturePath(name))) {
          const out = await s.run(c.inputs);
          for (const [k, want] of Object.entries(c.outputs)) {
            expect(out[k]!.device).toBe('webgpu');
            worst = Math.max(worst, maxAbsDiff(await out[k]!.data(), await want.data()));
            out[k]!.dispose();
          }
        }
      } finally {
        off();
      }
      console.log(`onnx webgpu f32 ${name}: max abs diff ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-3);
      expect([...hostDTypes].filter((d) => d !== 'int32' && d !== 'bool')).toEqual([]);
      s.dispose();
    });
  }

  it('composed ops (CumSum, Resize, Trilu, Slice with a negative step, Tile, Pad incl. wrap, Gemm, pools with large pads) give the CPU results', async () => {
    const x = () => fp.randn([2, 3, 4], { seed: 5 });
    const cases: [number, string, (fp.Tensor | ReturnType<typeof i64> | null)[], Record<string, number | string | number[]>][] = [
      [14, 'CumSum', [x(), i64([1], [])], { reverse: 1 }],
      [13, 'Resize', [fp.randn([1, 2, 3, 3], { seed: 6 }), null, null, i64([1, 2, 5, 4])], { mode: 'linear' }],
      [14, 'Trilu', [x(), i64([1], [])], { upper: 0 }],
      [13, 'Slice', [x(), i64([-1]), i64([-100]), i64([2]), i64([-2])], {}],
      [13, 'Tile', [x(), i64([2, 1, 2])], {}],
      [13, 'Pad', [x(), i64([0, 1, 2, 0, 0, 1])], { mode: 'reflect' }],
      [19, 'Pad', [x(), i64([1, -1, 5, 0, 2, -1])], { mode: 'wrap' }],
      // pads past half the kernel (ONNX allows up to the kernel); the dilated MaxPool has windows missing the input
      [17, 'AveragePool', [fp.randn([1, 2, 7, 5], { seed: 8 })], { kernel_shape: [3, 1], pads: [2, 0, 1, 0] }],
      [17, 'AveragePool', [fp.randn([1, 2, 7, 5], { seed: 9 })], { kernel_shape: [3, 3], strides: [2, 2], pads: [2, 2, 2, 2], ceil_mode: 1, count_include_pad: 1 }],
      [17, 'MaxPool', [fp.randn([1, 2, 7, 5], { seed: 10 })], { kernel_shape: [2, 2], strides: [1, 2], pads: [3, 1, 3, 1], dilations: [8, 1] }],
      [13, 'Gemm', [fp.randn([3, 4], { seed: 7 }), f32c(Array.from({ length: 8 }, (_, i) => i / 8), [4, 2]), f32c([1, -1])], { alpha: 0.5 }],
    ];
    for (const [opset, op, ins, attrs] of cases) {
      const [want] = await runNode(opset, op, ins, attrs);
      const [got] = await runNode(opset, op, ins, attrs, { backend: 'webgpu' });
      expect(got!.device, op).toBe('webgpu');
      expect(got!.shape, op).toEqual(want!.shape);
      expect(maxAbsDiff(await got!.data(), await want!.data()), op).toBeLessThan(1e-5);
    }
  });

  it('Mish (x * tanh(softplus(x))) matches the CPU to 1e-6 relative down to x = -40, where softplus is e^x', async () => {
    const x = fp.tensor(Float32Array.from({ length: 501 }, (_, i) => -40 + i * 0.1), { shape: [501] });
    const [want] = await runNode(18, 'Mish', [x]);
    const [got] = await runNode(18, 'Mish', [x], {}, { backend: 'webgpu' });
    expect(got!.device).toBe('webgpu');
    const [g, w] = [await got!.data(), await want!.data()];
    expect(w[0]).toBeLessThan(0); // -40 e^-40: far below the float32 resolution of 1 + e^x
    expect(Math.max(...Array.from(w, (v, i) => Math.abs(g[i]! - v) / Math.max(Math.abs(v), 1e-30)))).toBeLessThan(1e-5);
  });

  it('placement: data nodes on the device; Shape and shape arithmetic on the host, not counted as fallbacks; all on the CPU in a CPU session', async () => {
    // y = Relu(x); n = Gather(Shape(x), 1); z = Reshape(y, [n, -1]) reads the host value n as its shape
    const model = makeModel(13, [
      { op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'relu' },
      { op: 'Shape', inputs: ['x'], outputs: ['s'], name: 'shape' },
      { op: 'Gather', inputs: ['s', 'one'], outputs: ['n'], name: 'gather' },
      { op: 'Concat', inputs: ['n', 'minus1'], outputs: ['dims'], name: 'concat', attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['y', 'dims'], outputs: ['z'], name: 'reshape' },
    ], { x: ['float', [2, 3, 4]] }, ['z'], { one: i64([1]), minus1: i64([-1]) });
    const gpu = await fp.OnnxSession.fromModel(model, { backend: 'webgpu' });
    expect(gpu.placement.map((p) => [p.label, p.device, p.fallback])).toEqual([
      ['relu', 'webgpu', false], ['shape', 'cpu', false], ['gather', 'cpu', false], ['concat', 'cpu', false], ['reshape', 'webgpu', false],
    ]);
    const { z } = await gpu.run({ x: fp.randn([2, 3, 4], { seed: 3 }) });
    expect([z!.device, z!.shape]).toEqual(['webgpu', [3, 8]]);
    const cpu = await fp.OnnxSession.fromModel(model, { backend: 'cpu' });
    expect(cpu.placement.every((p) => p.device === 'cpu' && !p.fallback)).toBe(true);
    gpu.dispose();
    cpu.dispose();
  });

  it('a typed-array op (TopK) in a WebGPU session runs on the host and shows in the trace as such; in a CPU session too', async () => {
    const model = makeModel(13, [
      { op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'relu' },
      { op: 'TopK', inputs: ['y', 'k'], outputs: ['v', 'i'], name: 'topk', attrs: { axis: -1 } },
      { op: 'Neg', inputs: ['v'], outputs: ['z'], name: 'neg' },
    ], { x: ['float', [2, 6]] }, ['z', 'i'], { k: i64([3]) });
    const x = fp.randn([2, 6], { seed: 5 });
    for (const backend of ['webgpu', 'cpu']) {
      const s = await fp.OnnxSession.fromModel(model, { backend });
      const t = await s.trace({ x });
      const host = t.records.filter((r) => r.op === fp.HOST_OP);
      expect(host.map((r) => [r.node, r.backend, r.variant, (r.attrs as { opType: string }).opType, r.outputs.map((o) => o.shape)])).toEqual([
        ['topk', 'cpu', 'TopK-typed-array', 'TopK', [[2, 3], [2, 3]]],
      ]);
      expect(t.records.find((r) => r.node === 'relu')!.backend).toBe(backend);
      expect(t.records.find((r) => r.node === 'neg')!.backend).toBe(backend);
      if (backend === 'webgpu') expect(s.placement.find((p) => p.label === 'topk')).toMatchObject({ device: 'cpu', fallback: true });
      const { z } = await s.run({ x });
      const want = Array.from(await x.data(), (v) => Math.max(v, 0));
      const rows = [want.slice(0, 6), want.slice(6)].flatMap((r) => r.sort((a, b) => b - a).slice(0, 3).map((v) => -v));
      expect(Array.from(await z!.data())).toEqual(rows.map((v) => Math.fround(v)));
      s.dispose();
    }
  });

  it('precision int8: mlp-digits runs linearInt8 on the device and keeps eval accuracy within 1 point', async () => {
    const s = await fp.loadOnnx(bytes('mlp-digits'), { backend: 'webgpu', precision: 'int8' });
    const ev = await fp.loadFixtureEval(fixturePath('mlp-digits'));
    const ops = new Set<string>();
    const off = fp.addOpHook((e) => { if (e.backend === 'webgpu') ops.add(e.op); });
    const { logits } = await s.run({ input: ev.inputs! });
    off();
    const pred = await fp.argmax(logits!, { axis: -1 }).data();
    const labels = await ev.labels!.data();
    const acc = pred.filter((p, i) => p === labels[i]).length / labels.length;
    console.log(`onnx webgpu int8 mlp-digits: accuracy ${(100 * acc).toFixed(2)}%`);
    expect(ops.has('linearInt8')).toBe(true);
    expect(acc).toBeGreaterThanOrEqual(0.9741 - 0.01);
    s.dispose();
  });
});
