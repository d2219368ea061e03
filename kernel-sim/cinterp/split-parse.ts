/**
 * Parsing a big translation unit on two threads: the preprocessed text is cut between two
 * top-level constructs (after the closing brace of a function body), this thread parses and
 * copies the first part while a worker (parse-worker.ts, kept for the process) parses and copies
 * the second; the two copies are joined into the tables one parse of the whole text gives
 * (ctree.ts joinedTree). Each part is parsed over its included range of the whole text, so
 * positions and rows are the whole text's.
 *
 * Not split (the caller parses the whole text): a small text, a text with no cut, a part with a
 * syntax error a load reports (the whole tree says where; syntax-errors.ts), no worker file beside
 * this one, a worker that failed, and a worker not ready yet: the first big unit of a process starts
 * it and is parsed whole while it starts (its start costs more than half a parse), and a process
 * that loads a driver once (core/one-shot.ts, `kctx run`) does not start it. The worker shares this thread's compiled parser modules when it has them (core/cparser.ts;
 * `kctx run` loads the parser from its files, and the worker then compiles its own copy: not on
 * this thread).
 *
 * The load is synchronous here: this thread waits for the worker's answer on a shared flag
 * (Atomics.wait) and takes it from a message port without its event loop (receiveMessageOnPort).
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Parser, Range, Tree } from 'web-tree-sitter';
import { compiledParserIfAny } from '../../core/cparser';
import { isOneShotProcess } from '../../core/one-shot';
import { joinedTree, treeTables, type CNode, type CopiedTree } from './ctree';
import { syntaxErrors } from './syntax-errors';

/** Texts shorter than this (characters) are parsed whole: the worker's round trip costs more. */
export const SPLIT_MIN = 96 * 1024;

/** What the worker answers: the second part's tables, or why there are none. */
export type PartAnswer = { seq: number; tree: CopiedTree } | { seq: number; error: string };

/** What the worker is asked: parse `text` from `from` to its end. */
export interface PartRequest {
  seq: number;
  text: string;
  from: number;
}

/**
 * Where to cut `text`: just after the `}` of a function body at depth 0 (its `{` follows a `)`,
 * outside any bracket), the one nearest the middle; -1 when there is none. Strings, character
 * constants and comments are skipped.
 */
export function splitPoint(text: string): number {
  const mid = text.length >> 1;
  let best = -1;
  let depth = 0;
  let body = false;
  let prev = 0; // the last character before this one outside spaces and comments
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    switch (c) {
      case 0x22: // "
      case 0x27: { // '
        let j = i + 1;
        while (j < text.length) {
          const d = text.charCodeAt(j);
          if (d === 0x5c) j += 2;
          else if (d === c || d === 0x0a) break;
          else j++;
        }
        i = j;
        prev = c;
        continue;
      }
      case 0x2f: { // /
        const d = text.charCodeAt(i + 1);
        if (d === 0x2a) {
          const e = text.indexOf('*/', i + 2);
          i = e < 0 ? text.length : e + 1;
          continue;
        }
        if (d === 0x2f) {
          const e = text.indexOf('\n', i + 2);
          i = e < 0 ? text.length : e;
          continue;
        }
        break;
      }
      case 0x28: // (
      case 0x5b: // [
        depth++;
        break;
      case 0x29: // )
      case 0x5d: // ]
        depth--;
        break;
      case 0x7b: // {
        if (depth === 0) body = prev === 0x29;
        depth++;
        break;
      case 0x7d: // }
        depth--;
        if (depth === 0 && body) {
          const at = i + 1;
          if (best < 0 || Math.abs(at - mid) < Math.abs(best - mid)) best = at;
          else if (at > mid) return best;
        }
        break;
      case 0x20:
      case 0x09:
      case 0x0a:
      case 0x0d:
        continue;
    }
    prev = c;
  }
  return best;
}

/** The included range of `text` from `from` to `to`. */
export function rangeOf(text: string, from: number, to: number): Range {
  const point = (i: number) => {
    let row = 0;
    let bol = 0;
    for (let nl = text.indexOf('\n'); nl >= 0 && nl < i; nl = text.indexOf('\n', nl + 1)) {
      row++;
      bol = nl + 1;
    }
    return { row, column: i - bol };
  };
  return { startIndex: from, endIndex: to, startPosition: point(from), endPosition: point(to) };
}

