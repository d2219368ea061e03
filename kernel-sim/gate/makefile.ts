/**
 * Reading a kernel tree's makefiles: the text of one (bounded, latin1, null when it cannot be
 * read) and its logical lines (backslash-newlines joined, each with its first line's number).
 * Shared by build.ts (assignments and includes) and generated.ts (generated headers' rules).
 */
import { readFileSync, statSync } from 'node:fs';

/** Largest makefile read. */
export const MAX_MAKEFILE_BYTES = 4 * 1024 * 1024;

/** The makefile's text, or null when it is missing, unreadable or larger than MAX_MAKEFILE_BYTES. */
export function makefileText(path: string): string | null {
  try {
    if (statSync(path).size > MAX_MAKEFILE_BYTES) return null;
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** A makefile's logical lines (backslash-newlines joined), each with its first physical line's number. */
export function logicalLines(text: string): Array<{ text: string; line: number }> {
  const lines: Array<{ text: string; line: number }> = [];
  text.split('\n').forEach((raw, i) => {
    const last = lines[lines.length - 1];
    if (last && /\\\r?$/.test(last.text)) last.text = last.text.replace(/\\\r?$/, ' ') + raw;
    else lines.push({ text: raw, line: i + 1 });
  });
  return lines;
}
