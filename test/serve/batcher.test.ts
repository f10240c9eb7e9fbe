// The batcher against lone forward passes: joined requests get exactly their own rows back (padding and masks for
// token models), bad requests fail alone, and the queue's limits (timeout, cancel, back-pressure, close) hold.
import { describe, expect, it } from 'vitest';
import { createBatcher, ServeError } from '../../src/serve/batcher.js';
import { RequestError, type HostTensor, type ServableModel } from '../../src/serve/servable.js';
import { folderModel, gated, hostDiff, onnxModel, recorded, request } from './helpers.js';

const rejection = async (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as Error);

/** Send `reqs` at once through a batcher and compare each answer with a lone forward pass on it. */
async function joinedVsLone(model: ServableModel, reqs: Record<string, HostTensor>[], maxBatchSize = 64) {
  const rec = recorded(model);
  const b = createBatcher(rec.model, { maxBatchSize, maxDelayMs: 20, maxPadFraction: 1 }); // any lengths join: these test padding itself
  const got = await Promise.all(reqs.map((r) => b.infer(r)));
  await b.close();
  let worst = 0;
  for (let i = 0; i < reqs.length; i++) {
    const lone = await model.run(reqs[i]!);
    expect(Object.keys(got[i]!).sort()).toEqual(Object.keys(lone).sort());
    for (const k of Object.keys(lone)) worst = Math.max(worst, hostDiff(got[i]![k]!, lone[k]!));
  }
  return { worst, calls: rec.calls };
}

