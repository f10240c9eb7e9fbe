// Runs in headless Chromium: imports the built bundle, runs every fixture model's io cases on the requested
// backends and reports max abs differences (and the adapter) in window.__result.
import * as fp from '/dist/index.js';

const params = new URLSearchParams(location.search);
const backends = (params.get('backends') ?? 'cpu,webgpu').split(',');
const models = (params.get('models') ?? 'mlp-digits,cnn-digits,cnn-mnist,tiny-gpt,tiny-bert-cls').split(',');

async function bytes(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`fetch ${path}: ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function run() {
  const result = { adapter: null, cases: [] };
  if (backends.includes('webgpu')) result.adapter = (await fp.initWebGPU()).setup.adapter;
  for (const name of models) {
    const dir = `/test/fixtures/${name}`;
    const config = await (await fetch(`${dir}/config.json`)).text();
    const weights = await bytes(`${dir}/model.safetensors`);
    const io = await (await fetch(`${dir}/io.json`)).json();
    const files = {};
    for (const c of io.cases) for (const d of [...Object.values(c.inputs), ...Object.values(c.outputs)]) files[d.file] ??= await bytes(`${dir}/${d.file}`);
    for (const backend of backends) {
      const model = fp.loadModelFromBytes(config, weights, { device: backend });
      for (const c of io.cases) {
        const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, d]) => [k, fp.readArray(d, files[d.file], { device: backend })]));
        const t0 = performance.now();
        const out = model.run(inputs);
        let maxDiff = 0;
        for (const [k, d] of Object.entries(c.outputs)) {
          const got = await out[k].data();
          const want = await fp.readArray(d, files[d.file]).data();
          for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
        }
        result.cases.push({ model: name, backend, case: c.name, maxDiff, ms: performance.now() - t0 });
        for (const t of [...Object.values(inputs), ...Object.values(out)]) t.dispose();
      }
      model.dispose();
    }
  }
  return result;
}

run().then((r) => { window.__result = r; }, (e) => { window.__result = { error: String(e && e.stack || e) }; });
