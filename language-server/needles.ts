/**
 * The byte scan `kctx lint` runs over every file before anything else: does an ASCII file hold a
 * needle, a word without which no enabled rule's trigger can match? Most files of a kernel tree
 * hold none: they are then neither decoded nor matched against the triggers (the trigger regex and
 * the UTF-8 decoding cost more than the read). The same loop counts the lines.
 *
 * A needle is a literal, where a space stands for any run of ASCII white space, none included
 * (`& V_` for the trigger `&\s*V_\w`). Sound for ASCII text only: in other text `\s` also matches
 * Unicode spaces, and the caller decodes and matches such a file as before.
 */

/** ASCII white space as `\s` matches it: space, \t, \n, \v, \f, \r. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

interface Anchored {
  /** The needle's literal parts (between its white-space runs). */
  parts: string[];
  /** The part holding the anchor, and the anchor's offset in it. */
  part: number;
  at: number;
}

/** How common a character is in C source (a lower sum makes a rarer anchor). */
function commonness(c: string): number {
  if ('etainosrlcdu'.includes(c)) return 3;
  if (c >= 'a' && c <= 'z') return 2;
  if (c === '_' || c === ' ' || c === '(' || c === ')' || c === ';' || c === ',') return 2;
  return 1;
}

export class NeedleSet {
  /** Bigram (previous byte << 8 | byte) -> 1 when some needle is anchored on it. */
  private readonly table = new Uint8Array(65536);
  private readonly anchored = new Map<number, Anchored[]>();

  constructor(readonly needles: readonly string[]) {
    for (const n of needles) {
      const parts = n.split(' ').filter(Boolean);
      let best: { part: number; at: number; score: number } | null = null;
      parts.forEach((p, pi) => {
        for (let k = 0; k + 1 < p.length; k++) {
          const score = commonness(p[k]!) + commonness(p[k + 1]!);
          if (!best || score < best.score) best = { part: pi, at: k, score };
        }
      });
      if (!best || [...n].some((ch) => ch.charCodeAt(0) > 127)) throw new Error(`needle '${n}' needs two ASCII characters in a row`);
      const b = best as { part: number; at: number };
      const p = parts[b.part]!;
      const g = (p.charCodeAt(b.at) << 8) | p.charCodeAt(b.at + 1);
      this.table[g] = 1;
      const list = this.anchored.get(g);
      const a = { parts, part: b.part, at: b.at };
      if (list) list.push(a); else this.anchored.set(g, [a]);
    }
  }

  /** Whether the bytes hold a needle, and their line count (1 + the line feeds). */
  scan(buf: Uint8Array): { hit: boolean; lines: number } {
    const table = this.table;
    const n = buf.length;
    let lines = 1;
    let prev = 0;
    let i = 0;
    for (; i < n; i++) {
      const c = buf[i]!;
      if (c === 10) lines++;
      if (table[(prev << 8) | c] !== 0 && this.verify(buf, i)) break;
      prev = c;
    }
    if (i === n) return { hit: false, lines };
    // a needle: the rest only for its lines
    for (i++; i < n; i++) if (buf[i] === 10) lines++;
    return { hit: true, lines };
  }

  /** Is a needle anchored on the bigram ending at `i` there in full? */
  private verify(buf: Uint8Array, i: number): boolean {
    for (const a of this.anchored.get((buf[i - 1]! << 8) | buf[i]!)!) {
      const start = i - 1 - a.at;
      if (!partAt(buf, a.parts[a.part]!, start)) continue;
      // the parts before, each after a run of white space
      let ok = true;
      let end = start;
      for (let p = a.part - 1; ok && p >= 0; p--) {
        while (end > 0 && isSpace(buf[end - 1]!)) end--;
        const s = a.parts[p]!;
        ok = partAt(buf, s, end - s.length);
        end -= s.length;
      }
      let from = start + a.parts[a.part]!.length;
      for (let p = a.part + 1; ok && p < a.parts.length; p++) {
        while (from < buf.length && isSpace(buf[from]!)) from++;
        const s = a.parts[p]!;
        ok = partAt(buf, s, from);
        from += s.length;
      }
      if (ok) return true;
    }
    return false;
  }
}

function partAt(buf: Uint8Array, s: string, at: number): boolean {
  if (at < 0 || at + s.length > buf.length) return false;
  for (let q = 0; q < s.length; q++) if (buf[at + q] !== s.charCodeAt(q)) return false;
  return true;
}
