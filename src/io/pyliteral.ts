// A tiny parser for the Python literal subset .npy headers use: dicts, tuples, lists, strings, ints, floats,
// True/False/None. Bounded nesting; every syntax problem is one `forwardpass: npy ...:` error.
import { ioFail } from './errors.js';

/** A parsed Python literal: dicts become Maps keyed by the key's string form, tuples and lists become arrays. */
export type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

const MAX_DEPTH = 16;

/**
 * Parse one Python literal (the whole text, surrounding whitespace allowed); `where` prefixes errors.
 *
 * @example parsePyLiteral("{'shape': (2, 3), 'fortran_order': False}", 'npy') // Map { shape => [2, 3], ... }
 */
export function parsePyLiteral(text: string, where: string): PyValue {
  let i = 0;
  const shown = text.trim();
  const fail = (msg: string): never => ioFail(where, `bad header at character ${i}: ${msg} in ${JSON.stringify(shown.length > 80 ? shown.slice(0, 77) + '...' : shown)}`);
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === undefined) return fail('unexpected end');
    if (c === '{') return dict(depth);
    if (c === '(' || c === '[') return seq(depth, c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return str();
    const word = /^(True|False|None)\b/.exec(text.slice(i, i + 6));
    if (word) {
      i += word[1]!.length;
      return word[1] === 'True' ? true : word[1] === 'False' ? false : null;
    }
    const num = /^[-+]?(\d+(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)[lL]?/.exec(text.slice(i, i + 400));
    if (num) {
      i += num[0].length;
      return Number(num[0].replace(/[lL]$/, ''));
    }
    return fail(`unexpected ${JSON.stringify(c)}`);
  };
  const str = (): string => {
    const q = text[i++]!;
    let out = '';
    while (i < text.length && text[i] !== q) {
      if (text[i] === '\\') {
        const e = text[i + 1];
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === undefined ? '' : e;
        i += 2;
      } else out += text[i++];
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return out;
  };
  const seq = (depth: number, close: string): PyValue[] => {
    i++;
    const out: PyValue[] = [];
    for (;;) {
      ws();
      if (text[i] === close) { i++; return out; }
      out.push(value(depth + 1));
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === close) { i++; return out; }
      fail(`expected ',' or '${close}'`);
    }
  };
  const dict = (depth: number): Map<string, PyValue> => {
    i++;
    const out = new Map<string, PyValue>();
    for (;;) {
      ws();
      if (text[i] === '}') { i++; return out; }
      const k = value(depth + 1);
      if (typeof k !== 'string' && typeof k !== 'number') fail('dict keys must be strings or numbers');
      ws();
      if (text[i] !== ':') fail("expected ':'");
      i++;
      out.set(String(k), value(depth + 1));
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === '}') { i++; return out; }
      fail("expected ',' or '}'");
    }
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('unexpected text after the value');
  return v;
}
