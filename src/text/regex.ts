// Translates the Oniguruma / Rust-regex patterns of tokenizer.json (Split, Replace) into JavaScript RegExps with
// the 'u' flag: `\s` means Unicode White_Space (JS's \s adds U+FEFF and lacks U+0085), `\w` and `\d` are Unicode,
// `(?i:...)` is expanded letter by letter, and possessive quantifiers become an atomic lookahead + backreference.

const WORD = '\\p{L}\\p{M}\\p{Nd}\\p{Pc}';
const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

function fail(pattern: string, msg: string): never {
  throw new Error(`forwardpass: tokenizer: cannot translate the regex ${JSON.stringify(pattern)}: ${msg}`);
}

function otherCase(c: string): string | null {
  const l = c.toLowerCase(), u = c.toUpperCase();
  const o = c === l ? u : l;
  return o !== c && [...o].length === 1 ? o : null;
}

/** The JavaScript source (for a RegExp with flags 'gu') equivalent to an Oniguruma pattern. */
export function translateRegex(pattern: string): string {
  const chars = [...pattern];
  let out = '';
  let i = 0;
  const groups: { start: number; ci: boolean }[] = []; // open groups: output position, case-insensitive inside
  const captureStarts: number[] = []; // output positions of capturing '(' in order
  let ci = false;
  let atomStart = -1;

  const escape = (inClass: boolean): string => {
    const c = chars[++i];
    if (c === undefined) fail(pattern, 'it ends with a backslash');
    i++;
    switch (c) {
      case 's': return inClass ? '\\p{White_Space}' : '\\p{White_Space}';
      case 'S': if (inClass) fail(pattern, '\\S inside a character class'); return '\\P{White_Space}';
      case 'w': return inClass ? WORD : `[${WORD}]`;
      case 'W': if (inClass) fail(pattern, '\\W inside a character class'); return `[^${WORD}]`;
      case 'd': return '\\p{Nd}';
      case 'D': if (inClass) fail(pattern, '\\D inside a character class'); return '\\P{Nd}';
      case 'A': return '^';
      case 'z': case 'Z': return '$';
      case 'p': case 'P': {
        if (chars[i] === '{') {
          const close = chars.indexOf('}', i);
          if (close < 0) fail(pattern, 'unclosed \\p{');
          const name = chars.slice(i + 1, close).join('');
          i = close + 1;
          return `\\${c}{${name}}`;
        }
        const one = chars[i++];
        return `\\${c}{${one}}`;
      }
      case 'x': case 'u': case 'n': case 'r': case 't': case 'f': case 'v': case '0': case 'b': case 'B': {
        // copy the escape and, for \x / \u, its hex digits
        let s = `\\${c}`;
        if (c === 'x' && chars[i] === '{') { const close = chars.indexOf('}', i); s += chars.slice(i, close + 1).join(''); i = close + 1; }
        else if (c === 'x') { s += chars.slice(i, i + 2).join(''); i += 2; }
        else if (c === 'u') { s += chars.slice(i, i + 4).join(''); i += 4; }
        return s;
      }
      default:
        if (/[a-zA-Z0-9]/.test(c)) fail(pattern, `the escape \\${c} is not supported`);
        if (SYNTAX.has(c) || (inClass && c === '-')) return `\\${c}`;
        return c;
    }
  };

  const literal = (c: string, inClass: boolean): string => {
    const esc = SYNTAX.has(c) || (inClass && c === '-') ? `\\${c}` : c;
    if (!ci) return esc;
    const o = otherCase(c);
    if (!o) return esc;
    return inClass ? esc + o : `[${esc}${o}]`;
  };

  const readClass = (): string => {
    let s = '[';
    i++;
    if (chars[i] === '^') { s += '^'; i++; }
    let first = true;
    while (i < chars.length && (chars[i] !== ']' || first)) {
      first = false;
      const c = chars[i]!;
      if (c === '[') fail(pattern, 'nested character classes');
      if (c === '\\') { s += escape(true); continue; }
      if (chars[i + 1] === '-' && chars[i + 2] !== undefined && chars[i + 2] !== ']' && chars[i + 2] !== '\\') {
        const lo = c, hi = chars[i + 2]!;
        s += `${literal(lo, true).slice(0, lo.length + (SYNTAX.has(lo) ? 1 : 0))}-${SYNTAX.has(hi) ? '\\' : ''}${hi}`;
        if (ci) {
          const ol = otherCase(lo), oh = otherCase(hi);
          if (ol && oh && /[a-zA-Z]/.test(lo) && /[a-zA-Z]/.test(hi)) s += `${ol}-${oh}`;
        }
        i += 3;
        continue;
      }
      s += literal(c, true);
      i++;
    }
    if (chars[i] !== ']') fail(pattern, 'unclosed character class');
    i++;
    return s + ']';
  };

  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '\\') { atomStart = out.length; out += escape(false); continue; }
    if (c === '[') { atomStart = out.length; out += readClass(); continue; }
    if (c === '(') {
      const rest = chars.slice(i, i + 4).join('');
      groups.push({ start: out.length, ci });
      if (rest.startsWith('(?i:')) { ci = true; out += '(?:'; i += 4; continue; }
      if (rest.startsWith('(?-i:')) { ci = false; out += '(?:'; i += 5; continue; }
      if (rest.startsWith('(?i)')) fail(pattern, 'a global (?i) flag');
      if (rest.startsWith('(?>')) fail(pattern, 'atomic groups');
      if (rest.startsWith('(?')) {
        const m = /^\(\?(?:[:=!]|<[=!]|<[A-Za-z_]\w*>|P<[A-Za-z_]\w*>)/.exec(chars.slice(i, i + 40).join(''));
        if (!m) fail(pattern, `the group ${rest} is not supported`);
        if (m[0].startsWith('(?<') && !m[0].startsWith('(?<=') && !m[0].startsWith('(?<!')) captureStarts.push(out.length);
        out += m[0].replace('(?P<', '(?<');
        i += [...m[0]].length;
        continue;
      }
      captureStarts.push(out.length);
      out += '(';
      i++;
      continue;
    }
    if (c === ')') {
      const g = groups.pop();
      if (!g) fail(pattern, 'unbalanced )');
      ci = g.ci;
      out += ')';
      atomStart = g.start;
      i++;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(chars.slice(i, i + 12).join('')))) {
      let q = c;
      if (c === '{') { const close = chars.indexOf('}', i); q = chars.slice(i, close + 1).join(''); i = close + 1; } else i++;
      if (chars[i] === '+') {
        // possessive: (?=(X))\n matches X once, greedily, and never gives it back
        if (atomStart < 0) fail(pattern, 'a quantifier with nothing before it');
        const n = captureStarts.filter((p) => p < atomStart).length + 1;
        for (let k = 0; k < captureStarts.length; k++) if (captureStarts[k]! >= atomStart) captureStarts[k] = captureStarts[k]! + 7;
        captureStarts.push(atomStart + 6);
        captureStarts.sort((a, b) => a - b);
        out = `${out.slice(0, atomStart)}(?:(?=(${out.slice(atomStart)}${q}))\\${n})`;
        i++;
      } else {
        out += q;
        if (chars[i] === '?') { out += '?'; i++; }
      }
      atomStart = -1;
      continue;
    }
    atomStart = out.length;
    if (c === '.') out += '.';
    else if (c === '^' || c === '$' || c === '|') { out += c; atomStart = -1; } else out += literal(c, false);
    i++;
  }
  if (groups.length) fail(pattern, 'unclosed (');
  return out;
}

/** A global Unicode RegExp for an Oniguruma pattern (see translateRegex). */
export function compileRegex(pattern: string): RegExp {
  const src = translateRegex(pattern);
  try {
    return new RegExp(src, 'gu');
  } catch (e) {
    return fail(pattern, `the translation ${JSON.stringify(src)} is not a valid JavaScript regex (${(e as Error).message})`);
  }
}

/** A global RegExp matching `s` literally. */
export function literalRegex(s: string): RegExp {
  return new RegExp(s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'), 'gu');
}
