/**
 * The C lexer: translation phases 1-3 (line splices, comments, preprocessing tokens) over one
 * file's text. The simulator's preprocessor and the linter's token scans (the VNET macros that
 * tree-sitter keeps opaque in a `#define` body or parses as ERROR at file scope) both read C through
 * it, so a token is the same thing everywhere.
 *
 * Lines and columns are 1-based. With `onError` the lexer reports what C does not allow (an
 * unterminated comment or literal, a non-ASCII character, a wide literal) and the caller decides
 * (the preprocessor throws); without it the lexer is tolerant, as an editor's scan must be: an
 * unterminated literal ends at its line, an unterminated comment at the end of the text.
 * `lexTable` reports only the unterminated comment through `onError` and keeps a token's own error
 * in the table (`bad`), because a token in a group that `#if` skips is no error (gcc warns at most:
 * `#if 0` around prose with an apostrophe is common in kernel sources).
 */

export type CTokKind = 'id' | 'num' | 'str' | 'chr' | 'punct' | 'other';

export interface CTok {
  k: CTokKind;
  v: string;
  file: number;
  line: number;
  col: number;
  /** First token on its line. */
  bol: boolean;
  /** Preceded by white space. */
  ws: boolean;
}

export type CLexError = (line: number, col: number, msg: string) => void;

/** Punctuators of more than one character, longest first (maximal munch). */
const PUNCTS = [
  '%:%:', '...', '<<=', '>>=', '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '*=', '/=', '%=', '+=', '-=',
  '&=', '^=', '|=', '##', '<:', ':>', '<%', '%>', '%:',
];
/** PUNCTS by their first character's code, longest first. */
const PUNCTS_BY_FIRST = new Map<number, string[]>();
for (const p of PUNCTS) {
  const c = p.charCodeAt(0);
  const list = PUNCTS_BY_FIRST.get(c);
  if (list) list.push(p);
  else PUNCTS_BY_FIRST.set(c, [p]);
}
const ONE_CHAR_PUNCT = '+-*/%<>=!&|^~?:;,.()[]{}#';

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
}
function isIdChar(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}

/** Token kinds by their code in a CTokTable. */
export const KIND_NAMES: readonly CTokKind[] = ['id', 'num', 'str', 'chr', 'punct', 'other'];
export const K_ID = 0;
export const K_PUNCT = 4;
/** A CTokTable flag: first token on its line. */
export const F_BOL = 1;
/** A CTokTable flag: preceded by white space. */
export const F_WS = 2;

/**
 * The tokens of a text as parallel arrays (token i is k[i], v[i], ...): no object per token, so
 * a long file's tokens cost the garbage collector little while they wait to be read.
 */
export interface CTokTable {
  n: number;
  /** Index in KIND_NAMES. */
  k: Uint8Array;
  v: string[];
  line: Int32Array;
  col: Int32Array;
  /** F_BOL | F_WS. */
  flags: Uint8Array;
  /** Text offset of the token's first character. */
  start: Int32Array;
  /** Tokens C does not allow, by index: the message (only when lexed with onError). */
  bad?: Map<number, string>;
}

/**
 * The tokens of `text` (file index `file`). When `offsets` is given, the text offset of each
 * token's first character is pushed to it (parallel to the result).
 */
export function lexC(text: string, file: number, onError?: CLexError, offsets?: number[]): CTok[] {
  const t = lexTable(text, onError);
  if (t.bad) for (const [x, msg] of t.bad) onError!(t.line[x]!, t.col[x]!, msg);
  const toks: CTok[] = new Array(t.n);
  for (let i = 0; i < t.n; i++) {
    const f = t.flags[i]!;
    toks[i] = { k: KIND_NAMES[t.k[i]!]!, v: t.v[i]!, file, line: t.line[i]!, col: t.col[i]!, bol: (f & F_BOL) !== 0, ws: (f & F_WS) !== 0 };
    offsets?.push(t.start[i]!);
  }
  return toks;
}

/** A copy of `a` with room for `cap` elements. */
export function widened<A extends Uint8Array | Int32Array>(a: A, cap: number): A {
  const b = new (a.constructor as new (n: number) => A)(cap);
  b.set(a);
  return b;
}

