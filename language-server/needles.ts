/**
 * The byte scan `kctx lint` runs over every file before anything else: does a file hold a needle,
 * a word without which no enabled rule's trigger can match? Most files of a kernel tree hold none:
 * they are then neither decoded nor matched against the triggers (the trigger regex and the
 * decoding cost more than the read).
 *
 * A needle is a literal, where a space stands for any run of white space, none included (`& V_`
 * for the trigger `&\s*V_\w`), and a `\b` at either end says the byte beside it is not a word
 * byte, as the trigger's `\b` does (`\bt_ctx\b`: not `ct_ctx`). In ASCII text a white-space run is
 * ASCII white space; in UTF-8 text that is not all ASCII it also takes bytes 0x80 and up, since
 * `\s` matches Unicode spaces there.
 *
 * The search skips (Wu-Manber over byte pairs): each needle has a key, its longest literal part;
 * a window of the shortest key's length m moves by how far its last byte pair is from the end of
 * some key's first m bytes (m - 1 when the pair is in none), and only a pair that ends one is
 * verified, needle by needle. Keys shorter than 8 bytes are searched apart (Buffer.indexOf, from
 * the key's rarest byte). The lines are counted four bytes at a time.
 */

/** ASCII white space as `\s` matches it: space, \t, \n, \v, \f, \r. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** A byte of a word as `\b` reads it (`\w`: ASCII letters, digits, `_`; any other byte, ASCII or not, is not). */
function isWordByte(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

interface Keyed {
  /** The needle's literal parts (between its white-space runs). */
  parts: string[];
  /** The part that is its key. */
  part: number;
  /** `\b` before its first part / after its last (the byte there is not a word byte). */
  wordStart: boolean;
  wordEnd: boolean;
}

/**
 * One skipping search (Wu-Manber over byte pairs) for keys of at least its window's length: the
 * window of m bytes moves by how far its last byte pair is from the end of some key's first m
 * bytes (m - 1 when the pair is in none), and only a pair that ends one is verified.
 */
class Skipper {
  /** How far the window may move when its last byte pair is (previous byte << 8 | byte). */
  private readonly shift: Uint8Array;
  /** Byte pair ending a key's first m bytes -> those needles. */
  private readonly ending = new Map<number, Keyed[]>();

  constructor(keyed: readonly Keyed[], private readonly m: number) {
    this.shift = new Uint8Array(65536).fill(m - 1);
    for (const k of keyed) {
      const key = k.parts[k.part]!;
      for (let j = 1; j < m; j++) {
        const g = (key.charCodeAt(j - 1) << 8) | key.charCodeAt(j);
        this.shift[g] = Math.min(this.shift[g]!, m - 1 - j);
      }
      const g = (key.charCodeAt(m - 2) << 8) | key.charCodeAt(m - 1);
      const list = this.ending.get(g);
      if (list) list.push(k); else this.ending.set(g, [k]);
    }
  }

  has(buf: Uint8Array, wide: boolean): boolean {
    const m = this.m;
    // (the skipping loop is a function of its own: V8 optimises it once, not again at each verify)
    for (let i = skip(buf, this.shift, m - 1); i !== -1; i = skip(buf, this.shift, i + 1)) {
      const start = i - m + 1;
      for (const k of this.ending.get((buf[i - 1]! << 8) | buf[i]!)!) if (needleAt(buf, k, start, wide)) return true;
    }
    return false;
  }
}

/** From the window ending at i, the next one whose last byte pair ends a key's first bytes (its end), or -1. */
function skip(buf: Uint8Array, shift: Uint8Array, i: number): number {
  const n = buf.length;
  while (i < n) {
    const s = shift[(buf[i - 1]! << 8) | buf[i]!]!;
    if (s === 0) return i;
    i += s;
  }
  return -1;
}

/** Keys of this many bytes or more are searched by the skipper (a long window skips far). */
const LONG_KEY = 8;

/**
 * Bytes of C source from the most common on: Buffer.indexOf looks for its pattern's first byte,
 * so a short key is looked for from a byte that comes late here (`wi_add` of `swi_add`).
 */
const COMMON = ' \t\n_etaoinsrlcdpumfhgb(),;*0ETAOINSRLCDPUMF';

/** Where in a short key to start looking (its rarest byte, the last byte left out: at least two bytes are looked for). */
function rareFrom(key: string): number {
  let best = 0;
  let rank = -1;
  for (let j = 0; j < key.length - 1; j++) {
    const r = COMMON.indexOf(key[j]!);
    const at = r === -1 ? COMMON.length : r;
    if (at > rank) { rank = at; best = j; }
  }
  return best;
}

export class NeedleSet {
  /** The skipper of the keys of LONG_KEY bytes or more. */
  private readonly skippers: Skipper[] = [];
  /** Needles whose key is shorter: key -> what Buffer.indexOf looks for (the key from its rarest byte), how far the key starts before it, the needles. */
  private readonly short = new Map<string, { tail: string; back: number; list: Keyed[] }>();

  constructor(readonly needles: readonly string[]) {
    const long: Keyed[] = [];
    for (const n of needles) {
      const wordStart = n.startsWith('\\b');
      const wordEnd = n.length > 2 && n.endsWith('\\b');
      const parts = n.slice(wordStart ? 2 : 0, wordEnd ? -2 : undefined).split(' ').filter(Boolean);
      if (!parts.length || [...n].some((ch) => ch.charCodeAt(0) > 127)) throw new Error(`needle '${n}' needs an ASCII character`);
      let part = 0;
      parts.forEach((p, i) => { if (p.length > parts[part]!.length) part = i; });
      const k: Keyed = { parts, part, wordStart, wordEnd };
      const key = parts[part]!;
      if (key.length >= LONG_KEY) long.push(k);
      else {
        const entry = this.short.get(key);
        if (entry) entry.list.push(k);
        else {
          const back = rareFrom(key);
          this.short.set(key, { tail: key.slice(back), back, list: [k] });
        }
      }
    }
    if (long.length) this.skippers.push(new Skipper(long, Math.min(...long.map((k) => k.parts[k.part]!.length))));
  }

  /**
   * Whether the bytes hold a needle, and their line count (1 + the line feeds). `wide`: the bytes
   * are UTF-8 text that is not all ASCII, where `\s` also matches Unicode spaces (their bytes are
   * all 0x80 or more: a white-space run of a needle then also takes such bytes).
   */
  scan(buf: Uint8Array, wide = false): { hit: boolean; lines: number } {
    return { hit: this.has(buf, wide), lines: 1 + lineFeeds(buf) };
  }

  /** Whether the bytes hold a needle (`wide`: as scan). */
  has(buf: Uint8Array, wide = false): boolean {
    for (const s of this.skippers) if (s.has(buf, wide)) return true;
    if (this.short.size) {
      const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      for (const { tail, back, list } of this.short.values()) {
        for (let at = b.indexOf(tail, back, 'latin1'); at !== -1; at = b.indexOf(tail, at + 1, 'latin1')) {
          for (const k of list) if (needleAt(buf, k, at - back, wide)) return true;
        }
      }
    }
    return false;
  }
}

/** Is the needle there with its key part starting at `start`? */
function needleAt(buf: Uint8Array, k: Keyed, start: number, wide: boolean): boolean {
  if (!partAt(buf, k.parts[k.part]!, start)) return false;
  // the parts before, each after a run of white space
  let end = start;
  for (let p = k.part - 1; p >= 0; p--) {
    while (end > 0 && (isSpace(buf[end - 1]!) || (wide && buf[end - 1]! >= 128))) end--;
    const s = k.parts[p]!;
    if (!partAt(buf, s, end - s.length)) return false;
    end -= s.length;
  }
  if (k.wordStart && end > 0 && isWordByte(buf[end - 1]!)) return false;
  let from = start + k.parts[k.part]!.length;
  for (let p = k.part + 1; p < k.parts.length; p++) {
    while (from < buf.length && (isSpace(buf[from]!) || (wide && buf[from]! >= 128))) from++;
    const s = k.parts[p]!;
    if (!partAt(buf, s, from)) return false;
    from += s.length;
  }
  return !(k.wordEnd && from < buf.length && isWordByte(buf[from]!));
}

function partAt(buf: Uint8Array, s: string, at: number): boolean {
  if (at < 0 || at + s.length > buf.length) return false;
  for (let q = 0; q < s.length; q++) if (buf[at + q] !== s.charCodeAt(q)) return false;
  return true;
}

/**
 * The line feeds in the bytes, counted a 32-bit word at a time where the bytes are aligned: each
 * word adds a 1 to the byte lane of each of its line feeds, summed across the lanes every 255
 * words (before a lane could overflow).
 */
export function lineFeeds(buf: Uint8Array): number {
  const n = buf.length;
  let count = 0;
  let i = 0;
  const head = Math.min(n, (4 - (buf.byteOffset & 3)) & 3);
  for (; i < head; i++) if (buf[i] === 10) count++;
  const words = (n - i) >> 2;
  if (words > 0) {
    const w32 = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let w = 0; w < words;) {
      const end = Math.min(words, w + 255);
      let lanes = 0;
      for (; w < end; w++) {
        const x = w32[w]! ^ 0x0a0a0a0a;
        // a byte's high bit is set where that byte of x is 0 (a line feed in the word)
        lanes = (lanes + ((~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080) >>> 7)) | 0;
      }
      count += (lanes & 0xff) + ((lanes >>> 8) & 0xff) + ((lanes >>> 16) & 0xff) + (lanes >>> 24);
    }
    i += words << 2;
  }
  for (; i < n; i++) if (buf[i] === 10) count++;
  return count;
}

