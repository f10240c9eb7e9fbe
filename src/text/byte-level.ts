// GPT-2's byte-to-character table: every byte maps to a printable character (printable Latin-1 bytes to
// themselves, the rest to U+0100 onwards), so byte-level BPE vocabularies are plain strings.

export const BYTE_TO_CHAR: string[] = (() => {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const table: string[] = new Array(256);
  for (const b of keep) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  return table;
})();

export const CHAR_TO_BYTE: Map<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const encoder = new TextEncoder();

/** The byte-level form of `s`: one table character per UTF-8 byte. */
export function toByteChars(s: string): string {
  let out = '';
  for (const b of encoder.encode(s)) out += BYTE_TO_CHAR[b];
  return out;
}
