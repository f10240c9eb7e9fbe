// A character tokenizer: one token per Unicode character, id = index in the config's `vocab` list.

/**
 * Maps characters to ids and back from a vocabulary list (config.json `vocab`).
 *
 * @example const tok = CharTokenizer.fromConfig(config); tok.decode(tok.encode('This License'))
 */
export class CharTokenizer {
  private readonly ids = new Map<string, number>();

  constructor(readonly vocab: readonly string[]) {
    if (!Array.isArray(vocab) || vocab.length === 0) throw new TypeError(`forwardpass: CharTokenizer: vocab must be a non-empty list of characters`);
    vocab.forEach((ch, i) => {
      if (typeof ch !== 'string' || [...ch].length !== 1) throw new TypeError(`forwardpass: CharTokenizer: vocab entry ${i} must be a single character, got ${JSON.stringify(ch)}`);
      if (this.ids.has(ch)) throw new Error(`forwardpass: CharTokenizer: the character ${JSON.stringify(ch)} appears twice in the vocab (ids ${this.ids.get(ch)} and ${i})`);
      this.ids.set(ch, i);
    });
  }

  /** From a config with a `vocab` list of characters. */
  static fromConfig(config: { vocab?: unknown }): CharTokenizer {
    if (!Array.isArray(config?.vocab)) {
      throw new TypeError(`forwardpass: CharTokenizer.fromConfig: expected config.vocab to be a list of characters, got ${config?.vocab === undefined ? 'nothing' : typeof config.vocab}`);
    }
    return new CharTokenizer(config.vocab as string[]);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Text -> ids; a character outside the vocab is an error naming it and its position. */
  encode(text: string): number[] {
    const out: number[] = [];
    let pos = 0;
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) {
        const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
        throw new RangeError(`forwardpass: CharTokenizer.encode: the character ${JSON.stringify(ch)} (${code}) at position ${pos} is not in the vocabulary of ${this.vocab.length} characters`);
      }
      out.push(id);
      pos++;
    }
    return out;
  }

  /** Ids -> text; an id outside 0..vocabSize-1 is an error. */
  decode(ids: readonly number[] | ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const ch = Number.isInteger(id) ? this.vocab[id] : undefined;
      if (ch === undefined) throw new RangeError(`forwardpass: CharTokenizer.decode: id ${id} at position ${i} is outside the vocabulary 0..${this.vocab.length - 1}`);
      s += ch;
    }
    return s;
  }
}
