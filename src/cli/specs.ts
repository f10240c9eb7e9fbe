// What each `forwardpass` command accepts, in one table per command: the argument parser reads the options from
// it and `forwardpass <command> --help` prints it (usage, one line per option with its default, examples).
import type { CommandSpec, FlagSpec } from './args.js';
import { NOISE_RULE } from './bench-compare.js';
import { DIVERGENCE_RULE } from '../trace/divergence.js';
import { THREADS_FLAG } from './threads.js';

const backend = (what: string): FlagSpec => ({ value: true, arg: 'cpu|webgpu|auto', default: 'cpu', help: `where ${what} runs: cpu, webgpu (an error without a WebGPU adapter) or auto (webgpu when an adapter exists, else cpu)` });
const input: FlagSpec = { value: true, repeat: true, arg: 'NAME=FILE.npy', help: 'one model input read from an .npy file (float32/float16, or int32/int64 for token ids); give one per input' };

export const RUN_SPEC: CommandSpec = {
  name: 'run',
  summary: 'run a model folder or an .onnx file on .npy inputs and write one .npy per output',
  usage: ['forwardpass run <model-folder | model.onnx> --input NAME=FILE.npy [--input ...] --out DIR [--backend cpu|webgpu|auto] [--precision f32|f16|int8] [--threads T]'],
  about: [
    'A model folder holds config.json and model.safetensors (a quantized folder from `forwardpass quantize` too);',
    'the inputs are checked against the inputs config.json declares. Prints each output\'s shape and the time taken.',
    'A Hugging Face folder (config.json with model_type; model.safetensors or shards) takes HF\'s input names (input_ids,',
    'attention_mask, token_type_ids, position_ids, pixel_values) and writes HF\'s output names (logits.npy,',
    'last_hidden_state.npy, pooler_output.npy).',
  ],
  options: {
    input,
    out: { value: true, arg: 'DIR', help: 'folder to write <output-name>.npy into (created when missing; required)' },
    backend: backend('the model'),
    precision: { value: true, arg: 'f32|f16|int8', default: 'f32', help: 'f16 stores weights and float inputs as halves; int8 quantizes a float model on load (per-channel weights, dynamic activations)' },
    threads: THREADS_FLAG,
  },
  examples: [
    'forwardpass run test/fixtures/mlp-digits --input input=x.npy --out out/',
    'forwardpass run test/fixtures/tiny-gpt/model.onnx --input input_ids=ids.npy --out out/ --backend auto --precision int8',
  ],
};

export const INSPECT_SPEC: CommandSpec = {
  name: 'inspect',
  summary: 'describe a .safetensors, .npy, .onnx, .gguf or config.json file or a model folder (tensors, dtypes, shapes, bytes, metadata)',
  usage: ['forwardpass inspect <file.safetensors | file.npy | model.onnx | model.gguf | config.json | model-folder> [--json]'],
  about: [
    'An .onnx file shows its opset, inputs and outputs, an op histogram and which ops each backend supports;',
    'a config.json the model it describes. A Hugging Face folder (config.json with model_type) shows the architecture, the',
    'parameter count, the weight dtypes, the inputs and outputs, and the tokenizer (type, vocabulary size) when it has one.',
  ],
  options: {
    json: { value: false, help: 'print the description as JSON instead of text' },
  },
  examples: ['forwardpass inspect test/fixtures/tiny-gpt', 'forwardpass inspect test/fixtures/tiny-bert-cls/model.onnx --json', 'forwardpass inspect path/to/hf-folder'],
};

