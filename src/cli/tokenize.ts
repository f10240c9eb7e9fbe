// `forwardpass tokenize <folder | tokenizer.json>`: JSON lines in, JSON lines out. Each input line is a string to
// encode ({"ids","tokens","offsets"} out) or, with --decode, an array of ids ({"text"} out).
import { createInterface } from 'node:readline';
import { parseArgs, UsageError } from './args.js';
import { TOKENIZE_SPEC } from './specs.js';

const TOKENIZE_USAGE = TOKENIZE_SPEC.usage[0]!;
import { loadTokenizer } from '../text/load-file.js';

export async function tokenizeCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, TOKENIZE_SPEC);
  const [src, ...extra] = args.positionals;
  if (!src || extra.length) throw new UsageError(`tokenize: expected one folder or tokenizer.json, got ${args.positionals.length}; usage: ${TOKENIZE_USAGE}`);
  const decode = args.flags.has('decode');
  if (args.flags.has('skip-special-tokens') && !decode) throw new UsageError('tokenize: --skip-special-tokens only applies with --decode');
  if (args.flags.has('add-special-tokens') && decode) throw new UsageError('tokenize: --add-special-tokens only applies when encoding (not with --decode)');
  const tok = await loadTokenizer(src);
  const addSpecialTokens = args.flags.has('add-special-tokens'), skipSpecialTokens = args.flags.has('skip-special-tokens');
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let n = 0;
  let out = '';
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    let v: unknown;
    try { v = JSON.parse(line); } catch (e) { throw new Error(`forwardpass: tokenize: stdin line ${n} is not JSON (${(e as Error).message})`); }
    if (decode) {
      if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0)) throw new Error(`forwardpass: tokenize: stdin line ${n} must be a JSON array of token ids with --decode, got ${line.slice(0, 60)}`);
      out += JSON.stringify({ text: tok.decode(v as number[], { skipSpecialTokens }) }) + '\n';
    } else {
      if (typeof v !== 'string') throw new Error(`forwardpass: tokenize: stdin line ${n} must be a JSON string to encode (or use --decode for id arrays), got ${line.slice(0, 60)}`);
      const e = tok.encode(v, { addSpecialTokens });
      out += JSON.stringify({ ids: e.ids, tokens: e.tokens, offsets: e.offsets }) + '\n';
    }
    if (out.length > 1 << 16) { process.stdout.write(out); out = ''; }
  }
  process.stdout.write(out);
}