/** The tokens of `text` as a table (see lexC). */
export function lexTable(text: string, onError?: CLexError): CTokTable {
  const n = text.length;
  let cap = Math.max(16, n >> 2);
  const t: CTokTable = { n: 0, k: new Uint8Array(cap), v: [], line: new Int32Array(cap), col: new Int32Array(cap), flags: new Uint8Array(cap), start: new Int32Array(cap) };
  const grow = () => {
    cap *= 2;
    t.k = widened(t.k, cap);
    t.line = widened(t.line, cap);
    t.col = widened(t.col, cap);
    t.flags = widened(t.flags, cap);
    t.start = widened(t.start, cap);
  };
  /** A token's own error: kept in the table by the token's index, the token is made as without onError. */
  let tokenError: string | undefined;
  const tokErr = onError && ((msg: string) => { tokenError ??= msg; });
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let bol = true;
  let ws = false;
  const skipSplice = () => {
    while (text.charCodeAt(i) === 92 && (text.charCodeAt(i + 1) === 10 || (text.charCodeAt(i + 1) === 13 && text.charCodeAt(i + 2) === 10))) {
      i += text.charCodeAt(i + 1) === 13 ? 3 : 2;
      line++;
      lineStart = i;
    }
  };
  while (i < n) {
    skipSplice();
    if (i >= n) break;
    const c = text.charCodeAt(i);
    if (c === 10) {
      i++;
      line++;
      lineStart = i;
      bol = true;
      ws = false;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
      i++;
      ws = true;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      const at = { line, col: i - lineStart + 1 };
      for (let j = i; j < stop; j++) {
        if (text.charCodeAt(j) === 10) {
          line++;
          lineStart = j + 1;
        }
      }
      if (end < 0) onError?.(at.line, at.col, 'unterminated comment');
      i = stop;
      ws = true;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) {
        if (text.charCodeAt(i) === 92 && text.charCodeAt(i + 1) === 10) {
          i += 2;
          line++;
          lineStart = i;
        } else i++;
      }
      ws = true;
      continue;
    }
    const col = i - lineStart + 1;
    const startLine = line;
    const start = i;
    let k: number;
    let v: string;
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(text.charCodeAt(j))) j++;
      v = text.slice(i, j);
      // L"..." / L'x'
      if ((v === 'L' || v === 'u8' || v === 'u' || v === 'U') && (text[j] === '"' || text[j] === "'")) {
        tokErr?.('wide or Unicode character and string literals are not supported in kernel code');
      }
      k = 0;
      i = j;
    } else if ((c >= 48 && c <= 57) || (c === 46 && text.charCodeAt(i + 1) >= 48 && text.charCodeAt(i + 1) <= 57)) {
      let j = i + 1;
      for (;;) {
        const d = text.charCodeAt(j);
        if ((d === 43 || d === 45) && /[eEpP]/.test(text[j - 1]!)) j++;
        else if (isIdChar(d) || d === 46) j++;
        else break;
      }
      v = text.slice(i, j);
      k = 1;
      i = j;
    } else if (c === 34 || c === 39) {
      let j = i + 1;
      let spliced = false;
      // A backslash-newline inside the literal is a line splice (phase 2, before escapes): the
      // literal goes on on the next line without them (a long cmn_err format split in the source).
      const splices = () => {
        for (;;) {
          if (text.charCodeAt(j) !== 92) return;
          const nx = text.charCodeAt(j + 1);
          if (nx !== 10 && !(nx === 13 && text.charCodeAt(j + 2) === 10)) return;
          j += nx === 10 ? 2 : 3;
          line++;
          lineStart = j;
          spliced = true;
        }
      };
      for (;;) {
        splices();
        if (j >= n) break;
        const ch = text.charCodeAt(j);
        if (ch === c || ch === 10) break;
        j++;
        if (ch === 92) {
          splices();
          if (j < n && text.charCodeAt(j) !== 10) j++;
        }
      }
      if (j >= n || text.charCodeAt(j) !== c) {
        tokErr?.(c === 34 ? 'missing terminating " character' : "missing terminating ' character");
        // Tolerant: the literal ends at its line.
        j = Math.min(j, n) - 1;
      }
      v = text.slice(i, j + 1);
      if (spliced) v = v.replace(/\\\r?\n/g, '');
      k = c === 34 ? 2 : 3;
      i = j + 1;
    } else {
      k = K_PUNCT;
      v = text[i]!;
      const longer = PUNCTS_BY_FIRST.get(c);
      if (longer) {
        for (const p of longer) {
          if (text.startsWith(p, i)) {
            v = p;
            break;
          }
        }
      }
      if (!ONE_CHAR_PUNCT.includes(v[0]!)) {
        if (c > 127 && c !== 92 && c !== 64 && c !== 96) tokErr?.(`stray '\\x${c.toString(16)}' in program (non-ASCII character)`);
        k = 5;
      }
      i += v.length;
    }
    const at = t.n;
    if (at === cap) grow();
    t.k[at] = k;
    t.v.push(v);
    t.line[at] = startLine;
    t.col[at] = col;
    t.flags[at] = (bol ? F_BOL : 0) | (ws ? F_WS : 0);
    t.start[at] = start;
    t.n = at + 1;
    if (tokenError !== undefined) {
      (t.bad ??= new Map()).set(at, tokenError);
      tokenError = undefined;
    }
    bol = false;
    ws = false;
  }
  return t;
}