export const GENERATE_SPEC: CommandSpec = {
  name: 'generate',
  summary: 'generate text with a decoder model folder (forwardpass or Hugging Face) or a llama.cpp .gguf file and its KV cache: greedy or seeded sampling, streamed',
  usage: ['forwardpass generate <model-folder | model.gguf> (--prompt "text" | --prompt-ids 1,2,3) [--max-new-tokens N] [--temperature T --top-k K --top-p P --min-p M --seed S] [--repetition-penalty R] [--json] [--no-cache] [--backend cpu|webgpu|auto] [--precision f32|f16|int8] [--threads T]'],
  about: [
    'Streams the prompt, then the generated text as it comes, to stdout. A Hugging Face folder uses its tokenizer.json (no special',
    'tokens added to the prompt, none printed) and stops at the eos_token_id(s) of generation_config.json (else config.json);',
    'a forwardpass folder uses its character tokenizer; a .gguf file its own tokenizer.ggml.* vocabulary (BOS added as its',
    'add_bos_token says; no EOS stop). --prompt-ids gives the prompt as token ids (a folder without a tokenizer).',
    'Greedy (argmax) unless --temperature, --top-k, --top-p or --min-p is given (or generation_config.json sets do_sample).',
    'Sampling applies, as Hugging Face does: repetition penalty, temperature, top-k, top-p, min-p; then draws with the',
    'mulberry32 PRNG seeded by --seed, so the same seed and settings give the same tokens.',
  ],
  options: {
    prompt: { value: true, arg: 'TEXT', help: 'the text to continue (this or --prompt-ids is required)' },
    'prompt-ids': { value: true, arg: 'ID,ID,...', help: 'the prompt as comma-separated token ids instead of text' },
    'max-new-tokens': { value: true, arg: 'N', default: '50', help: 'the most tokens to generate (fewer when an EOS id comes)' },
    temperature: { value: true, arg: 'T', default: '1 (greedy without sampling options)', help: 'divide the logits by T > 0 and sample; 0 means greedy' },
    'top-k': { value: true, arg: 'K', help: 'sample among the K most likely tokens only (ties with the K-th kept)' },
    'top-p': { value: true, arg: 'P', help: 'sample among the most likely tokens whose probabilities sum to at least P, 0 < P <= 1' },
    'min-p': { value: true, arg: 'M', help: 'drop tokens less likely than M times the most likely one, 0 <= M <= 1' },
    'repetition-penalty': { value: true, arg: 'R', default: '1 (off)', help: 'divide positive logits and multiply negative ones of every token already in the text by R (greedy too)' },
    seed: { value: true, arg: 'S', default: '0', help: 'integer seed of the sampling PRNG (mulberry32)' },
    json: { value: false, help: 'print one line {"ids": [new ids], "text": "new text"} instead of streaming' },
    'no-cache': { value: false, help: 'recompute the whole sequence at every step instead of using the KV cache (slower; same tokens)' },
    backend: backend('the model'),
    precision: { value: true, arg: 'f32|f16|int8', default: 'f32 (a quantized .gguf: int8)', help: 'f16 stores the weights as halves; int8 quantizes a Hugging Face model\'s Linear layers on load (a .gguf file\'s Q8_0 weights as they are)' },
    threads: THREADS_FLAG,
  },
  examples: [
    'forwardpass generate test/fixtures/tiny-gpt --prompt "This License " --max-new-tokens 50',
    'forwardpass generate path/to/hf-llama --prompt "Once upon a time" --temperature 0.8 --top-p 0.95 --seed 7',
    'forwardpass generate path/to/hf-gpt2 --prompt-ids 312,413,376 --max-new-tokens 20 --json',
  ],
};

