/**
 * mdb's output buffer (mdb_io.c) as far as the formatting dcmds and ::print depend on it: an
 * 80-column line with auto-wrap (a field that would pass column 80 starts a new line), an
 * optional 16-column margin that indents each new line (MDB_IOB_INDENT, set by `/` and `=`),
 * tab stops, and `%-16x`-style fields. Warnings go out at once, while the line being built waits
 * for its newline, as mdb's separate stderr and stdout buffers do.
 */

export const IOB_COLS = 80;
export const IOB_MARGIN = 16;
export const IOB_TABSTOP = 8;

export class Iob {
  readonly cols: number = IOB_COLS;
  readonly margin: number = IOB_MARGIN;
  tabstop: number = IOB_TABSTOP;
  /** Auto-wrap (off for a pipe, as mdb_iob_pipe does). */
  autowrap = true;
  private indentOn = false;
  private buf = '';

  constructor(private readonly sink: (line: string) => void) {}

  /** Characters on the current line (iob_nbytes). */
  get nbytes(): number {
    return this.buf.length;
  }

  private doIndent(): void {
    if (this.buf.length === 0 && this.margin !== 0 && this.indentOn) this.buf = ' '.repeat(this.margin);
  }

  private unindent(): void {
    if (this.buf.length !== 0 && this.buf.length === this.margin && /^ *$/.test(this.buf)) this.buf = '';
  }

  setIndent(): void {
    this.indentOn = true;
    this.doIndent();
  }

  clrIndent(): void {
    this.indentOn = false;
    this.unindent();
  }

  get indenting(): boolean {
    return this.indentOn;
  }

  /** Would `n` more characters pass the right edge of a non-empty line (IOB_WRAPNOW)? */
  wrapNow(n: number): boolean {
    return this.autowrap && this.buf.length !== 0 && n + this.buf.length > this.cols;
  }

  /** Ends the line. */
  nl(): void {
    this.sink(this.buf);
    this.buf = '';
    this.doIndent();
  }

  /** A warning: printed at once, before the line still being built. */
  warn(message: string): void {
    this.sink(`mdb: ${message}`);
  }

  /** Drops the line being built (mdb_iob_discard, after a failed read). */
  discard(): void {
    this.buf = '';
  }

  /** Ends the line only if something is on it (mdb_iob_nlflush). */
  nlflush(): void {
    this.unindent();
    if (this.buf.length !== 0) this.nl();
    else this.doIndent();
  }

  private room(): number {
    return this.autowrap ? this.cols - this.buf.length : Number.MAX_SAFE_INTEGER;
  }

  fill(c: string, n: number): void {
    while (n > 0) {
      const room = this.room();
      const m = Math.min(n, room);
      this.buf += c.repeat(m);
      n -= m;
      if (m === room && n !== 0) this.nl();
    }
  }

  /** mdb_iob_nputs: text, wrapped at the right edge; `\n` and `\t` act. */
  puts(s: string): void {
    let seg = '';
    for (const ch of s) {
      if (ch === '\n' || ch === '\t') {
        this.putsPlain(seg);
        seg = '';
        if (ch === '\t') this.tab();
        else this.nl();
      } else seg += ch;
    }
    this.putsPlain(seg);
  }

  private putsPlain(s: string): void {
    let left = s;
    while (left.length) {
      const room = this.room();
      const m = Math.min(left.length, room);
      this.buf += left.slice(0, m);
      left = left.slice(m);
      if (m === room && left.length !== 0) this.nl();
    }
  }

  /** To the next tab stop, or a new line past the edge. */
  tab(): void {
    if (this.tabstop === 0) return;
    const n = Math.floor((this.buf.length + this.tabstop) / this.tabstop) * this.tabstop;
    if (n < this.cols) this.fill(' ', n - this.buf.length);
    else this.nl();
  }

  /** `%NT`: to the next multiple of N, unless already on one. */
  tabTo(width: number): void {
    if (width !== 0 && this.buf.length % width !== 0) {
      const ts = this.tabstop;
      this.tabstop = width;
      this.tab();
      this.tabstop = ts;
    }
  }

  /** mdb_iob_ws: n blanks, or a new line if they would reach the edge. */
  ws(n: number): void {
    if (this.buf.length + n < this.cols) this.fill(' ', n);
    else this.nl();
  }

  /**
   * One printf conversion: `s` in a field of `width` (left-justified with `-`), with an optional
   * alternate-form prefix (`0x`, `0`) or suffix (`:` of `%#a`), wrapped as a whole.
   */
  field(s: string, width = 0, left = false, alt = '', altSuffix = false, zeroFill = false): void {
    const len = s.length;
    const altlen = alt.length;
    if (len + altlen > width) width = len + altlen;
    if (this.wrapNow(width)) this.nl();
    if (len < width - altlen && !left) this.fill(zeroFill ? '0' : ' ', width - altlen - len);
    if (alt && !altSuffix) this.puts(alt);
    if (len) this.puts(s);
    if (alt && altSuffix) this.puts(alt);
    if (len + altlen < width && left) this.ws(width - altlen - len);
  }

  /** Literal text of a format string (wrapped as a whole unless it starts a new line). */
  text(s: string): void {
    if (!s) return;
    if (this.wrapNow(s.length) && s[0] !== '\n') this.nl();
    this.puts(s);
  }
}
