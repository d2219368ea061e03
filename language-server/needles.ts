/**
 * The byte scan `kctx lint` runs over every file before anything else: does an ASCII file hold a
 * needle, a word without which no enabled rule's trigger can match? Most files of a kernel tree
 * hold none: they are then neither decoded nor matched against the triggers (the trigger regex and
 * the UTF-8 decoding cost more than the read).
 *
 * A needle is a literal, where a space stands for any run of ASCII white space, none included
 * (`& V_` for the trigger `&\s*V_\w`). Sound for ASCII text only: in other text `\s` also matches
 * Unicode spaces, and the caller decodes and matches such a file as before.
 *
 * The search skips (Wu-Manber over byte pairs): each needle has a key, its longest literal part;
 * a window of the shortest key's length m moves by how far its last byte pair is from the end of
 * some key's first m bytes (m - 1 when the pair is in none), and only a pair that ends one is
 * verified, needle by needle. Keys shorter than 4 bytes are searched apart (Buffer.indexOf). The
 * lines are counted four bytes at a time.
 */

/** ASCII white space as `\s` matches it: space, \t, \n, \v, \f, \r. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

interface Keyed {
  /** The needle's literal parts (between its white-space runs). */
  parts: string[];
  /** The part that is its key. */
  part: number;
}

/** Keys shorter than this are searched with Buffer.indexOf (a short window would barely skip). */
const MIN_KEY = 8;

export class NeedleSet {
  /** How far the window may move when its last byte pair is (previous byte << 8 | byte). */
  private readonly shift: Uint8Array;
  /** The shortest long key's length (the window). */
  private readonly m: number;
  /** Byte pair ending a key's first m bytes -> those needles. */
  private readonly ending = new Map<number, Keyed[]>();
  /** Needles whose key is short: key -> needles. */
  private readonly short = new Map<string, Keyed[]>();

  constructor(readonly needles: readonly string[]) {
    const long: Keyed[] = [];
    for (const n of needles) {
      const parts = n.split(' ').filter(Boolean);
      if (!parts.length || [...n].some((ch) => ch.charCodeAt(0) > 127)) throw new Error(`needle '${n}' needs an ASCII character`);
      let part = 0;
      parts.forEach((p, i) => { if (p.length > parts[part]!.length) part = i; });
      const k: Keyed = { parts, part };
      if (parts[part]!.length >= MIN_KEY) long.push(k);
      else {
        const key = parts[part]!;
        const list = this.short.get(key);
        if (list) list.push(k); else this.short.set(key, [k]);
      }
    }
    this.m = long.length ? Math.min(...long.map((k) => k.parts[k.part]!.length)) : 0;
    const m = this.m;
    this.shift = new Uint8Array(65536).fill(Math.max(1, m - 1));
    for (const k of long) {
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

  /** Whether the bytes hold a needle, and their line count (1 + the line feeds). */
  scan(buf: Uint8Array): { hit: boolean; lines: number } {
    return { hit: this.has(buf), lines: 1 + lineFeeds(buf) };
  }

  /** Whether the bytes hold a needle. */
  has(buf: Uint8Array): boolean {
    const n = buf.length;
    const m = this.m;
    if (m) {
      const shift = this.shift;
      for (let i = m - 1; i < n;) {
        const s = shift[(buf[i - 1]! << 8) | buf[i]!]!;
        if (s !== 0) { i += s; continue; }
        const start = i - m + 1;
        for (const k of this.ending.get((buf[i - 1]! << 8) | buf[i]!)!) if (needleAt(buf, k, start)) return true;
        i++;
      }
    }
    if (this.short.size) {
      const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      for (const [key, list] of this.short) {
        for (let at = b.indexOf(key, 0, 'latin1'); at !== -1; at = b.indexOf(key, at + 1, 'latin1')) {
          for (const k of list) if (needleAt(buf, k, at)) return true;
        }
      }
    }
    return false;
  }
}

/** Is the needle there with its key part starting at `start`? */
function needleAt(buf: Uint8Array, k: Keyed, start: number): boolean {
  if (!partAt(buf, k.parts[k.part]!, start)) return false;
  // the parts before, each after a run of white space
  let end = start;
  for (let p = k.part - 1; p >= 0; p--) {
    while (end > 0 && isSpace(buf[end - 1]!)) end--;
    const s = k.parts[p]!;
    if (!partAt(buf, s, end - s.length)) return false;
    end -= s.length;
  }
  let from = start + k.parts[k.part]!.length;
  for (let p = k.part + 1; p < k.parts.length; p++) {
    while (from < buf.length && isSpace(buf[from]!)) from++;
    const s = k.parts[p]!;
    if (!partAt(buf, s, from)) return false;
    from += s.length;
  }
  return true;
}

function partAt(buf: Uint8Array, s: string, at: number): boolean {
  if (at < 0 || at + s.length > buf.length) return false;
  for (let q = 0; q < s.length; q++) if (buf[at + q] !== s.charCodeAt(q)) return false;
  return true;
}

/** The line feeds in the bytes, counted a 32-bit word at a time where the bytes are aligned. */
export function lineFeeds(buf: Uint8Array): number {
  const n = buf.length;
  let count = 0;
  let i = 0;
  const head = Math.min(n, (4 - (buf.byteOffset & 3)) & 3);
  for (; i < head; i++) if (buf[i] === 10) count++;
  const words = (n - i) >> 2;
  if (words > 0) {
    const w32 = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let w = 0; w < words; w++) {
      const x = w32[w]! ^ 0x0a0a0a0a;
      // a byte's high bit in z is set where that byte of x is 0 (a line feed in the word)
      const z = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080;
      if (z !== 0) count += Math.imul(z >>> 7, 0x01010101) >>> 24;
    }
    i += words << 2;
  }
  for (; i < n; i++) if (buf[i] === 10) count++;
  return count;
}

/** A token of one alternative of a trigger: a literal character, ' ' (white space, any run), or null (a gap the scan cannot read). */
type Tok = string | null;

/** More alternatives than this (after groups and small classes are expanded) and a trigger gets no needles. */
const MAX_ALTERNATIVES = 512;

class Unsupported extends Error {}

/**
 * A rule's needles, read from its trigger (the one place its words are written): each alternative
 * of the regex (groups and small character classes such as `[rw]` expanded) gives its first
 * literal run, `\s` quantified or not read as a space (any run of white space); a needle another
 * one contains is dropped. Null when the trigger uses what this reading does not know (flags,
 * look-arounds, counted repeats, a group repeated) or an alternative starts with no literal:
 * every text is then matched against the trigger, as before.
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
    for (const t of seq) {
      if (t === null) { if (run.trim()) break; run = ''; continue; }
      if (t === ' ') { if (run && !run.endsWith(' ')) run += ' '; continue; }
      run += t;
    }
    const needle = run.trim();
    if (!needle || [...needle].some((ch) => ch.charCodeAt(0) > 127)) return null;
    found.push(needle);
  }
  const unique = [...new Set(found)];
  // a text holding a needle holds every needle that needle contains (a space of the one is a space of the other)
  return unique.filter((n) => !unique.some((o) => o !== n && n.includes(o))).sort();
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
      if (e === 'b' || e === 'B') continue;
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