/**
 * A token of one alternative of a trigger: a literal character, ' ' (white space, any run), WORD_EDGE
 * (`\b`), or null (a gap the scan cannot read).
 */
type Tok = string | null | typeof WORD_EDGE;
const WORD_EDGE = 0;

/** More alternatives than this (after groups and small classes are expanded) and a trigger gets no needles. */
const MAX_ALTERNATIVES = 512;

class Unsupported extends Error {}

const isWordChar = (ch: string | undefined) => ch !== undefined && /\w/.test(ch);

/**
 * A rule's needles, read from its trigger (the one place its words are written): each alternative
 * of the regex (groups and small character classes such as `[rw]` expanded) gives its first
 * literal run, `\s` quantified or not read as a space (any run of white space); a `\b` next to a
 * word character at either end of the run stays (`\bt_ctx\b`: the scan skips `ct_ctx`); a needle
 * another one holds is dropped. Null when the trigger uses what this reading does not know
 * (flags, look-arounds, counted repeats, a group repeated, a backslash as a literal) or an
 * alternative starts with no literal: every text is then matched against the trigger, as before.
 */
export function needlesOf(trigger: RegExp): string[] | null {
  if (trigger.flags.replace(/[gdy]/g, '')) return null;
  let seqs: Tok[][];
  try {
    const r = alternatives(trigger.source, 0, false);
    if (r.at !== trigger.source.length) return null;
    seqs = r.seqs;
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
  const found: string[] = [];
  for (const seq of seqs) {
    let run = '';
    // a \b just before the run's first character, and just after its last
    let edge = false;
    let startEdge = false;
    for (const t of seq) {
      if (t === WORD_EDGE) { edge = true; continue; }
      if (t === null) { if (run.trim()) break; run = ''; edge = false; continue; }
      if (t === ' ') { edge = false; if (run && !run.endsWith(' ')) run += ' '; continue; }
      if (!run) startEdge = edge && isWordChar(t);
      edge = false;
      run += t;
    }
    const endEdge = edge && isWordChar(run[run.length - 1]);
    const needle = run.trim();
    if (!needle || [...needle].some((ch) => ch.charCodeAt(0) > 127) || needle.includes('\\')) return null;
    found.push(`${startEdge ? '\\b' : ''}${needle}${endEdge ? '\\b' : ''}`);
  }
  const unique = [...new Set(found)];
  // a text holding a needle holds every needle that needle implies: dropped
  return unique.filter((n) => !unique.some((o) => o !== n && implies(n, o))).sort();
}

/** Does a text that holds needle n (its `\b`s included) hold needle o? */
function implies(n: string, o: string): boolean {
  const bare = (x: string) => ({ text: x.replace(/^\\b/, '').replace(/(.)\\b$/, '$1'), start: x.startsWith('\\b'), end: x.length > 2 && x.endsWith('\\b') });
  const a = bare(n);
  const b = bare(o);
  for (let p = a.text.indexOf(b.text); p !== -1; p = a.text.indexOf(b.text, p + 1)) {
    const q = p + b.text.length;
    // o's \b holds where n's own does, or beside a character of n that is not a word character (a space of n may be empty: not that)
    const startOk = !b.start || (p === 0 ? a.start : a.text[p - 1] !== ' ' && !isWordChar(a.text[p - 1]));
    const endOk = !b.end || (q === a.text.length ? a.end : a.text[q] !== ' ' && !isWordChar(a.text[q]));
    if (startOk && endOk) return true;
  }
  return false;
}

/** The alternatives of the regex source from `i` to its end or (inside a group) its closing parenthesis. */
function alternatives(src: string, i: number, inGroup: boolean): { seqs: Tok[][]; at: number } {
  const out: Tok[][] = [];
  let cur: Tok[][] = [[]];
  const append = (opts: Tok[][]) => {
    const next: Tok[][] = [];
    for (const a of cur) for (const b of opts) next.push([...a, ...b]);
    if (next.length > MAX_ALTERNATIVES) throw new Unsupported();
    cur = next;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '|') { out.push(...cur); cur = [[]]; i++; continue; }
    if (c === ')') { if (!inGroup) throw new Unsupported(); break; }
    let opts: Tok[][];
    let single = true; // one character wide (a quantifier on it can be read)
    if (c === '(') {
      if (src[i + 1] === '?') {
        if (src[i + 2] !== ':') throw new Unsupported();
        i += 2;
      }
      const g = alternatives(src, i + 1, true);
      if (src[g.at] !== ')') throw new Unsupported();
      opts = g.seqs;
      i = g.at + 1;
      single = false;
    } else if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) throw new Unsupported();
      i += 2;
      if (e === 'b') { append([[WORD_EDGE]]); continue; }
      if (e === 'B') continue;
      if (e === 's') opts = [[' ']];
      else if (/[dDwWS]/.test(e)) opts = [[null]];
      else if (/[0-9a-zA-Z]/.test(e)) throw new Unsupported(); // \n, \t, \u..., back-references
      else opts = [[e]];
    } else if (c === '[') {
      const end = src.indexOf(']', i + 1);
      if (end < 0) throw new Unsupported();
      const body = src.slice(i + 1, end);
      // a small class of plain characters is an alternative each; anything else is a gap
      opts = /^[A-Za-z0-9_]{1,4}$/.test(body) ? [...new Set(body)].map((ch) => [ch]) : [[null]];
      i = end + 1;
    } else if (c === '^' || c === '$') { i++; continue; }
    else if (c === '.') { opts = [[null]]; i++; }
    else if ('*+?{}'.includes(c)) throw new Unsupported();
    else { opts = [[c]]; i++; }
    const q = src[i];
    if (q === '{') throw new Unsupported();
    if (q === '*' || q === '?' || q === '+') {
      i++;
      if (src[i] === '?') i++; // lazy: the same characters
      const space = opts.length === 1 && opts[0]!.length === 1 && opts[0]![0] === ' ';
      if (space) opts = [[' ']];
      else if (q === '+' && single) opts = opts.map((o) => [...o, null]); // once, then maybe more
      else if (q === '+') throw new Unsupported();
      else opts = [[null]];
    }
    append(opts);
  }
  out.push(...cur);
  return { seqs: out, at: i };
}