/**
 * True when a load finds no syntax error in `tree` (it may hold error nodes a load excuses: an
 * unnamed bit-field, a switch without braces).
 */
function clean(tree: Tree): boolean {
  if (!tree.rootNode.hasError) return true;
  const bad: unknown[] = [];
  syntaxErrors(tree.rootNode, bad as never[], 1);
  return bad.length === 0;
}

/** The worker's part: parsed and copied, or why not (a syntax error: the whole text is parsed). */
export function parsePart(parser: Parser, req: PartRequest): PartAnswer {
  const tree = parser.parse(req.text, null, { includedRanges: [rangeOf(req.text, req.from, req.text.length)] });
  if (!tree) return { seq: req.seq, error: 'no tree' };
  try {
    if (!clean(tree)) return { seq: req.seq, error: 'syntax error' };
    return { seq: req.seq, tree: treeTables(tree, req.text) };
  } finally {
    tree.delete();
  }
}

/** The process's parse worker, started on first need and kept (it does not keep the process alive). */
class PartWorker {
  private seq = 0;
  /** [the last answered request's number (set after posting the answer), 1 once the worker's parser is loaded]. */
  private readonly flag = new Int32Array(new SharedArrayBuffer(8));
  private readonly port: MessagePort;
  private readonly w: Worker;
  failed = false;

  constructor(file: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.w = new Worker(file, { workerData: { kctxParseWorker: true, wasm: compiledParserIfAny(), port: port2, flag: this.flag }, transferList: [port2] });
    this.w.unref();
    this.w.on('error', () => (this.failed = true));
    this.w.on('exit', () => (this.failed = true));
  }

  get ready(): boolean {
    return !this.failed && Atomics.load(this.flag, 1) === 1;
  }

  post(text: string, from: number): number {
    const req: PartRequest = { seq: ++this.seq, text, from };
    this.w.postMessage(req);
    return req.seq;
  }

  /**
   * The answer to request `seq` (older answers are dropped); null when the worker says there is
   * none, or has not answered in a minute (it failed: the caller parses the whole text, the same tree).
   */
  answer(seq: number): CopiedTree | null {
    let waited = 0;
    for (;;) {
      const m = receiveMessageOnPort(this.port)?.message as PartAnswer | undefined;
      if (m) {
        if (m.seq !== seq) continue;
        return 'tree' in m ? m.tree : null;
      }
      const v = Atomics.load(this.flag, 0);
      // answered: the message is on its way to the port
      const r = Atomics.wait(this.flag, 0, v, v >= seq ? 1 : 1000);
      if (r === 'timed-out' && v < seq && (waited += 1000) >= 60_000) {
        this.failed = true;
        return null;
      }
    }
  }
}

let worker: PartWorker | null | undefined;
let joined = 0;

/** How many trees this process has parsed split (tests). */
export function splitCount(): number {
  return joined;
}

function partWorker(): PartWorker | null {
  if (worker === undefined) {
    if (isOneShotProcess()) return null;
    const file = join(__dirname, 'parse-worker.js');
    worker = existsSync(file) ? new PartWorker(file) : null;
  }
  if (worker?.failed) worker = null;
  return worker;
}

/** Starts the worker if it is not started; true once it is ready (false: there is none). Tests. */
export async function partWorkerReady(): Promise<boolean> {
  const w = partWorker();
  while (w && !w.failed && !w.ready) await new Promise((r) => setTimeout(r, 10));
  return !!w?.ready;
}

/**
 * The syntax tree of `text` parsed in two parts on two threads (see above); null when it is to be
 * parsed whole. `min`: the shortest text to split (tests split small ones).
 */
export function splitParse(parser: Parser, text: string, min = SPLIT_MIN): CNode | null {
  if (text.length < min) return null;
  const at = splitPoint(text);
  if (at <= 0 || at >= text.length) return null;
  const w = partWorker();
  if (!w?.ready) return null;
  const seq = w.post(text, at);
  const tree = parser.parse(text, null, { includedRanges: [rangeOf(text, 0, at)] });
  if (!tree) return null;
  let a: CopiedTree | null = null;
  try {
    if (clean(tree)) a = treeTables(tree, text);
  } finally {
    tree.delete();
  }
  if (!a) return null;
  const b = w.answer(seq);
  const r = b && joinedTree(text, a, b);
  if (r) joined++;
  return r;
}
