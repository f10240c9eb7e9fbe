// A very small WGSL preprocessor: `#include "name" KEY=value...`, `#if`/`#elif`/`#else`/`#endif` on known
// names (`NAME`, `!NAME`, `NAME == v`, `NAME != v`) and `{{NAME}}` substitution. Any unknown name throws.

export type DefineValue = string | number | boolean;
export type Defines = Readonly<Record<string, DefineValue>>;

/** A kernel source: its file name (for errors and pipeline labels) and text. */
export interface WgslSource {
  name: string;
  code: string;
}

function fail(file: string, line: number, msg: string): never {
  throw new Error(`forwardpass: wgsl: ${file} line ${line}: ${msg}`);
}

function lookup(defines: Defines, name: string, file: string, line: number, what: string): DefineValue {
  if (!Object.prototype.hasOwnProperty.call(defines, name)) {
    fail(file, line, `unknown name '${name}' in ${what} (known: ${Object.keys(defines).join(', ') || 'none'})`);
  }
  const v = defines[name];
  if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) fail(file, line, `'${name}' has no usable value (${String(v)})`);
  return v;
}

function condition(expr: string, defines: Defines, file: string, line: number): boolean {
  const m = /^(!?)\s*([A-Za-z_]\w*)\s*(?:(==|!=)\s*([\w.]+))?$/.exec(expr.trim());
  if (!m) fail(file, line, `cannot read the condition '${expr.trim()}' (expected NAME, !NAME, NAME == value or NAME != value)`);
  const [, not, name, op, rhs] = m;
  const v = lookup(defines, name!, file, line, '#if');
  let r: boolean;
  if (op) r = (String(v) === rhs) === (op === '==');
  else r = v !== false && v !== 0 && v !== '' && v !== 'false';
  return not ? !r : r;
}

/** Replace `{{NAME}}` in one line. */
function substitute(text: string, defines: Defines, file: string, line: number): string {
  return text.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (_, name: string) => String(lookup(defines, name, file, line, '{{...}}')));
}

/**
 * Expand a kernel source with `defines`; `includes` maps include names to sources (kernels/common/*.wgsl).
 * @example preprocess({ name: 'unary.wgsl', code }, { T: 'f32', OP: 'relu' }, COMMON)
 */
export function preprocess(src: WgslSource, defines: Defines, includes: Readonly<Record<string, string>> = {}, depth = 0): string {
  if (depth > 8) throw new Error(`forwardpass: wgsl: ${src.name}: includes nested more than 8 deep`);
  const out: string[] = [];
  // stack of [taking this branch?, some branch already taken?, parent active?, line of #if]
  const stack: [boolean, boolean, boolean, number][] = [];
  const active = () => stack.every((s) => s[0]);
  const lines = src.code.split('\n');
  lines.forEach((raw, i) => {
    const n = i + 1;
    const t = raw.trim();
    if (t.startsWith('#if ')) {
      const parent = active();
      const take = parent && condition(substitute(t.slice(4), defines, src.name, n), defines, src.name, n);
      stack.push([take, take, parent, n]);
    } else if (t.startsWith('#elif ')) {
      const top = stack[stack.length - 1] ?? fail(src.name, n, '#elif without #if');
      const take = top[2] && !top[1] && condition(substitute(t.slice(6), defines, src.name, n), defines, src.name, n);
      top[0] = take;
      top[1] ||= take;
    } else if (t === '#else') {
      const top = stack[stack.length - 1] ?? fail(src.name, n, '#else without #if');
      top[0] = top[2] && !top[1];
      top[1] = true;
    } else if (t === '#endif') {
      if (!stack.pop()) fail(src.name, n, '#endif without #if');
    } else if (t.startsWith('#include ')) {
      if (!active()) return;
      const m = /^#include\s+"([\w./-]+)"((?:\s+[A-Za-z_]\w*=\S+)*)\s*$/.exec(substitute(t, defines, src.name, n));
      if (!m) fail(src.name, n, `cannot read '${t}' (expected #include "name" KEY=value ...)`);
      const code = includes[m[1]!] ?? fail(src.name, n, `unknown include '${m[1]}' (known: ${Object.keys(includes).join(', ') || 'none'})`);
      const local: Record<string, DefineValue> = { ...defines };
      for (const kv of m[2]!.trim().split(/\s+/).filter(Boolean)) {
        const eq = kv.indexOf('=');
        local[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      out.push(preprocess({ name: m[1]!, code }, local, includes, depth + 1));
    } else if (t.startsWith('#')) {
      fail(src.name, n, `unknown directive '${t.split(/\s/)[0]}'`);
    } else if (active()) {
      out.push(substitute(raw, defines, src.name, n));
    }
  });
  if (stack.length) fail(src.name, stack[stack.length - 1]![3], '#if without #endif');
  return out.join('\n');
}
