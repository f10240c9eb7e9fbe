// One-sentence errors for tokenizer files: `forwardpass: tokenizer: ...`, naming the field, what was expected and
// what was found; plus the loose JSON object type the component builders read.

/** A parsed tokenizer.json object (fields are checked where they are read). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export function tokFail(msg: string): never {
  throw new Error(`forwardpass: tokenizer: ${msg}`);
}

/** Throws for a component `type` this implementation does not know, listing the ones it does. */
export function unknownType(what: string, type: unknown, supported: readonly string[]): never {
  return tokFail(`unsupported ${what} type ${JSON.stringify(type)} (supported: ${supported.join(', ')})`);
}

/** The `type` field of a component object, or a clear error. */
export function typeOf(what: string, obj: unknown): string {
  if (!obj || typeof obj !== 'object' || typeof (obj as Json).type !== 'string') tokFail(`expected a ${what} object with a "type" field, got ${JSON.stringify(obj)?.slice(0, 80)}`);
  return (obj as Json).type as string;
}
