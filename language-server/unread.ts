/**
 * Parse only what the enabled rules read (as spatch reads only what its rule needs). Before the
 * parse of a file, the body of each top-level function that no enabled rule reads becomes spaces,
 * newlines kept, so every offset, row and column of the rest is unchanged and the parse is cheap.
 *
 * A function is read when its text (from the end of the previous top-level item to its closing
 * brace) matches a rule's scope; when a file-scope item that matches names it (a template's
 * handler, a SYSINIT's function); or when a function that is read names it, as a word anywhere in
 * its text (a callee, a callback, a handler argument), transitively. All of it comes from a token
 * scan (comments, strings, character constants and directive lines skipped), never a parse. Where
 * the scan cannot be sure where top-level items begin and end (an `#if` whose branches open
 * different numbers of braces, a conditional that starts in one function and ends in another, an
 * unterminated comment), nothing is blanked. A body that defines a macro is always kept (a later
 * function may use it), and so is one whose function's name the scan cannot tell.
 */
import { blankRanges } from './ppconfig';
import type { ReadScope } from './rules/types';

interface Item {
  /** [start, end) of the item's text: from the end of the previous item to its `;` or closing brace. */
  start: number;
  end: number;
  /** A function body: [index after '{', index of '}'], and the function's name. */
  body: [number, number] | null;
  name: string | null;
  /** Its body has a #define or #undef. */
  defines: boolean;
  /**
   * It has a brace block at file scope that is neither a function body the scan could name the
   * function of nor a struct, union or enum body or an initializer (a K&R definition, a header
   * ending in a macro): the parser may read a function there.
   */
  opaque?: boolean;
}

const KEYWORDS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'do', 'else', 'case', 'default', 'goto', '__attribute__', '__attribute', '__declspec', 'defined', 'typeof', '__typeof__', 'asm', '__asm__']);
const isIdStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isIdChar = (c: number) => isIdStart(c) || (c >= 48 && c <= 57);

