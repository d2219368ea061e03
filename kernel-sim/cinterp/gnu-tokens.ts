/**
 * GNU C that tree-sitter-c does not parse, rewritten at the token level in the preprocessor's
 * output (the parser and the compiler then see shapes they take):
 * - a case range `case LO ... HI:` becomes `case __kctx_case_range(LO, HI):` (stmt.ts gives the
 *   switch the range);
 * - an `__attribute__((...))` after a declarator, before its `=`, `,`, `;` or `)`
 *   (`... __set_sym __attribute__((__section__("set_x"))) __attribute__((__used__)) = &x;`, the
 *   linker-set entries of FreeBSD-compat code) is dropped: section, used, unused, weak and
 *   aligned on an object place it, they do not change what the C means here.
 * - `typeof (X)` (`__typeof__`, `__typeof`), which the parser takes only where nothing else
 *   fits, becomes a struct specifier the compiler recognizes, `struct __kctx_typeof { int
 *   __kctx_e[(X)]; }` (a type in every context; X parses as an expression there); a type X
 *   becomes the cast `((X)0)`, whose type is X for every type name, `int (*)(void)` too. The
 *   compiler takes the type of the bracketed expression (of a cast: its type name) without
 *   evaluating it (declare.ts).
 * - `__builtin_types_compatible_p (T1, T2)` becomes `__builtin_types_compatible_p ((T1)0, (T2)0)`,
 *   a call the parser takes; the compiler answers it from the casts' type names (calls.ts).
 * - `__builtin_offsetof (T, m)` (`offsetof` in <sys/stddef.h>) becomes the `offsetof` the parser
 *   knows.
 * - `__builtin_va_arg (AP, T)` (`va_arg` in illumos' <sys/va_impl.h> and in kctx's own header)
 *   becomes `__builtin_va_arg (AP, (T *)0)`, so that any type name parses (calls.ts).
 * - an old-style (K&R) function definition at file scope, `T f(a, b) T a; int b; {`, becomes the
 *   prototype definition `T f(T a, int b) {` (rewriteOldStyle; 45 of illumos-gate's uts files
 *   have one).
 * Synthetic tokens carry the position of the token they stand for.
 */
import type { Tok } from './preprocess';

/** A token of the preprocessor's output. */
export type GnuTok = Pick<Tok, 'v' | 'file' | 'line' | 'col' | 'bol' | 'ws'> & { k: string };

/** The name of the case-range marker the compiler recognizes. */
export const CASE_RANGE = '__kctx_case_range';

/** The struct tag a `typeof` becomes. */
export const TYPEOF_TAG = '__kctx_typeof';

const TYPEOF = new Set(['typeof', '__typeof__', '__typeof']);
/** Words that start a type name (a typeof operand starting with one is a type). */
const TYPE_WORDS = new Set(['void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed', 'unsigned', '_Bool', 'struct', 'union', 'enum', 'const', 'volatile', '__const', '__volatile', '__volatile__', '__signed', '__signed__', 'typeof', '__typeof__', '__typeof']);
const QUALIFIER_OR_STAR = new Set(['*', 'const', 'volatile', '__const', '__volatile', '__volatile__', 'restrict', '__restrict']);

/** Is the typeof operand toks[a..b) a type name? (A lone identifier is left to the compiler: typedef or variable.) */
function typeOperand(toks: GnuTok[], a: number, b: number): boolean {
  if (b <= a) return false;
  if (TYPE_WORDS.has(toks[a]!.v)) return true;
  if (b - a === 1 || toks[a]!.k !== 'id') return false;
  for (let j = a + 1; j < b; j++) if (!QUALIFIER_OR_STAR.has(toks[j]!.v)) return false;
  return true;
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);
const NOT_DECLARATOR = new Set(['struct', 'union', 'enum', 'return', 'case', 'goto', 'sizeof']);
const AFTER_DECLARATOR = new Set(['=', ',', ';', ')']);

function like<T extends GnuTok>(t: T, v: string, k = 'punct'): T {
  return { ...t, k, v, ws: true, bol: false };
}

/** gcc's builtin that compares two type names. */
export const TYPES_COMPATIBLE = '__builtin_types_compatible_p';

/** Index of the first `,` in toks[a..b) outside brackets, or -1. */
function topLevelComma(toks: GnuTok[], a: number, b: number): number {
  let depth = 0;
  for (let j = a; j < b; j++) {
    const v = toks[j]!.v;
    if (OPEN.has(v)) depth++;
    else if (CLOSE.has(v)) depth--;
    else if (v === ',' && depth === 0) return j;
  }
  return -1;
}

/** Index of the `)` closing the `(` at `i`, or -1. */
function closing(toks: GnuTok[], i: number): number {
  let depth = 0;
  for (let j = i; j < toks.length; j++) {
    const v = toks[j]!.v;
    if (v === '(') depth++;
    else if (v === ')' && --depth === 0) return j;
  }
  return -1;
}

