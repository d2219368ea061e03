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
