// tokenizer_config.json (transformers' side file): the special-token names, padding / truncation sides and
// model_max_length that batch encoding uses. Only the fields forwardpass reads are typed.
import { type Json, tokFail } from './errors.js';

export interface TokenizerConfig {
  padToken: string | null;
  bosToken: string | null;
  eosToken: string | null;
  unkToken: string | null;
  paddingSide: 'left' | 'right';
  truncationSide: 'left' | 'right';
  /** Longest input the model takes (tokens); Infinity when the file says nothing or gives transformers' 1e30 placeholder. */
  modelMaxLength: number;
}

const tokenName = (v: unknown): string | null => (typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as Json).content === 'string' ? (v as Json).content : null);

/** Read the fields forwardpass uses from a parsed tokenizer_config.json (missing file: pass {}). */
export function parseTokenizerConfig(cfg: Json): TokenizerConfig {
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) tokFail(`tokenizer_config.json must hold a JSON object, got ${JSON.stringify(cfg)?.slice(0, 60)}`);
  const side = (k: string): 'left' | 'right' => {
    const v = cfg[k] ?? 'right';
    if (v !== 'left' && v !== 'right') tokFail(`tokenizer_config.json: ${k} must be "left" or "right", got ${JSON.stringify(v)}`);
    return v;
  };
  const max = Number(cfg.model_max_length);
  return {
    padToken: tokenName(cfg.pad_token), bosToken: tokenName(cfg.bos_token), eosToken: tokenName(cfg.eos_token), unkToken: tokenName(cfg.unk_token),
    paddingSide: side('padding_side'), truncationSide: side('truncation_side'),
    modelMaxLength: Number.isFinite(max) && max > 0 && max < 1e15 ? max : Infinity,
  };
}