const NEXT_IN_BODY = /[\n"'\/{}]/g;

/** The last text scanned and its items: one lint asks for them several times (pre-filters, blanking). */
let lastText: string | null = null;
let lastItems: readonly Item[] | null = null;

/** The top-level items of a C text, or null when its braces cannot be read from tokens alone (not to be changed: they are shared). */
export function topLevelItems(text: string): readonly Item[] | null {
  if (text !== lastText) {
    lastItems = scanItems(text);
    lastText = text;
  }
  return lastItems;
}

function scanItems(text: string): Item[] | null {
  const n = text.length;
  const items: Item[] = [];
  let itemStart = 0;
  let depth = 0;
  let paren = 0;
  let body = -1; // index of the current top-level body's '{', or -1
  let bodyName: string | null = null;
  let bodyDefines = false;
  let bodyId = 0; // counts bodies opened, to tie conditionals to the body they are in
  let curBody = -1; // bodyId of the open body
  // depth-0 tokens of the current item: identifiers and ( ) (enough to name a function)
  let toks: string[] = [];
  let last = ''; // the last significant token at depth 0 ('' at an item start)
  const conds: { depth: number; body: number; ends: number[] }[] = [];
  let lineStart = true;
  let opaque = false;
  let i = 0;
  const endItem = (end: number, b: [number, number] | null, name: string | null, defines: boolean) => {
    items.push(opaque ? { start: itemStart, end, body: b, name, defines, opaque } : { start: itemStart, end, body: b, name, defines });
    itemStart = end;
    toks = [];
    last = '';
    opaque = false;
  };
  while (i < n) {
    if (depth > 0 && !lineStart) {
      // inside a body only line starts, comments, literals and braces matter: jump to the next one
      NEXT_IN_BODY.lastIndex = i;
      const r = NEXT_IN_BODY.exec(text);
      if (!r) break;
      i = r.index;
    }
    const c = text.charCodeAt(i);
    if (c === 10) { lineStart = true; i++; continue; }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) { i++; continue; }
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      const e = text.indexOf('*/', i + 2);
      if (e < 0) return null;
      i = e + 2;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i += text.charCodeAt(i) === 92 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      continue;
    }
    if (c === 35 /* # */ && lineStart) {
      // a directive: one logical line (comments in it may span lines)
      let j = i + 1;
      while (j < n && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j++;
      let k = j;
      while (k < n && isIdChar(text.charCodeAt(k))) k++;
      const kind = text.slice(j, k);
      let e = k;
      while (e < n) {
        const d = text.charCodeAt(e);
        if (d === 10) break;
        if (d === 92 && text.charCodeAt(e + 1) === 10) { e += 2; continue; }
        if (d === 92 && text.charCodeAt(e + 1) === 13 && text.charCodeAt(e + 2) === 10) { e += 3; continue; }
        if (d === 47 && text.charCodeAt(e + 1) === 42) {
          const z = text.indexOf('*/', e + 2);
          if (z < 0) return null;
          e = z + 2;
          continue;
        }
        e++;
      }
      if (kind === 'if' || kind === 'ifdef' || kind === 'ifndef') conds.push({ depth, body: curBody, ends: [] });
      else if (kind === 'elif' || kind === 'else' || kind === 'elifdef' || kind === 'elifndef' || kind === 'endif') {
        const top = conds[conds.length - 1];
        if (!top || top.body !== curBody) return null;
        top.ends.push(depth);
        if (kind === 'endif') {
          conds.pop();
          // every branch ends at one depth; without an #else, the one branch changes nothing
          if (top.ends.some((d) => d !== top.ends[0]) || (top.ends.length === 1 && top.ends[0] !== top.depth)) return null;
          depth = top.ends[0]!;
        } else depth = top.depth;
      } else if ((kind === 'define' || kind === 'undef') && depth > 0) bodyDefines = true;
      i = e;
      continue;
    }
    lineStart = false;
    if (c === 34 /* " */ || c === 39 /* ' */) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 92) { j += 2; continue; }
        if (d === c || d === 10) break;
        j++;
      }
      i = j + 1;
      if (depth === 0) last = '"';
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(text.charCodeAt(j))) j++;
      if (depth === 0) { const w = text.slice(i, j); toks.push(w); last = w; }
      i = j;
      continue;
    }
    if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < n && (isIdChar(text.charCodeAt(j)) || text.charCodeAt(j) === 46)) j++;
      if (depth === 0) last = '0';
      i = j;
      continue;
    }
    if (c === 123 /* { */) {
      if (depth === 0 && paren === 0 && last === ')') {
        body = i;
        bodyName = functionName(toks);
        bodyDefines = false;
        curBody = ++bodyId;
      } else if (depth === 0 && last !== '=' && !toks.some((t) => t === 'struct' || t === 'union' || t === 'enum')) opaque = true;
      depth++;
      i++;
      continue;
    }
    if (c === 125 /* } */) {
      depth--;
      if (depth < 0) return null;
      i++;
      if (depth === 0) {
        if (body >= 0) {
          if (conds.some((x) => x.body === curBody)) return null; // a conditional opened in the body is still open
          endItem(i, [body + 1, i - 1], bodyName, bodyDefines);
          body = -1;
          curBody = -1;
        } else last = '}';
      }
      continue;
    }
    if (depth === 0) {
      if (c === 40) { paren++; toks.push('('); last = '('; }
      else if (c === 41) { paren--; toks.push(')'); last = ')'; }
      else if (c === 59 /* ; */ && paren === 0) { i++; endItem(i, null, null, false); continue; }
      else last = text[i]!;
    }
    i++;
  }
  if (depth !== 0 || conds.length || body >= 0) return null;
  if (itemStart < n) items.push(opaque ? { start: itemStart, end: n, body: null, name: null, defines: false, opaque } : { start: itemStart, end: n, body: null, name: null, defines: false });
  return items;
}

/** The name of the function whose header these depth-0 tokens are (ending with ')'), or null when unsure. */
function functionName(toks: string[]): string | null {
  let k = toks.length - 1;
  let p = 0;
  for (; k >= 0; k--) {
    if (toks[k] === ')') p++;
    else if (toks[k] === '(' && --p === 0) break;
  }
  const name = toks[k - 1];
  if (k <= 0 || !name || name === '(' || name === ')' || KEYWORDS.has(name)) return null;
  if (/^[A-Z_][A-Z0-9_]*$/.test(name)) return null; // a macro that declares a function: its real name is unknown
  return name;
}

/**
 * The text to parse: `text` with the body of every function that none of `scopes` reads blanked,
 * or `text` itself when there is nothing to blank or the scan is unsure.
 */
