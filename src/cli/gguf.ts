// The CLI on .gguf files: `inspect model.gguf` (metadata, escaped, and tensors), the model and tokenizer that
// `generate model.gguf --prompt` runs (the file's own, nothing else needed), and `quantize` to Q8_0.
// generate.ts and inspect.ts branch here on the extension.
import { readFileSync, writeFileSync } from 'node:fs';
import { readGguf, type GgufKv } from '../io/gguf/reader.js';
import { ggufModelFromFile, type GgufPrecision } from '../io/gguf/model.js';
import { ggufTokenizer } from '../io/gguf/tokenizer.js';
import { ggufFromLlama } from '../io/gguf/save.js';
import type { LlamaForCausalLM } from '../nn/models/llama.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { UsageError } from './args.js';
import { printable } from './printable.js';
import { human, table } from './text.js';

const readFile = (path: string) => {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`forwardpass: cannot read '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
};

const show = (v: unknown): string => (typeof v === 'bigint' ? String(v) : typeof v === 'string' ? JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v) : String(v));

function describeKv(kv: GgufKv): string {
  if (kv.type !== 'ARRAY') return `${kv.type} ${show(kv.value)}`;
  const a = kv.value as unknown[];
  return `[${a.length} x ${kv.itemType}] ${a.slice(0, 6).map(show).join(', ')}${a.length > 6 ? ', ...' : ''}`;
}

/** `forwardpass inspect model.gguf`: header, metadata (escaped) and the tensors with type, shape, ne and bytes. */
export function inspectGguf(path: string): { summary: Record<string, unknown>; text: string } {
  const f = readGguf(readFile(path), { name: path });
  const tensors = [...f.tensors.values()].map((t) => ({ name: t.name, type: t.type, shape: t.shape, ne: t.ne, bytes: t.byteLength }));
  const bytes = tensors.reduce((a, t) => a + t.bytes, 0);
  const text = [
    `${printable(path)}: GGUF v${f.version}, ${f.metadata.size} metadata keys, ${tensors.length} tensors, ${human(bytes)} of data (alignment ${f.alignment})`,
    '',
    'metadata:',
    ...[...f.metadata].map(([k, kv]) => `  ${printable(k)}: ${printable(describeKv(kv))}`),
    '',
    table([['name', 'type', 'shape', 'ne', 'bytes'], ...tensors.map((t) => [printable(t.name), t.type, `[${t.shape.join(', ')}]`, `[${t.ne.join(', ')}]`, String(t.bytes)])]),
  ].join('\n');
  const metadata = Object.fromEntries([...f.metadata].map(([k, kv]) => [k, kv.type === 'ARRAY' ? { type: kv.itemType, length: (kv.value as unknown[]).length } : typeof kv.value === 'bigint' ? String(kv.value) : kv.value]));
  return { summary: { path, format: 'gguf', version: f.version, alignment: f.alignment, metadata, tensors, bytes }, text };
}

/**
 * The model and tokenizer of a .gguf file for `forwardpass generate` (which then runs its usual greedy or sampling
 * path on them). `precision` as given to --precision (undefined: int8 for quantized files, f32 for float ones). A file
 * without tokenizer.ggml.* metadata gives no tokenizer (the prompt then comes as ids).
 */
export async function loadGgufForGenerate(path: string, precision: string | undefined, device: string): Promise<{ model: LlamaForCausalLM; tokenizer: Tokenizer | null }> {
  if (precision !== undefined && !['f32', 'f16', 'int8'].includes(precision)) throw new UsageError(`generate: --precision for a .gguf file must be one of f32, f16, int8, got '${precision}'`);
  const file = readGguf(readFile(path), { name: path });
  const tokenizer = file.metadata.has('tokenizer.ggml.model') ? await ggufTokenizer(file) : null;
  return { model: await ggufModelFromFile(file, { precision: precision as GgufPrecision | undefined, device }), tokenizer };
}

/** `forwardpass quantize model.gguf -o out.gguf`: every matrix to Q8_0 (Q8_0 ones as they are), tokenizer and names kept. */
export async function quantizeGguf(path: string, out: string): Promise<void> {
  if (!/\.gguf$/i.test(out)) throw new UsageError(`quantize: a .gguf model is written to a .gguf file; -o '${out}' does not end in .gguf`);
  const file = readGguf(readFile(path), { name: path });
  const model = await ggufModelFromFile(file, { precision: 'int8' });
  try {
    const keep = Object.fromEntries([...file.metadata].filter(([k]) => k.startsWith('tokenizer.') || k === 'general.name'));
    const name = typeof keep['general.name']?.value === 'string' ? (keep['general.name'].value as string) : undefined;
    const bytes = await ggufFromLlama(model, { name, metadata: keep });
    writeFileSync(out, bytes);
    process.stdout.write(`quantized ${printable(path)} to Q8_0: wrote ${printable(out)} (${human(bytes.length)}; the input was ${human(file.bytes.length)})\n`);
  } finally {
    model.dispose();
  }
}
