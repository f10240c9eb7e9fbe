// Text generation for the model server: a causal LM with its tokenizer and generation defaults, one KV cache per
// completion (streamText -> generateSteps), and a per-model turn queue so that concurrent completions take turns one
// forward pass (one token) at a time instead of running into each other. Stop strings are cut on decoded text.
import type { CausalLM } from '../nn/models/generate.js';
import { streamText, type GenerationDefaults, type TextCodec, type TextGenerateOptions, type TextPiece } from '../text/generate.js';
import { ServeError, type InferOptions } from './batcher.js';

/** A causal LM served for /v1/completions. */
export interface TextGenerator {
  model: CausalLM;
  /** Encodes text prompts and decodes the output; null: prompts are token ids and the text is empty. */
  codec: TextCodec | null;
  /** The folder's generation_config.json (EOS and pad ids, sampling settings); null: none (greedy, no EOS). */
  defaults: GenerationDefaults | null;
  /** Encode text prompts with the tokenizer's special tokens (a GGUF file's BOS); default false, as `forwardpass generate`. */
  addSpecialTokens?: boolean;
}

/**
 * The positions a causal LM was trained for: its context where it has a position table (GPT-2, tiny-gpt), else
 * config.json's max_position_embeddings (a RoPE model's cfg.context is unbounded: it never slides a window).
 */
export function trainedContext(model: CausalLM): number {
  if (Number.isFinite(model.cfg.context)) return model.cfg.context;
  const n = (model as { config?: Record<string, unknown> }).config?.max_position_embeddings;
  return typeof n === 'number' && n > 0 ? n : Infinity;
}

/** Resolves after the I/O callbacks already due (setImmediate; a 0 ms timer where there is none). */
const nextTurn = (): Promise<void> => new Promise((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));

/**
 * Turns on one model: `acquire` resolves when it is the caller's turn (first come, first served) and hands back the
 * release. A wait is given up on abort or timeout; `depth` is how many wait.
 */
export class TurnQueue {
  private busy = false;
  private readonly waiting: { go: () => void }[] = [];

  get depth(): number {
    return this.waiting.length;
  }

  async acquire(io: InferOptions = {}): Promise<() => void> {
    if (io.signal?.aborted) throw new ServeError('forwardpass: serve: the request was cancelled', 'aborted', 499);
    if (this.busy) {
      await new Promise<void>((resolve, reject) => {
        const w = { go: () => { cleanup(); resolve(); } };
        const leave = (e: ServeError) => {
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          cleanup();
          reject(e);
        };
        const onAbort = () => leave(new ServeError('forwardpass: serve: the request was cancelled', 'aborted', 499));
        const t = io.timeoutMs !== undefined ? setTimeout(() => leave(new ServeError(`forwardpass: serve: the request waited over ${io.timeoutMs} ms for its turn on the model`, 'timeout', 504)), io.timeoutMs) : null;
        const cleanup = () => { if (t) clearTimeout(t); io.signal?.removeEventListener('abort', onAbort); };
        io.signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(w);
      });
    }
    this.busy = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.go(); // the turn passes straight on: busy stays true
      else this.busy = false;
    };
  }
}

/** Where a completion stopped: 'stop' (an EOS id or a stop string), 'length' (max_tokens). */
export type FinishReason = 'stop' | 'length';

/** One step of a completion as the server sends it: the new token, the text it releases, and the finish on the last. */
export interface CompletionStep {
  id: number;
  text: string;
  finish: FinishReason | null;
}

/**
 * The length of the longest end of `text` that begins one of `stops` (not the whole of it): text that may still turn
 * into a stop string and so must not be sent yet.
 */
export function heldBack(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > hold; k--) {
      if (text.endsWith(s.slice(0, k))) { hold = k; break; }
    }
  }
  return hold;
}

/**
 * Generate one completion of `prompt` (ids) with `gen`, one token per turn of `turns`, as steps whose texts
 * concatenate to the completion: decoded as streamText decodes (never a cut multi-byte character), cut before the
 * first stop string (which is left out, and ends the completion). Stops at the request's abort; leaving the loop early
 * ends the generation and frees its KV cache.
 */
export async function* completionSteps(gen: TextGenerator, prompt: readonly number[], opts: TextGenerateOptions & { maxNewTokens: number }, stops: readonly string[], turns: TurnQueue, io: InferOptions): AsyncGenerator<CompletionStep> {
  const codec: TextCodec = gen.codec ?? { decode: () => '' };
  const eos = opts.eosTokenId === undefined || opts.eosTokenId === null ? [] : typeof opts.eosTokenId === 'number' ? [opts.eosTokenId] : opts.eosTokenId;
  const pieces = streamText(gen.model, codec, prompt, opts);
  const longest = Math.max(0, ...stops.map((s) => s.length));
  let text = '';
  let sent = 0;
  let count = 0;
  try {
    for (;;) {
      // a step's awaits are microtasks: without a pass through the event loop, a completion would hold it to the end
      // (no other request answered, a closed socket never noticed)
      await nextTurn();
      const release = await turns.acquire(io);
      let r: IteratorResult<TextPiece>;
      try {
        r = await pieces.next();
      } finally {
        release();
      }
      if (r.done) return;
      count++;
      text += r.value.text;
      const from = Math.max(0, sent - longest);
      let cut = -1;
      for (const s of stops) {
        const i = text.indexOf(s, from);
        if (i >= 0 && (cut < 0 || i < cut)) cut = i;
      }
      if (cut >= 0) {
        yield { id: r.value.id, text: text.slice(sent, Math.max(sent, cut)), finish: 'stop' };
        return;
      }
      // the last step (max_tokens reached, or an EOS id) flushes what was held back for the stop strings
      const last = count === opts.maxNewTokens || eos.includes(r.value.id);
      const upTo = last ? text.length : text.length - heldBack(text.slice(sent), stops);
      yield { id: r.value.id, text: text.slice(sent, upTo), finish: last ? (count === opts.maxNewTokens && !eos.includes(r.value.id) ? 'length' : 'stop') : null };
      sent = upTo;
      if (last) return;
    }
  } finally {
    await pieces.return(undefined);
  }
}