export function blankUnread(text: string, scopes: readonly ReadScope[]): string {
  const items = topLevelItems(text);
  if (!items) return text;
  const byName = new Map<string, number[]>();
  const blankable = new Uint8Array(items.length);
  items.forEach((it, k) => {
    if (!it.body || !it.name || it.defines) return;
    blankable[k] = 1;
    const l = byName.get(it.name);
    if (l) l.push(k); else byName.set(it.name, [k]);
  });
  if (!byName.size) return text;
  const texts = items.map((it) => text.slice(it.start, it.end));
  // the functions each item names (as a word anywhere in its text)
  const namesCache = new Map<number, number[]>();
  const WORD = /[A-Za-z_]\w*/g;
  const names = (k: number): number[] => {
    let l = namesCache.get(k);
    if (l) return l;
    const set = new Set<number>();
    const t = texts[k]!;
    WORD.lastIndex = 0;
    for (let r = WORD.exec(t); r; r = WORD.exec(t)) for (const f of byName.get(r[0]) ?? []) if (f !== k) set.add(f);
    l = [...set];
    namesCache.set(k, l);
    return l;
  };
  const read = new Uint8Array(items.length);
  for (const sc of scopes) {
    const re = typeof sc.reads === 'function' ? sc.reads(text) : sc.reads;
    const seeds: number[] = [];
    texts.forEach((t, k) => { if (re.test(t)) seeds.push(k); });
    for (const k of seeds) read[k] = 1;
    if (!sc.named) continue;
    if (sc.named === 'direct') {
      for (const k of seeds) for (const f of names(k)) read[f] = 1;
      continue;
    }
    // 'all', or only through functions that lead to a matching one
    let leads: Uint8Array | null = null;
    if (sc.named instanceof RegExp) {
      const reach = sc.named;
      leads = new Uint8Array(items.length);
      // reverse edges over the functions: who names whom
      const namedBy = new Map<number, number[]>();
      const stack: number[] = [];
      items.forEach((it, k) => {
        if (!it.body) return;
        if (re.test(texts[k]!) || reach.test(texts[k]!)) { leads![k] = 1; stack.push(k); }
        for (const f of names(k)) { const l = namedBy.get(f); if (l) l.push(k); else namedBy.set(f, [k]); }
      });
      while (stack.length) for (const g of namedBy.get(stack.pop()!) ?? []) if (!leads[g]) { leads[g] = 1; stack.push(g); }
    }
    const seen = new Uint8Array(items.length);
    const stack = [...seeds];
    for (const k of seeds) seen[k] = 1;
    while (stack.length) {
      for (const f of names(stack.pop()!)) {
        if (seen[f] || (leads && !leads[f])) continue;
        seen[f] = 1;
        read[f] = 1;
        stack.push(f);
      }
    }
  }
  const ranges: [number, number][] = [];
  items.forEach((it, k) => { if (blankable[k] && !read[k] && it.body![1] > it.body![0]) ranges.push(it.body!); });
  return ranges.length ? blankRanges(text, ranges) : text;
}

/**
 * Can a top-level item that matches `from`, or a function it names (as a word anywhere in its
 * text, transitively), match `to`? From the same token scan as blankUnread, never a parse. A
 * function whose name the scan cannot tell or whose header has a conditional in it (another
 * configuration may name it otherwise), and an item where the parser may read a function the scan
 * did not name (`opaque`), count as named by every item. True when the scan is unsure. A rule
 * that can only report where both meet (a sleeping allocation reached from code that disables
 * preemption) has nothing to report when this is false.
 */
const CONDITIONAL = /^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b/m;

export function mayReach(text: string, from: RegExp, to: RegExp): boolean {
  const items = topLevelItems(text);
  if (!items) return true;
  const byName = new Map<string, number[]>();
  const anyone: number[] = [];
  items.forEach((it, k) => {
    // a header with a conditional in it may name another function in some configuration
    if (it.opaque || (it.body && (!it.name || CONDITIONAL.test(text.slice(it.start, it.body[0]))))) { anyone.push(k); return; }
    if (!it.body || !it.name) return;
    const l = byName.get(it.name);
    if (l) l.push(k); else byName.set(it.name, [k]);
  });
  const textOf = (k: number) => text.slice(items[k]!.start, items[k]!.end);
  const seen = new Uint8Array(items.length);
  const stack: number[] = [];
  items.forEach((_, k) => { if (from.test(textOf(k))) { seen[k] = 1; stack.push(k); } });
  if (!stack.length) return false;
  for (const k of anyone) if (!seen[k]) { seen[k] = 1; stack.push(k); }
  const WORD = /[A-Za-z_]\w*/g;
  while (stack.length) {
    const t = textOf(stack.pop()!);
    if (to.test(t)) return true;
    WORD.lastIndex = 0;
    for (let r = WORD.exec(t); r; r = WORD.exec(t)) for (const f of byName.get(r[0]) ?? []) if (!seen[f]) { seen[f] = 1; stack.push(f); }
  }
  return false;
}