/** The words (identifiers) a rewrite starts at: output without them is left as it is. */
export const GNU_WORDS: ReadonlySet<string> = new Set(['case', '__attribute__', '__attribute', TYPES_COMPATIBLE, '__builtin_offsetof', '__builtin_va_arg', ...TYPEOF]);

export function rewriteGnu<T extends GnuTok>(toks: T[]): T[] {
  let out: T[] | null = null;
  const take = (upTo: number): T[] => {
    if (!out) out = toks.slice(0, upTo);
    return out;
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.k === 'id' && t.v === 'case') {
      // Find the case label's ':' (a ?: inside the value has its own) and a '...' before it.
      let depth = 0;
      let pendingQ = 0;
      let dots = -1;
      let colon = -1;
      for (let j = i + 1; j < toks.length && j < i + 4096; j++) {
        const v = toks[j]!.v;
        if (OPEN.has(v)) depth++;
        else if (CLOSE.has(v)) {
          if (--depth < 0) break;
        } else if (depth === 0 && v === '?') pendingQ++;
        else if (depth === 0 && v === ':') {
          if (pendingQ) pendingQ--;
          else {
            colon = j;
            break;
          }
        } else if (depth === 0 && v === '...' && dots < 0) dots = j;
        else if (depth === 0 && (v === ';' || v === 'case')) break;
      }
      if (colon > 0 && dots > i + 1 && dots < colon - 1) {
        const o = take(i);
        const d = toks[dots]!;
        o.push(t, like(d, CASE_RANGE, 'id'), like(d, '('), ...toks.slice(i + 1, dots), like(d, ','), ...toks.slice(dots + 1, colon), like(d, ')'), toks[colon]!);
        i = colon;
        continue;
      }
    }
    if (t.k === 'id' && (t.v === '__attribute__' || t.v === '__attribute') && toks[i + 1]?.v === '(') {
      const prev = toks[i - 1];
      const declarator = prev && ((prev.k === 'id' && !NOT_DECLARATOR.has(prev.v)) || prev.v === ']');
      if (declarator) {
        // The whole run of attributes after the declarator.
        let end = closing(toks, i + 1);
        while (end > 0 && (toks[end + 1]?.v === '__attribute__' || toks[end + 1]?.v === '__attribute') && toks[end + 2]?.v === '(') end = closing(toks, end + 2);
        if (end > 0 && AFTER_DECLARATOR.has(toks[end + 1]?.v ?? '')) {
          take(i);
          i = end;
          continue;
        }
      }
    }
    if (t.k === 'id' && t.v === TYPES_COMPATIBLE && toks[i + 1]?.v === '(') {
      const end = closing(toks, i + 1);
      const comma = end > 0 ? topLevelComma(toks, i + 2, end) : -1;
      if (comma > i + 2 && comma < end - 1) {
        const cast = (a: number, b: number) => [like(t, '('), like(t, '('), ...rewriteGnu(toks.slice(a, b)), like(t, ')'), like(t, '0', 'num'), like(t, ')')];
        take(i).push(t, like(t, '('), ...cast(i + 2, comma), like(t, ','), ...cast(comma + 1, end), like(t, ')'));
        i = end;
        continue;
      }
    }
    if (t.k === 'id' && t.v === '__builtin_va_arg' && toks[i + 1]?.v === '(') {
      const end = closing(toks, i + 1);
      const comma = end > 0 ? topLevelComma(toks, i + 2, end) : -1;
      if (comma > i + 2 && comma < end - 1) {
        const type = rewriteGnu(toks.slice(comma + 1, end));
        take(i).push(t, ...rewriteGnu(toks.slice(i + 1, comma + 1)), like(t, '('), ...type, like(t, '*'), like(t, ')'), like(t, '0', 'num'), toks[end]!);
        i = end;
        continue;
      }
    }
    if (t.k === 'id' && t.v === '__builtin_offsetof' && toks[i + 1]?.v === '(') {
      take(i).push(like(t, 'offsetof', 'id'));
      continue;
    }
    if (t.k === 'id' && TYPEOF.has(t.v) && toks[i + 1]?.v === '(') {
      const end = closing(toks, i + 1);
      if (end > i + 2) {
        const o = take(i);
        const inner = toks.slice(i + 2, end);
        const operand = typeOperand(toks, i + 2, end)
          ? [like(t, '('), like(t, '('), ...inner, like(t, ')'), like(t, '0', 'num'), like(t, ')')]
          : [like(t, '('), ...inner, like(t, ')')];
        o.push(like(t, 'struct', 'id'), like(t, TYPEOF_TAG, 'id'), like(t, '{'), like(t, 'int', 'id'), like(t, '__kctx_e', 'id'), like(t, '['), ...operand, like(t, ']'), like(t, ';'), like(t, '}'));
        i = end;
        continue;
      }
    }
    if (out) (out as T[]).push(t);
  }
  return out ?? toks;
}