export const QUANTIZE_SPEC: CommandSpec = {
  name: 'quantize',
  summary: 'quantize a float model folder to int8 and write a model folder that run, generate and inspect take as it is',
  usage: ['forwardpass quantize <model-folder> -o <out-folder> [--weights per-channel|q8_0] [--activations dynamic|static|none] [--calibration [NAME=]FILE.npy ...] [--percentile P] [--skip fc1,fc3] [--weight-only LAYER,...]'],
  about: ['Writes <out-folder>/config.json and model.safetensors (int8 quants and scales) and prints a per-layer report.'],
  options: {
    out: { value: true, arg: 'DIR', help: 'the folder to write (required; must differ from the model folder)' },
    weights: { value: true, arg: 'per-channel|q8_0', default: 'per-channel', help: 'weight format: one scale per output channel, or ggml-style blocks of 32 with a scale each' },
    activations: { value: true, arg: 'dynamic|static|none', default: 'dynamic', help: 'activation scales: measured on every call, fixed from calibration inputs, or activations kept float (weight-only)' },
    calibration: { value: true, repeat: true, arg: '[NAME=]FILE.npy', help: 'sample inputs for --activations static (FILE.npy alone feeds the model\'s first input)' },
    percentile: { value: true, arg: 'P', default: '100', help: 'static scales from this percentile of |x| over the calibration inputs, 0 < P <= 100 (100 is the max)' },
    skip: { value: true, arg: 'LAYER,...', help: 'comma-separated layer names to leave in float' },
    'weight-only': { value: true, arg: 'LAYER,...', help: 'comma-separated layer names whose activations stay float (int8 weights only)' },
  },
  short: { o: 'out' },
  examples: [
    'forwardpass quantize test/fixtures/cnn-mnist -o cnn-mnist-int8/',
    'forwardpass quantize test/fixtures/mlp-digits -o mlp-int8/ --activations static --calibration x.npy --percentile 99.9',
  ],
};

export const TRACE_SPEC: CommandSpec = {
  name: 'trace',
  summary: 'print one line per op of a forward pass (stats, histogram sparkline, time), step through it, or compare two settings',
  usage: ['forwardpass trace <model-folder|model.onnx> [--input NAME=FILE.npy ...] [--backend cpu|webgpu|auto] [--precision f32|f16|int8] [--compare f32|f16|int8|cpu|webgpu|BACKEND:PRECISION] [--threshold X] [--step] [--full] [--bins N] [--sync]'],
  about: [
    'Without --input, the first case of the folder\'s io.json (the fixtures\' layout) is used.',
    `--compare runs the model a second time at the named precision and/or backend and prints, per op, how far the two runs differ. ${DIVERGENCE_RULE}`,
    'The step-through page (forwardpass serve) applies the same rule.',
  ],
  options: {
    input,
    backend: backend('the traced model'),
    precision: { value: true, arg: 'f32|f16|int8', default: 'f32', help: 'precision of the traced model' },
    compare: { value: true, arg: 'SETTING', help: 'trace again at this precision, backend or BACKEND:PRECISION and print per-op differences (the more precise of the two runs is the reference)' },
    threshold: { value: true, arg: 'X', default: 'by the less precise run: int8 0.05, f16 0.01, f32 0.001', help: 'with --compare: a relative max difference above X marks an op as diverged' },
    step: { value: false, help: 'wait for Enter (or one stdin line from a pipe) after each op; q stops' },
    full: { value: false, help: 'print every op\'s values PyTorch-style, not only stats' },
    bins: { value: true, arg: 'N', default: '16', help: 'histogram bins of the sparkline' },
    sync: { value: false, help: 'on webgpu, time each op alone from submit to completion instead of its encoding time' },
  },
  examples: [
    'forwardpass trace test/fixtures/tiny-gpt --compare int8 --step',
    'forwardpass trace test/fixtures/cnn-mnist --input input=x.npy --backend webgpu --sync --full',
  ],
};

export const BENCH_SPEC: CommandSpec = {
  name: 'bench',
  summary: 'latency percentiles, throughput, cold start and accuracy vs float32 of a model folder; compare two runs',
  usage: [
    'forwardpass bench <model-folder> [--backend cpu,webgpu] [--precision f32,f16,int8] [--batch 1,8,64] [--time-ms 300] [--rounds 2] [--json FILE] [--no-accuracy] [--threads T]',
    'forwardpass bench compare <a.json> <b.json> [--all]   (see forwardpass bench compare --help)',
  ],
  about: ['The float32 CPU run is always included: it is the reference for accuracy and differences.'],
  options: {
    backend: { value: true, arg: 'LIST', default: 'cpu', help: 'comma-separated backends to time: cpu, webgpu, auto' },
    precision: { value: true, arg: 'LIST', default: 'f32,f16,int8', help: 'comma-separated precisions to time' },
    batch: { value: true, arg: 'LIST', default: '1,8,64', help: 'comma-separated batch sizes' },
    'time-ms': { value: true, arg: 'MS', default: '300', help: 'timed milliseconds per (backend, precision, batch) figure and round' },
    rounds: { value: true, arg: 'N', default: '2', help: 'round-robin passes over all figures (spreads machine noise over them)' },
    json: { value: true, arg: 'FILE', help: 'also write the results as JSON (the input of bench compare)' },
    'no-accuracy': { value: false, help: 'skip the accuracy-vs-float32 table' },
    threads: THREADS_FLAG,
  },
  examples: [
    'forwardpass bench test/fixtures/mlp-digits --precision f32,f16,int8 --batch 1,8,64 --json run.json',
    'forwardpass bench test/fixtures/cnn-mnist --backend cpu,webgpu --time-ms 1000 --rounds 3',
  ],
};

