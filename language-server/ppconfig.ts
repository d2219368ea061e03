/**
 * Preprocessor configurations, as spatch sees every `#if` branch. tree-sitter-c parses `#if` inside
 * a function as a node only when each branch is whole C; a branch that splits a statement or an
 * initializer (`} else` in one branch, `#ifdef` between two designators) leaves an ERROR, and the
 * rules skip or misread that function. Here the text is cut into two configurations of the same
 * length: every conditional takes its first branch, or every conditional takes its last (`#else`,
 * or nothing). Directive lines and the branches not taken become spaces, so offsets, lines and
 * columns stay those of the file. The engine lints a configuration only where the file itself did
 * not parse, and says which branch a finding is under.
 */

export interface Conditional {
  /** Offsets of each directive line of the group (#if..., #elif..., #else, #endif): [start, end). */
  directives: { start: number; end: number; text: string }[];
  /** The nesting parent (index into the list), or -1. */
  parent: number;
  /** An include guard (#ifndef X / #define X around the file): always taken. */
  guard: boolean;
}

const DIRECTIVE = /^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b/;

/** The conditional groups of a text, in order of their #if. Unbalanced directives end the scan (null). */
export function conditionals(text: string): Conditional[] | null {
  const out: Conditional[] = [];
  const stack: number[] = [];
  let i = 0;
  while (i < text.length) {
    // one logical line (backslash-newline continues it)
    let end = i;
    for (;;) {
      const nl = text.indexOf('\n', end);
      if (nl < 0) { end = text.length; break; }
      if (nl > 0 && text.charCodeAt(nl - 1) === 92 /* \ */) { end = nl + 1; continue; }
      end = nl;
      break;
    }
    const line = text.slice(i, end);
    const m = DIRECTIVE.exec(line);
    if (m) {
      const kind = m[1]!;
      const d = { start: i, end, text: line.trim().replace(/\s*\/\*.*$/, '').replace(/\s+/g, ' ') };
      if (kind === 'if' || kind === 'ifdef' || kind === 'ifndef') {
        out.push({ directives: [d], parent: stack.length ? stack[stack.length - 1]! : -1, guard: false });
        stack.push(out.length - 1);
      } else {
        const g = stack[stack.length - 1];
        if (g === undefined) return null;
        out[g]!.directives.push(d);
        if (kind === 'endif') stack.pop();
      }
    }
    i = end + 1;
  }
  if (stack.length) return null;
  // An include guard: the first group of the file, #ifndef X then #define X, no #else, closing last.
  const first = out[0];
  if (first && first.parent === -1 && first.directives.length === 2 && /^#\s*ifndef\s+(\w+)/.test(first.directives[0]!.text)) {
    const name = /^#\s*ifndef\s+(\w+)/.exec(first.directives[0]!.text)![1]!;
    const after = text.slice(first.directives[0]!.end, first.directives[0]!.end + 200);
    const rest = text.slice(first.directives[1]!.end).trim();
    if (new RegExp(`^\\s*#\\s*define\\s+${name}\\b`).test(after) && (rest === '' || rest.startsWith('/*') || rest.startsWith('//'))) first.guard = true;
  }
  return out;
}

export type Which = 'first' | 'last';

/** Is a group's condition one no build takes (#if 0)? Then its first branch is never chosen. */
const never = (d: string) => /^#\s*if\s+0\s*$/.test(d);

/** The branch index a configuration takes in a group (-1: none). */
function taken(g: Conditional, which: Which): number {
  const branches = g.directives.length - 1; // directives minus #endif
  if (g.guard) return 0;
  const hasElse = /^#\s*else\b/.test(g.directives[branches - 1]!.text);
  if (which === 'first') return never(g.directives[0]!.text) ? (hasElse ? branches - 1 : -1) : 0;
  return hasElse ? branches - 1 : -1;
}

/** The text of one configuration: same length, directives and branches not taken blanked. */
export function configurationText(text: string, groups: Conditional[], which: Which): string {
  const blank = configurationRanges(groups, which);
  if (!blank.length) return text;
  return blankRanges(text, blank);
}

/** The ranges configurationText() blanks: the directives, and the branches not taken. */
export function configurationRanges(groups: Conditional[], which: Which): [number, number][] {
  const blank: [number, number][] = [];
  for (const g of groups) {
    const t = taken(g, which);
    for (let b = 0; b < g.directives.length; b++) {
      const d = g.directives[b]!;
      blank.push([d.start, d.end]);
      if (b < g.directives.length - 1 && b !== t) blank.push([d.end, g.directives[b + 1]!.start]);
    }
  }
  return blank;
}

/**
 * The text with each [start, end) range blanked: every character but newlines (\n, \r) becomes a
 * space, so offsets, lines and columns are unchanged. Ranges may overlap and come in any order.
 */
const BREAK = /[\r\n]+/g;

export function blankRanges(text: string, ranges: readonly (readonly [number, number])[]): string {
  const rs = [...ranges].sort((a, b) => a[0] - b[0]);
  const parts: string[] = [];
  let at = 0;
  for (const [s0, e] of rs) {
    const s = Math.max(s0, at);
    if (e <= s) continue;
    parts.push(text.slice(at, s));
    // spaces, the line breaks (\n, \r) kept
    BREAK.lastIndex = s;
    let k = s;
    for (let r = BREAK.exec(text); r && r.index < e; r = BREAK.exec(text)) {
      if (r.index > k) parts.push(' '.repeat(r.index - k));
      k = Math.min(e, r.index + r[0].length);
      parts.push(text.slice(r.index, k));
    }
    if (e > k) parts.push(' '.repeat(e - k));
    at = e;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

/**
 * The branches an offset lies in, outermost first, as the source spells them: `#if defined(__xpv)`,
 * `#else (of #ifdef _SYSCALL32_IMPL)`. Include guards are left out.
 */
export function conditionAt(groups: Conditional[], offset: number): string[] {
  const out: string[] = [];
  for (const g of groups) {
    if (g.guard) continue;
    const ds = g.directives;
    if (offset < ds[0]!.end || offset >= ds[ds.length - 1]!.start) continue;
    for (let b = 0; b < ds.length - 1; b++) {
      if (offset >= ds[b]!.end && offset < ds[b + 1]!.start) {
        const d = ds[b]!.text;
        out.push(b === 0 ? d : `${d} (of ${ds[0]!.text})`);
      }
    }
  }
  return out;
}
