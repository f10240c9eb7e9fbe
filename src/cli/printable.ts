// Text read from model files (names, metadata, producer strings) made safe to print: control characters and
// bidirectional-override marks become escapes, so a file cannot move the cursor, recolour or reorder what inspect shows.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Escape control and bidi characters. @example printable('a\x1b[31m\n') // 'a\\x1b[31m\\n' */
export function printable(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}
