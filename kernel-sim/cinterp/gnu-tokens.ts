/**
 * GNU C that tree-sitter-c does not parse, rewritten at the token level in the preprocessor's
 * output (the parser and the compiler then see shapes they take):
 * - a case range `case LO ... HI:` becomes `case __kctx_case_range(LO, HI):` (stmt.ts gives the
 *   switch the range);
 * - an `__attribute__((...))` after a declarator, before its `=`, `,`, `;` or `)`
 *   (`... __set_sym __attribute__((__section__("set_x"))) __attribute__((__used__)) = &x;`, the
 *   linker-set entries of FreeBSD-compat code) is dropped: section, used, unused, weak and
 *   aligned on an object place it, they do not change what the C means here.
 * Synthetic tokens carry the position of the token they stand for.
 */
import type { Tok } from './preprocess';

/** A token of the preprocessor's output. */
export type GnuTok = Pick<Tok, 'v' | 'file' | 'line' | 'col' | 'bol' | 'ws'> & { k: string };

/** The name of the case-range marker the compiler recognizes. */
export const CASE_RANGE = '__kctx_case_range';

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);
const NOT_DECLARATOR = new Set(['struct', 'union', 'enum', 'return', 'case', 'goto', 'sizeof']);
const AFTER_DECLARATOR = new Set(['=', ',', ';', ')']);

function like<T extends GnuTok>(t: T, v: string, k = 'punct'): T {
  return { ...t, k, v, ws: true, bol: false };
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
    if (out) (out as T[]).push(t);
  }
  return out ?? toks;
}