export const BENCH_COMPARE_SPEC: CommandSpec = {
  name: 'bench compare',
  summary: 'compare two bench --json results; exit 1 when a figure regressed beyond noise',
  usage: ['forwardpass bench compare <a.json> <b.json> [--all]'],
  about: [`a.json is the baseline, b.json the new run; ${NOISE_RULE}.`],
  options: {
    all: { value: false, help: 'list every row, also those within noise' },
  },
  examples: ['forwardpass bench compare old.json run.json'],
};

export const SERVE_SPEC: CommandSpec = {
  name: 'serve',
  summary: 'serve models over HTTP with dynamic batching (--model), or the step-through web page (no --model)',
  usage: [
    'forwardpass serve --model <folder | model.onnx | model.gguf> [--model ...] [--name N ...] [--host H] [--port P] [--max-batch B] [--max-delay-ms D] [--max-pad-fraction F] [--max-queue Q] [--timeout-ms T] [--max-body-mb M] [--backend cpu|webgpu|auto] [--threads T]',
    'forwardpass serve [--port N] [--models DIR]   (the step-through page, after npm run build)',
  ],
  about: [
    'With --model: a model server speaking the KServe / Triton v2 inference protocol (GET /v2, /v2/health/live, /v2/health/ready,',
    '/v2/models/{name}, /v2/models/{name}/ready; POST /v2/models/{name}/infer), POST /v1/completions (causal LMs: Hugging Face',
    'folders, .gguf files, tiny-gpt; text or token-id prompts, max_tokens, temperature, top_p, top_k, seed, stop, n, echo, "stream"',
    'for server-sent events; greedy unless sampling is asked for or generation_config.json samples) and POST /v1/embeddings',
    '(encoders), GET /metrics (Prometheus). Concurrent infer requests are joined into one forward pass of up to --max-batch rows,',
    'waiting at most --max-delay-ms; a full queue answers 503. Completions each keep their own KV cache and take turns on their',
    'model one token at a time (at most --max-queue generating per model). SIGTERM or Ctrl-C stops accepting, finishes what',
    'was received, then exits. Without --model: the step-through page on 127.0.0.1 only.',
  ],
  options: {
    model: { value: true, repeat: true, arg: 'PATH', help: 'a model folder (forwardpass or Hugging Face: config.json + model.safetensors), an .onnx file or a .gguf file to serve; repeat for several models' },
    name: { value: true, repeat: true, arg: 'N', default: "the folder's name (an .onnx or .gguf file's without the extension)", help: 'the name a --model is served under, in the order of the --model options' },
    host: { value: true, arg: 'H', default: '127.0.0.1', help: 'address the model server listens on (0.0.0.0 opens it to the network)' },
    port: { value: true, arg: 'N', default: '8080', help: 'TCP port (0 picks a free one)' },
    'max-batch': { value: true, arg: 'B', default: '32', help: 'most rows in one forward pass; 1 turns dynamic batching off' },
    'max-delay-ms': { value: true, arg: 'D', default: '0', help: 'how long the first queued request may wait for others to join its batch (0: a batch holds what queued while the last pass ran)' },
    'max-pad-fraction': { value: true, arg: 'F', default: '0.25', help: 'token models: a queued request joins a batch only while padding stays at most this share of the batch\'s tokens (0: equal lengths only, 1: any length); the oldest request always leads the next batch' },
    'max-queue': { value: true, arg: 'Q', default: '256', help: 'most requests waiting per model (and completions generating per model); one more is answered 503 at once' },
    'timeout-ms': { value: true, arg: 'T', default: '30000', help: 'a request still unanswered after T ms gets 504 (a completion: any one wait for its turn on the model)' },
    'max-body-mb': { value: true, arg: 'M', default: '16', help: 'larger request bodies get 413' },
    backend: backend('each served model'),
    threads: THREADS_FLAG,
    models: { value: true, arg: 'DIR', default: "the package's test/fixtures in a source checkout", help: 'page only: a folder of model folders (or one model folder) the page lists' },
  },
  examples: [
    'forwardpass serve --model test/fixtures/mlp-digits --model test/fixtures/tiny-gpt --port 8000 --max-batch 32 --max-delay-ms 1',
    'forwardpass serve --model test/fixtures/tiny-bert-cls/model.onnx --name bert --max-batch 1',
    'forwardpass serve --model models/Qwen2.5-0.5B --model llama-q8_0.gguf --name llama',
    'forwardpass serve',
    'forwardpass serve --port 0 --models ~/models',
  ],
};

