/**
 * assert-only-variable's pre-filter (Rule.mayReport), from a token scan of the text, never a parse:
 * can some function have a variable that is named inside an assert and used nowhere else?
 *
 * For each function body that unread.ts's scan finds (it cannot tell where they are: yes), the
 * words inside the parentheses of each assert name are gathered; a word is ruled out when the body
 * uses it, outside every assert, at least once in a way the rule counts as a use whatever the parse:
 * an operand of an operator that no declaration, plain or compound assignment target, field name,
 * label or type can be next to (`w->x`, `w + 1`, `w == 0`, `w++`, `x = w`, `a[w]`, `!w`, `c ? w : 0`).
 * If every word is ruled out, no variable can be reported. Only uses outside every `#if` of the body
 * count (a configuration may blank one inside), and never on a directive line (a macro's body is no
 * use); a directive or an unclosed parenthesis in an assert's text, or one between its name and its
 * parenthesis, says yes.
 */
import { topLevelItems } from './unread';

const isIdStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isIdChar = (c: number) => isIdStart(c) || (c >= 48 && c <= 57);
const isBlank = (c: number) => c === 32 || (c >= 9 && c <= 13);

const KEYWORDS = new Set(['sizeof', 'return', 'if', 'else', 'while', 'for', 'do', 'switch', 'case', 'default', 'goto', 'break', 'continue', 'int', 'char', 'short', 'long', 'unsigned', 'signed',
  'void', 'struct', 'union', 'enum', 'const', 'volatile', 'static', 'extern', 'register', 'auto', 'typedef', 'float', 'double', 'inline', '_Bool', 'defined']);

/** Characters of an operator after a use: a run of them is read whole. */
const OP_CHARS = new Set([...'+-*/%&|^<>=!'].map((c) => c.charCodeAt(0)));
const ASSIGN = /^(=(?!=)|[+\-*/%&|^]=|<<=|>>=)/;

/** Skips a comment, string or character constant starting at k; the index of its last character, or -1 when none starts there, -2 when unterminated. */
function skipOpaque(text: string, k: number, end: number): number {
  const c = text.charCodeAt(k);
  if (c === 47 && text.charCodeAt(k + 1) === 42) { const e = text.indexOf('*/', k + 2); return e < 0 || e >= end ? -2 : e + 1; }
  if (c === 47 && text.charCodeAt(k + 1) === 47) { let j = k; while (j + 1 < end && text.charCodeAt(j + 1) !== 10) j++; return j; }
  if (c === 34 || c === 39) {
    let j = k + 1;
    for (; j < end && text.charCodeAt(j) !== c; j++) { if (text.charCodeAt(j) === 92) j++; else if (text.charCodeAt(j) === 10) break; }
    return j < end ? j : -2;
  }
  return -1;
}

/** Is the word starting at s a field name (`.w`, `->w`)? */
function isField(text: string, s: number): boolean {
  let p = s - 1;
  while (p >= 0 && isBlank(text.charCodeAt(p))) p--;
  const pc = p >= 0 ? text.charCodeAt(p) : 0;
  return pc === 46 || (pc === 62 && text.charCodeAt(p - 1) === 45);
}

/** Is the word at [s, e) used in a way the rule always counts (see the file comment)? */
function countedUse(text: string, s: number, e: number, end: number): boolean {
  if (isField(text, s)) return false;
  let p = s - 1;
  while (p >= 0 && isBlank(text.charCodeAt(p))) p--;
  const pc = p >= 0 ? text.charCodeAt(p) : 0;
  let q = e;
  while (q < end && isBlank(text.charCodeAt(q))) q++;
  const nc = q < end ? text.charCodeAt(q) : 0;
  let op = '';
  for (let k = q; k < end && k < q + 3 && OP_CHARS.has(text.charCodeAt(k)); k++) op += text[k];
  if (ASSIGN.test(op)) return false; // a write's target (or a declaration's initializer)
  if (nc === 58 && text.charCodeAt(q + 1) !== 58) return false; // w: a label
  // after it: an operator that no declarator, type or label is followed by
  if (nc === 46 && !(text.charCodeAt(q + 1) >= 48 && text.charCodeAt(q + 1) <= 57)) return true; // w.x
  if (op.startsWith('==') || op.startsWith('!=')) return true;
  if (op && '+-<>&|^%'.includes(op[0]!)) return true; // w->x w++ w + w < w && w | w ^ w %
  if (nc === 63) return true; // w ? ...
  // before it: an operator that no declarator follows
  if (pc === 61 || pc === 33 || pc === 126 || pc === 43 || pc === 45 || pc === 60 || pc === 62 || pc === 124 || pc === 94 || pc === 37 || pc === 63 || pc === 91 || pc === 38) return true;
  if (pc === 58 && text.charCodeAt(p - 1) !== 58) return true; // case X: w..., c ? a : w
  // an argument: f(a, w) f(w, a) (not f(w): a declaration `T(w);` or a cast reads the same)
  if ((pc === 44 && nc === 41) || (pc === 40 && nc === 44)) return true;
  // return w, return (w), if (w), while (w), switch (w)
  const before = (at: number) => { let b = at; while (b >= 0 && isBlank(text.charCodeAt(b))) b--; let a = b; while (a >= 0 && isIdChar(text.charCodeAt(a))) a--; return text.slice(a + 1, b + 1); };
  if (isIdChar(pc) && before(p) === 'return' && (nc === 59 || nc === 41)) return true;
  if (pc === 40 && nc === 41 && /^(return|if|while|switch)$/.test(before(p - 1))) return true;
  return false;
}