/** Words that may start a declaration's specifiers in an old-style definition's parameter declarations. */
const PARAM_DECL_START = new Set([...TYPE_WORDS, 'register', 'auto']);

/**
 * An old-style (K&R) function definition, `T *f(a, b) T *a; int b; {`, becomes the prototype
 * definition `T *f(T *a, int b) {` (tree-sitter-c does not parse the identifier list with
 * declarations after it; gcc takes both). A name the declarations do not declare is `int`, as in
 * C89. `at` is the index of the `(` after the function's name; the answer is the tokens from
 * there to the `{` exclusive, rewritten, and the index of that `{`, or null when the tokens are
 * not such a definition (then nothing changes).
 */
function oldStyleDefinition<T extends GnuTok>(toks: T[], at: number): { params: T[]; brace: number } | null {
  const close = closing(toks, at);
  if (close < 0) return null;
  const names: string[] = [];
  for (let j = at + 1; j < close; j += 2) {
    if (toks[j]!.k !== 'id' || PARAM_DECL_START.has(toks[j]!.v) || (j + 1 < close && toks[j + 1]!.v !== ',')) return null;
    names.push(toks[j]!.v);
  }
  const first = toks[close + 1];
  if (!names.length || !first || first.k !== 'id') return null;
  // The declarations, each `specifiers declarator, declarator ;`, up to the body's `{`.
  const decl = new Map<string, T[]>();
  let j = close + 1;
  while (j < toks.length && toks[j]!.v !== '{') {
    let end = j;
    let depth = 0;
    for (; end < toks.length; end++) {
      const v = toks[end]!.v;
      if (OPEN.has(v)) depth++;
      else if (CLOSE.has(v)) depth--;
      else if (depth === 0 && (v === ';' || v === '{')) break;
    }
    if (toks[end]?.v !== ';') return null;
    // Declarators at top-level commas; the specifiers are what comes before the first one's
    // first `*` or `(`, or before its last word.
    const parts: T[][] = [];
    let from = j;
    for (let c = topLevelComma(toks, from, end); ; c = topLevelComma(toks, from, end)) {
      parts.push(toks.slice(from, c < 0 ? end : c));
      if (c < 0) break;
      from = c + 1;
    }
    const p0 = parts[0]!;
    let s = p0.findIndex((t) => t.v === '*' || t.v === '(');
    if (s < 0) s = p0.length - 1;
    if (s < 1) return null;
    const specs = p0.slice(0, s);
    parts[0] = p0.slice(s);
    for (const d of parts) {
      const name = d.find((t) => t.k === 'id' && !QUALIFIER_OR_STAR.has(t.v));
      if (!name || !names.includes(name.v) || decl.has(name.v)) return null;
      decl.set(name.v, [...specs, ...d]);
    }
    j = end + 1;
  }
  if (toks[j]?.v !== '{') return null;
  const params: T[] = [toks[at]!];
  names.forEach((n, k) => {
    const id = toks[at + 1 + 2 * k]!;
    if (k) params.push(like(id, ','));
    params.push(...(decl.get(n) ?? [like(id, 'int', 'id'), id]));
  });
  params.push(toks[close]!);
  return { params, brace: j };
}

/**
 * Rewrites every old-style function definition at file scope (oldStyleDefinition). `toks` is the
 * whole translation unit's output; the same array when there is none.
 */
export function rewriteOldStyle<T extends GnuTok>(toks: T[]): T[] {
  let out: T[] | null = null;
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const v = toks[i]!.v;
    if (v === '{') depth++;
    else if (v === '}') depth--;
    else if (depth === 0 && v === '(' && toks[i - 1]?.k === 'id' && toks[i + 1]?.k === 'id') {
      const d = oldStyleDefinition(toks, i);
      if (d) {
        out ??= toks.slice(0, i);
        out.push(...d.params);
        i = d.brace - 1;
        continue;
      }
    }
    if (out) out.push(toks[i]!);
  }
  return out ?? toks;
}

/**
 * Might the output hold an old-style definition? A `)` at file scope followed by a word: cheap
 * to ask of the token values before making token objects.
 */
export function mayHaveOldStyle(values: ArrayLike<string>, n: number): boolean {
  let depth = 0;
  for (let i = 0; i + 1 < n; i++) {
    const v = values[i]!;
    if (v === '{') depth++;
    else if (v === '}') depth--;
    else if (depth === 0 && v === ')') {
      const next = values[i + 1]!;
      const c = next.charCodeAt(0);
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) {
        if (next !== '__attribute__' && next !== '__attribute' && next !== '__asm__' && next !== '__asm' && next !== 'asm') return true;
      }
    }
  }
  return false;
}
