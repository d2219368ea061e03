/**
 * mdb output in colour for the Debug Console: ANSI SGR sequences around a dcmd's column
 * headings (bold), error lines (red), kernel addresses (cyan) and `function+offset` frames
 * (yellow). Only the debug adapter uses it, and only when the client said it renders ANSI
 * (`supportsANSIStyling` in initialize): the CLI, the mdb output channel and pipes get the plain
 * text. Removing the sequences gives back the plain text byte for byte.
 */

const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const CYAN = '\x1b[36m';

/** Two or more upper-case words and nothing else (as the mdb grammar's `header`). */
const HEADING = /^\s*[A-Z][A-Z0-9_%#/-]*(?:\s+[A-Z][A-Z0-9_%#/-]*)+\s*$/;
/** `mdb: ...` errors and `...: warning` lines as mdb prints them. */
const ERROR = /^mdb: /;
/** A frame `name+0xoff` (also `name+8`, mdb's decimal form below 10), or a 16-digit address. */
const TOKEN = /\b([A-Za-z_][\w`.]*\+(?:0x[0-9a-f]+|[0-9]))\b|\b([0-9a-f]{16})\b/g;

export function colourMdb(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!line) return line;
      if (ERROR.test(line)) return RED + line + RESET;
      if (HEADING.test(line)) return BOLD + line + RESET;
      return line.replace(TOKEN, (all, frame: string | undefined) => (frame ? YELLOW : CYAN) + all + RESET);
    })
    .join('\n');
}