export function mayHaveAssertOnly(text: string, names: ReadonlySet<string>): boolean {
  const items = topLevelItems(text);
  if (!items) return true;
  // where the assert names are (a body without one is not scanned)
  const at: number[] = [];
  const re = new RegExp(`\\b(?:${[...names].join('|')})\\b`, 'g');
  for (let r = re.exec(text); r; r = re.exec(text)) at.push(r.index);
  let next = 0;
  for (const it of items) {
    if (it.opaque || (it.body && !it.name)) return true;
    if (!it.body) continue;
    const [bs, be] = it.body;
    while (next < at.length && at[next]! < bs) next++;
    if (next === at.length || at[next]! >= be) continue;
    const inAsserts = new Set<string>();
    const uses = new Set<string>(); // words with a counted use at depth 0 outside the asserts
    const seen = new Set<string>(); // words outside the asserts (where a declaration may be), field names aside
    let depth = 0;
    let lineStart = true;
    for (let k = it.start; k < be; k++) {
      const c = text.charCodeAt(k);
      if (c === 10) { lineStart = true; continue; }
      if (isBlank(c)) continue;
      if (lineStart && c === 35) { // a directive line (continued lines too)
        const d = /^#[ \t]*(\w+)/.exec(text.slice(k, k + 40))?.[1] ?? '';
        if (d === 'if' || d === 'ifdef' || d === 'ifndef') depth++;
        else if (d === 'endif') depth--;
        for (; k < be; k++) {
          const x = text.charCodeAt(k);
          if (x === 92 && text.charCodeAt(k + 1) === 10) { k++; continue; }
          if (x === 47 && text.charCodeAt(k + 1) === 42) { const z = skipOpaque(text, k, be); if (z < 0) return true; k = z; continue; }
          if (x === 10) break;
        }
        lineStart = true;
        continue;
      }
      lineStart = false;
      const z = skipOpaque(text, k, be);
      if (z === -2) return true;
      if (z >= 0) { k = z; continue; }
      if (!isIdStart(c)) continue;
      let e = k + 1;
      while (e < be && isIdChar(text.charCodeAt(e))) e++;
      const w = text.slice(k, e);
      if (names.has(w)) {
        let q = e;
        while (q < be && isBlank(text.charCodeAt(q))) q++;
        if (text.charCodeAt(q) === 35) return true;
        if (text.charCodeAt(q) === 40) {
          // the assert's parentheses: their words
          let d = 0;
          let j = q;
          for (; j < be; j++) {
            const x = text.charCodeAt(j);
            if (x === 40) d++;
            else if (x === 41) { if (--d === 0) break; }
            else if (x === 35) return true;
            else {
              const o = skipOpaque(text, j, be);
              if (o === -2) return true;
              if (o >= 0) { j = o; continue; }
              if (isIdStart(x)) {
                let f = j + 1;
                while (f < be && isIdChar(text.charCodeAt(f))) f++;
                if (!isField(text, j)) inAsserts.add(text.slice(j, f));
                j = f - 1;
              } else if (x >= 48 && x <= 57) { while (j + 1 < be && isIdChar(text.charCodeAt(j + 1))) j++; }
            }
          }
          if (j >= be) return true;
          k = j;
          continue;
        }
      }
      if (!isField(text, k)) seen.add(w);
      if (k >= bs && depth === 0 && !uses.has(w) && countedUse(text, k, e, be)) uses.add(w);
      k = e - 1;
    }
    // a word reportable: named in an assert, maybe declared (it is outside them), and not surely used
    for (const w of inAsserts) if (!KEYWORDS.has(w) && seen.has(w) && !uses.has(w)) return true;
  }
  return false;
}