describe('createBatcher: joined requests equal lone calls', () => {
  for (const name of ['mlp-digits', 'cnn-mnist']) {
    it(`${name}: 10 requests of 1-3 rows join into one pass; each gets its own rows, bit-identical`, async () => {
      const reqs = Array.from({ length: 10 }, (_, i) => request(name, 1 + (i % 3), 100 + i));
      const { worst, calls } = await joinedVsLone(folderModel(name), reqs);
      expect(calls.length).toBe(1);
      expect(calls[0]!.input!.shape[0]).toBe(19);
      expect(worst).toBe(0);
    });
  }

  it('tiny-bert-cls: lengths 3..16 padded to 16 with a 0 in the attention mask; within 1e-6 of lone calls', async () => {
    const lens = [3, 16, 7, 1, 12, 5];
    const reqs = lens.map((t, i) => request('tiny-bert-cls', 1 + (i % 2), 200 + i, t));
    const { worst, calls } = await joinedVsLone(folderModel('tiny-bert-cls'), reqs);
    expect(calls.length).toBe(1);
    const { input_ids: ids, attention_mask: mask } = calls[0]!;
    expect(ids!.shape).toEqual([9, 16]);
    expect(mask!.shape).toEqual([9, 16]);
    // the first request (1 row, 3 tokens): mask 1 1 1 then zeros; the second (2 rows of 16): all ones
    expect([...mask!.data.subarray(0, 16)]).toEqual([1, 1, 1, ...new Array(13).fill(0)]);
    expect([...mask!.data.subarray(16, 48)].every((v) => v === 1)).toBe(true);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('tiny-bert-cls: a caller\'s own attention mask is kept and padded', async () => {
    const r = request('tiny-bert-cls', 2, 7, 6);
    r.attention_mask = { dtype: 'int32', shape: [2, 6], data: Int32Array.from([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]) };
    const { worst } = await joinedVsLone(folderModel('tiny-bert-cls'), [r, request('tiny-bert-cls', 1, 8, 11)]);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('tiny-gpt: lengths 2..20 padded on the right (causal); logits [rows, own length, 80] within 1e-6 of lone calls', async () => {
    const reqs = [2, 20, 9, 5].map((t, i) => request('tiny-gpt', 1, 300 + i, t));
    const { worst, calls } = await joinedVsLone(folderModel('tiny-gpt'), reqs);
    expect(calls.length).toBe(1);
    expect(calls[0]!.input_ids!.shape).toEqual([4, 20]);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('an ONNX session (tiny-bert-cls model.onnx) batches through its attention_mask input too', async () => {
    const reqs = [4, 16, 9].map((t, i) => request('tiny-bert-cls', 1, 400 + i, t));
    const { worst, calls } = await joinedVsLone(await onnxModel('tiny-bert-cls'), reqs);
    expect(calls.length).toBe(1);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('an ONNX model without a mask (tiny-gpt model.onnx) joins only requests of equal length', async () => {
    const reqs = [5, 5, 8, 5].map((t, i) => request('tiny-gpt', 1, 500 + i, t));
    const { worst, calls } = await joinedVsLone(await onnxModel('tiny-gpt'), reqs);
    expect(calls.map((c) => c.input_ids!.shape)).toEqual([[3, 5], [1, 8]]);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });
});

describe('createBatcher: ordering and batch size', () => {
  it('answers in arrival order and never puts more than maxBatchSize rows in one pass', async () => {
    const rec = recorded(folderModel('mlp-digits'));
    const b = createBatcher(rec.model, { maxBatchSize: 4, maxDelayMs: 5 });
    const done: number[] = [];
    const reqs = Array.from({ length: 9 }, (_, i) => request('mlp-digits', 1 + (i % 2), i));
    const outs = await Promise.all(reqs.map((r, i) => b.infer(r).then((o) => { done.push(i); return o; })));
    expect(done).toEqual([...done].sort((a, c) => a - c));
    expect(rec.calls.every((c) => c.input!.shape[0]! <= 4)).toBe(true);
    expect(rec.calls.reduce((a, c) => a + c.input!.shape[0]!, 0)).toBe(13);
    outs.forEach((o, i) => expect(o.logits!.shape).toEqual([reqs[i]!.input!.shape[0], 10]));
  });

  it('maxBatchSize 1 runs every request alone', async () => {
    const rec = recorded(folderModel('mlp-digits'));
    const b = createBatcher(rec.model, { maxBatchSize: 1 });
    await Promise.all([0, 1, 2].map((i) => b.infer(request('mlp-digits', 1, i))));
    expect(rec.calls.map((c) => c.input!.shape[0])).toEqual([1, 1, 1]);
  });

  it('rejects bad options with one sentence', () => {
    expect(() => createBatcher(folderModel('mlp-digits'), { maxBatchSize: 0 })).toThrow(/maxBatchSize must be an integer >= 1, got 0/);
    expect(() => createBatcher(folderModel('mlp-digits'), { maxDelayMs: -1 })).toThrow(/maxDelayMs must be a number >= 0/);
  });
});

describe('createBatcher: length-aware batching for padded models', () => {
  /** Queue `lens` (one row each) behind a held pass, then let it go: the passes that follow, with their inputs. */
  async function mixedQueue(lens: number[], maxPadFraction?: number) {
    const model = folderModel('tiny-bert-cls');
    const rec = recorded(model);
    const g = gated(rec.model);
    const b = createBatcher(g.model, { maxBatchSize: 64, ...(maxPadFraction === undefined ? {} : { maxPadFraction }) });
    const held = b.infer(request('tiny-bert-cls', 1, 999, 4));
    await new Promise((r) => setImmediate(r)); // the held pass leaves the queue
    const reqs = lens.map((t, i) => request('tiny-bert-cls', 1, 700 + i, t));
    const outs = Promise.all(reqs.map((r) => b.infer(r)));
    g.open();
    await held;
    const got = await outs;
    await b.close();
    return { model, reqs, got, calls: rec.calls.slice(1) };
  }
  const rowOf = (t: HostTensor, row: number) => [...t.data.subarray(row * t.shape[1]!, (row + 1) * t.shape[1]!)];

  it('mixed lengths form batches whose padding is at most 25% of their tokens; the oldest waiting request leads each batch', async () => {
    const lens = [3, 16, 4, 15, 3, 16, 8, 2, 14, 4, 16, 7];
    const { model, reqs, got, calls } = await mixedQueue(lens);
    expect(calls.length).toBeGreaterThan(1);
    const served = new Set<number>();
    for (const c of calls) {
      const ids = c.input_ids!;
      const mask = c.attention_mask;
      const total = ids.shape[0]! * ids.shape[1]!;
      const real = mask ? [...mask.data].reduce((a, v) => a + v, 0) : total;
      expect(total - real).toBeLessThanOrEqual(0.25 * total);
      // every row belongs to a request not yet served; row 0 to the oldest of them (nobody starves)
      for (let r = 0; r < ids.shape[0]!; r++) {
        const row = rowOf(ids, r);
        const i = reqs.findIndex((q, k) => !served.has(k) && lens[k]! <= ids.shape[1]! && q.input_ids!.data.every((v, j) => row[j] === v) && row.slice(lens[k]).every((_, j) => !mask || mask.data[r * ids.shape[1]! + lens[k]! + j] === 0));
        expect(i).toBeGreaterThanOrEqual(0);
        if (r === 0) expect(i).toBe([...reqs.keys()].find((k) => !served.has(k)));
        served.add(i);
      }
    }
    expect(served.size).toBe(lens.length);
    for (let i = 0; i < reqs.length; i++) expect(hostDiff(got[i]!.logits!, (await model.run(reqs[i]!)).logits!)).toBeLessThanOrEqual(1e-6);
  });

  it('maxPadFraction 0 joins only equal lengths; 1 joins any (the old behaviour)', async () => {
    const lens = [5, 9, 5, 9, 5];
    const exact = await mixedQueue(lens, 0);
    expect(exact.calls.map((c) => c.input_ids!.shape)).toEqual([[3, 5], [2, 9]]);
    const any = await mixedQueue(lens, 1);
    expect(any.calls.map((c) => c.input_ids!.shape)).toEqual([[5, 9]]);
    for (const r of [exact, any]) for (let i = 0; i < lens.length; i++) expect(hostDiff(r.got[i]!.logits!, (await r.model.run(r.reqs[i]!)).logits!)).toBeLessThanOrEqual(1e-6);
  });

  it('rejects a maxPadFraction outside [0, 1]', () => {
    expect(() => createBatcher(folderModel('tiny-bert-cls'), { maxPadFraction: 1.5 })).toThrow(/maxPadFraction must be a number in \[0, 1\], got 1.5/);
  });
});

describe('createBatcher: failures stay with their request', () => {
  it('a wrong shape or dtype is refused at once, naming the tensor, expected and found', async () => {
    const b = createBatcher(folderModel('mlp-digits'));
    const shape = await rejection(b.infer({ input: { dtype: 'float32', shape: [1, 63], data: new Float32Array(63) } }));
    expect(shape).toBeInstanceOf(RequestError);
    expect(shape.message).toBe("forwardpass: serve: input 'input': expected float32 [batch, 64], found float32 [1, 63] (dim 1 is 63, expected 64)");
    const dtype = await rejection(b.infer({ input: { dtype: 'int32', shape: [1, 64], data: new Int32Array(64) } }));
    expect(dtype.message).toMatch(/input 'input': expected float32 \[batch, 64\], found int32 \[1, 64\]/);
    const missing = await rejection(b.infer({}));
    expect(missing.message).toMatch(/missing input 'input'/);
    const unknown = await rejection(b.infer({ ...request('mlp-digits', 1, 1), extra: { dtype: 'float32', shape: [1], data: new Float32Array(1) } }));
    expect(unknown.message).toMatch(/unknown input 'extra'/);
    const short = await rejection(b.infer({ input: { dtype: 'float32', shape: [2, 64], data: new Float32Array(64) } }));
    expect(short.message).toMatch(/expected 128 float32 values/);
  });

  it('a request that fails inside the model (token id outside the vocabulary) fails alone; its batch mates succeed', async () => {
    const model = folderModel('tiny-bert-cls');
    const rec = recorded(model);
    const b = createBatcher(rec.model, { maxDelayMs: 20, maxPadFraction: 1 });
    const good = [request('tiny-bert-cls', 1, 1, 5), request('tiny-bert-cls', 2, 2, 9)];
    const bad = request('tiny-bert-cls', 1, 3, 4);
    bad.input_ids!.data[2] = 99;
    const [g0, e, g1] = await Promise.allSettled([b.infer(good[0]!), b.infer(bad), b.infer(good[1]!)]);
    expect(e!.status).toBe('rejected');
    expect(((e as PromiseRejectedResult).reason as Error).message).toMatch(/99/);
    for (const [r, req] of [[g0, good[0]], [g1, good[1]]] as const) {
      expect(r!.status).toBe('fulfilled');
      expect(hostDiff((r as PromiseFulfilledResult<Record<string, HostTensor>>).value.logits!, (await model.run(req!)).logits!)).toBeLessThanOrEqual(1e-6);
    }
    expect(rec.calls[0]!.input_ids!.shape[0]).toBe(4); // they did try together first
  });
});

describe('createBatcher: timeouts, cancellation, back-pressure, close', () => {
  it('a queued request times out with a timeout error; the batch ahead of it still finishes', async () => {
    const g = gated(folderModel('mlp-digits'));
    const b = createBatcher(g.model, { maxBatchSize: 1 });
    const first = b.infer(request('mlp-digits', 1, 1));
    const late = rejection(b.infer(request('mlp-digits', 1, 2), { timeoutMs: 5 }));
    const e = await late;
    expect(e).toBeInstanceOf(ServeError);
    expect((e as ServeError).code).toBe('timeout');
    g.open();
    expect((await first).logits!.shape).toEqual([1, 10]);
    expect(b.queueDepth).toBe(0);
  });

  it('AbortSignal: aborting a queued request rejects it and removes it; an aborted signal is refused at once', async () => {
    const g = gated(folderModel('mlp-digits'));
    const b = createBatcher(g.model, { maxBatchSize: 1 });
    const first = b.infer(request('mlp-digits', 1, 1));
    await new Promise((r) => setImmediate(r)); // the first one leaves the queue and runs
    const ac = new AbortController();
    const cancelled = rejection(b.infer(request('mlp-digits', 1, 2), { signal: ac.signal }));
    const kept = b.infer(request('mlp-digits', 1, 3));
    expect(b.queueDepth).toBe(2);
    ac.abort();
    expect(((await cancelled) as ServeError).code).toBe('aborted');
    expect(b.queueDepth).toBe(1);
    expect(((await rejection(b.infer(request('mlp-digits', 1, 4), { signal: ac.signal }))) as ServeError).code).toBe('aborted');
    g.open();
    await Promise.all([first, kept]);
    expect(g.calls.length).toBe(2);
  });

  it('a full queue refuses the next request at once (queue_full, 503) and takes requests again once it drains', async () => {
    const g = gated(folderModel('mlp-digits'));
    const b = createBatcher(g.model, { maxBatchSize: 1, maxQueue: 2 });
    const running = b.infer(request('mlp-digits', 1, 1));
    await new Promise((r) => setImmediate(r)); // the first one leaves the queue and runs
    const queued = [b.infer(request('mlp-digits', 1, 2)), b.infer(request('mlp-digits', 1, 3))];
    const e = (await rejection(b.infer(request('mlp-digits', 1, 4)))) as ServeError;
    expect(e.code).toBe('queue_full');
    expect(e.status).toBe(503);
    expect(e.message).toMatch(/queue is full \(2 requests waiting\)/);
    g.open();
    await Promise.all([running, ...queued]);
    expect((await b.infer(request('mlp-digits', 1, 5))).logits!.shape).toEqual([1, 10]);
  });

  it('close() refuses new requests, finishes every queued one without waiting for the delay, then resolves', async () => {
    const g = gated(folderModel('mlp-digits'));
    const b = createBatcher(g.model, { maxBatchSize: 2, maxDelayMs: 60_000 });
    const queued = [1, 2, 3, 4, 5].map((i) => b.infer(request('mlp-digits', 1, i)));
    const closed = b.close();
    expect(((await rejection(b.infer(request('mlp-digits', 1, 9)))) as ServeError).code).toBe('closed');
    g.open();
    const outs = await Promise.all(queued);
    await closed;
    expect(outs.length).toBe(5);
    expect(g.calls.map((c) => c.input![0])).toEqual([2, 2, 1]);
  });
});