/** Every top-level command's spec, in the order `forwardpass --help` lists them. */
export const TOKENIZE_SPEC: CommandSpec = {
  name: 'tokenize',
  summary: 'encode JSON strings or decode JSON id arrays, one per stdin line, with a Hugging Face tokenizer.json',
  usage: ['forwardpass tokenize <folder | tokenizer.json> [--add-special-tokens] [--decode [--skip-special-tokens]]'],
  about: [
    'Reads one JSON value per line on stdin and writes one JSON object per line on stdout.',
    'Encoding (default): each line is a JSON string, e.g. "Hello world"; the answer is {"ids": [...], "tokens": [...], "offsets": [[start, end], ...]}.',
    'Offsets are [start, end) UTF-16 indices into the string (JavaScript string positions; the Python tokenizers library counts',
    'code points instead, which differs only around characters outside the BMP).',
    'With --decode each line is a JSON array of token ids, e.g. [9906, 1917]; the answer is {"text": "..."}.',
    'The tokenizer is a tokenizer.json (BPE, WordPiece or Unigram), given as the file or as a folder holding it;',
    'tokenizer_config.json beside it is read when present. Blank lines are skipped.',
  ],
  options: {
    'add-special-tokens': { value: false, help: 'apply the post-processor\'s template (e.g. [CLS] ... [SEP], <s> ...)' },
    decode: { value: false, help: 'decode id arrays instead of encoding strings' },
    'skip-special-tokens': { value: false, help: 'with --decode, leave out special tokens' },
  },
  examples: [
    'forwardpass tokenize test/fixtures/tokenizers/bpe-bytelevel < texts.jsonl      (one JSON string per line)',
    'forwardpass tokenize path/to/llama3 --decode --skip-special-tokens < ids.jsonl  (one JSON id array per line)',
  ],
};

export const COMMAND_SPECS: readonly CommandSpec[] = [RUN_SPEC, INSPECT_SPEC, GENERATE_SPEC, QUANTIZE_SPEC, TRACE_SPEC, BENCH_SPEC, SERVE_SPEC, TOKENIZE_SPEC];

export const RUN_USAGE = RUN_SPEC.usage[0]!;
export const INSPECT_USAGE = INSPECT_SPEC.usage[0]!;
export const GENERATE_USAGE = GENERATE_SPEC.usage[0]!;
export const QUANTIZE_USAGE = QUANTIZE_SPEC.usage[0]!;
export const TRACE_USAGE = TRACE_SPEC.usage[0]!;
export const BENCH_USAGE = BENCH_SPEC.usage[0]!;
export const SERVE_USAGE = SERVE_SPEC.usage[0]!;
