/**
 * The files `kctx lint` and the language server read from disk: expanding paths to the C files
 * in them, reading one checked before it is read, linting one file (on the main thread or a
 * worker), and where the lint worker is. Shared by the CLI (cli.ts), its worker (lint-worker.ts)
 * and the server, so none of them imports another's entry.
 */
import { accessSync, constants, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KctxDiagnostic, LintOptions } from './engine';
import { anyTrigger, lintText, looksBinary, needleSet, skippedDiagnostic } from './engine';
import { isAscii } from 'node:buffer';
import { kernelTreeOf } from './kerneltree';
import { walkSources, WalkError, type WalkOptions } from './walk';
import { FileRefused, readFileBounded } from '../kernel-sim/io/files';

/** A path or option the user gave is wrong: `kctx lint` exits 2. */
export class UsageError extends Error {}

/**
 * The files to lint under the paths (each real file once), one at a time as the walk finds them
 * (the CLI's workers start on the first ones); throws a UsageError for a missing or unreadable path.
 */
export function* eachFile(paths: string[], opts: WalkOptions = {}): Generator<string> {
  for (const p of paths) {
    try {
      if (!statSync(p).isDirectory()) accessSync(p, constants.R_OK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') throw new UsageError(`cannot read '${p}': permission denied`);
    }
  }
  try {
    for (const f of walkSources(paths, opts)) if (f !== null) yield f;
  } catch (e) {
    if (e instanceof WalkError) throw new UsageError(e.message);
    throw e;
  }
}

/** The most read of one file; a larger one is not linted (a note says so), a device or FIFO is refused. */
export const MAX_READ_BYTES = 64 * 1024 * 1024;

/**
 * Reads a file to lint, checked before it is read: text, or the diagnostic of a file too large
 * to lint, or an error (a folder, a device such as /dev/zero, a FIFO: never read).
 */
export function readForLint(file: string, reuse?: { buf: Buffer }): { buf: Buffer } | { skipped: KctxDiagnostic } | { error: string } {
  try {
    return { buf: readFileBounded(file, MAX_READ_BYTES, reuse) };
  } catch (e) {
    if (!(e instanceof FileRefused)) return { error: `cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? e}` };
    if (e.code === 'EFBIG') return { skipped: skippedDiagnostic(`file not linted: ${e.reason}`) };
    return { error: `cannot read '${file}': ${e.reason}` };
  }
}

/** One read buffer for lintFile (most files are only scanned: no allocation, no garbage per file). */
const readBuffer = { buf: Buffer.alloc(0) };

/** A file's lint result. */
export interface FileLint { diagnostics: KctxDiagnostic[]; lines: number; error?: string }

/**
 * Reads a file and scans its bytes for the enabled rules' needles: its result when that settles
 * it (no enabled rule's trigger can match, or it could not be read), else its bytes to lint (valid
 * until the next read: decode them first) and how to decode them.
 */
export function readAndScan(file: string, opts: LintOptions): FileLint | { buf: Buffer; lines: number; encoding: 'latin1' | 'utf8' } {
  // the buffer is read only here (the text is a copy): the next file may reuse it
  const r = readForLint(file, readBuffer);
  if ('error' in r) return { diagnostics: [], lines: 0, error: r.error };
  if ('skipped' in r) return { diagnostics: [r.skipped], lines: 0 };
  const buf = r.buf;
  // Most files of a tree: no enabled rule's trigger, nothing more to do (not even the tree's era).
  // A file over the size limit is said to be skipped only when some enabled rule could have
  // reported on it (a firmware blob or a generated table has nothing for any rule: nothing was lost).
  const needles = needleSet(opts);
  if (needles) {
    // a byte scan for the words the triggers need (in a file that is not ASCII, a white-space run
    // also takes bytes 0x80 and up: UTF-8's Unicode spaces); decoded only when it has one, or a NUL
    // (looksBinary's case: its first 8 K characters are at most 32 KB of UTF-8)
    const scan = needles.scan(buf, true);
    if (!scan.hit && buf.subarray(0, 32768).indexOf(0) === -1) return { diagnostics: [], lines: scan.lines };
    // in ASCII, latin1 reads as UTF-8 does
    return { buf, lines: scan.lines, encoding: isAscii(buf) ? 'latin1' : 'utf8' };
  }
  let lines = 1;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
  return { buf, lines, encoding: isAscii(buf) ? 'latin1' : 'utf8' };
}

/**
 * The result of a file that the byte scan alone settles (lintFile would give the same), or the
 * size in bytes when it has to be linted (`kctx lint` sends only those to its workers).
 */
export function scanFile(file: string, opts: LintOptions): FileLint | { size: number } {
  const r = readAndScan(file, opts);
  return 'buf' in r ? { size: r.buf.length } : r;
}

/** Lints one file from disk (used by the main thread and by workers). */
export async function lintFile(file: string, opts: LintOptions): Promise<FileLint> {
  const r = readAndScan(file, opts);
  if (!('buf' in r)) return r;
  const { lines } = r;
  const text = r.buf.toString(r.encoding);
  if (!anyTrigger(text, opts) && !looksBinary(text)) return { diagnostics: [], lines };
  const era = (opts.era ?? 'auto') === 'auto' ? kernelTreeOf(file, opts.gate)?.era : undefined;
  const diagnostics = await lintText(text, file, { ...opts, ...(era ? { treeEra: era } : {}), suppressionFixes: false });
  return { diagnostics, lines };
}

export function workerEntry(): { file: string; argv?: string[] } {
  const beside = join(__dirname, 'lint-worker.js');
  if (existsSync(beside)) return { file: beside };
  return { file: process.argv[1]!, argv: ['lint', '--kctx-worker'] }; // the bundle: kctx.js lint --kctx-worker
}
