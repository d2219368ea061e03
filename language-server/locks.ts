/**
 * Lock discipline within one function, shared by lock-not-released and unlock-not-held: which
 * acquire/release pairs are held or released on each path, with one-level summaries of same-file
 * callees that always release (Minix clone_opcl unlocked the caller's vnode before a fallible step).
 */
import type { FileModel } from './model';
import type { SyntaxNode } from './syntax';
import { callArgs, callName, functionDeclaratorOf, hasStorageClass, lineOf, paramShape, parameters, unwrap, walk, hasStructuralError } from './syntax';
import type { PathState, Step } from './flow';
import { FlowWalker, WorkBudgetExceeded, initialState, renderTrail } from './flow';

export const PAIRS: ReadonlyMap<string, string> = new Map([
  ['mutex_enter', 'mutex_exit'], ['mutex_lock', 'mutex_unlock'], ['mtx_lock', 'mtx_unlock'], ['mtx_lock_spin', 'mtx_unlock_spin'],
  ['pthread_mutex_lock', 'pthread_mutex_unlock'], ['lock_vnode', 'unlock_vnode'], ['lock_vmnt', 'unlock_vmnt'], ['lock_filp', 'unlock_filp'],
  ['rw_enter', 'rw_exit'], ['sx_xlock', 'sx_xunlock'], ['sx_slock', 'sx_sunlock'], ['rw_wlock', 'rw_wunlock'], ['rw_rlock', 'rw_runlock'],
]);
const RELEASES: ReadonlyMap<string, string> = new Map([...PAIRS].map(([a, r]) => [r, a]));
const TRY = /^(mutex_tryenter|mtx_trylock\w*|mutex_trylock|pthread_mutex_trylock|sx_try_\w+|rw_tryenter|rw_try_\w+|rw_tryupgrade)$/;
const LOCKISH = /lock|release|drop|exit/i;
/** Calls that read a lock or wait on it and return with it as it was (cv_wait drops and retakes it). */
const QUERIES = /^(MUTEX_HELD|MUTEX_NOT_HELD|RW_LOCK_HELD|RW_WRITE_HELD|RW_READ_HELD|mutex_owned|mutex_owner|rw_owner|rw_lock_held|rw_write_held|rw_read_held|rw_read_locked|rw_downgrade|rw_tryupgrade|cv_\w+|sema_\w+|mtx_owned|mtx_assert|sx_assert|rw_assert|msleep\w*|mtx_sleep|sx_sleep|pthread_cond_\w+|ASSERT|VERIFY|ASSERT0|VERIFY0|DTRACE_PROBE\d?|mutex_init|rw_init)$/;
/** Names of calls that end an object's life or give up a hold on it (`vn_rele`, `contract_destroy`, `foo_free`). */
const ENDS_OBJECT = /rele|destroy|free/i;
const OBJECT_LOCKS = /^(un)?lock_(vnode|vmnt|filp)$/;
/** A body that destroys a lock or frees memory can end a lock's life (`nfs_mi_free_globals(mig)`). */
const ENDS_LOCK = /\b(mutex_destroy|rw_destroy|mtx_destroy|sx_destroy|pthread_mutex_destroy|kmem_free|kmem_cache_free|kmem_zfree|free)\s*\(/;
const DESTROYS = new Set(['mutex_destroy', 'rw_destroy', 'mtx_destroy', 'sx_destroy', 'pthread_mutex_destroy']);
const FREES = new Set(['kmem_free', 'kmem_cache_free', 'kmem_zfree', 'free']);

/** entry: this path released the lock before taking it (the caller held it; a retake restores the caller's state). */
type St = { held: boolean; at: SyntaxNode; via?: string; entry?: boolean; asserted?: boolean };
type Facts = ReadonlyMap<string, St>;

export function lockKeyText(a: SyntaxNode | undefined): string {
  const u = unwrap(a);
  if (!u) return '';
  return lockKeyOf(u.text);
}

/** The key of a lock expression's text: no blanks, no leading `&`, no parentheses around a plain name or the whole. */
function lockKeyOf(text: string): string {
  let t = text.replace(/\s+/g, '');
  if (t.startsWith('&')) t = t.slice(1);
  t = t.replace(/^\((.*)\)$/, '$1');
  // `(d)->x`, `((d))->x` (a macro's argument put in) are `d->x`; a call's parentheses stay
  for (let prev = ''; prev !== t;) { prev = t; t = t.replace(/(^|[^\w)\]])\(([A-Za-z_]\w*)\)/g, '$1$2'); }
  return t;
}

/**
 * Macro summaries: a file's function-like `#define NAME(a, b) mutex_exit(&(a)->lock)` whose body is
 * one acquire or release. A use is that call with the arguments put in: NAME(q) takes or drops q's lock.
 */
export interface LockMacro { params: string[]; op: string; arg: string }

export function lockMacros(m: FileModel): ReadonlyMap<string, LockMacro> {
  const c = m as unknown as { _lockMacros?: Map<string, LockMacro> };
  c._lockMacros ??= lockMacrosOf(m.text);
  return c._lockMacros;
}

function lockMacrosOf(text: string): Map<string, LockMacro> {
  const out = new Map<string, LockMacro>();
  const ops = [...PAIRS.keys(), ...PAIRS.values()].join('|');
  const re = new RegExp(`^[ \\t]*#[ \\t]*define[ \\t]+([A-Za-z_]\\w*)\\(([\\w\\s,]*)\\)[ \\t]+(?:\\{[ \\t]*)?\\(?[ \\t]*(${ops})[ \\t]*\\(([^;\\n]*)\\)[ \\t]*\\)?[ \\t]*;?[ \\t]*\\}?[ \\t]*$`, 'gm');
  if (/#\s*define/.test(text)) {
    for (let r = re.exec(text); r; r = re.exec(text)) {
      let arg = r[4]!;
      const bal = (x: string) => (x.match(/\(/g)?.length ?? 0) - (x.match(/\)/g)?.length ?? 0);
      while (bal(arg) < 0 && arg.endsWith(')')) arg = arg.slice(0, -1).trimEnd();
      // one argument only (the lock): rw_enter(&x, RW_WRITER) keeps its first
      const first = splitTop(arg)[0] ?? '';
      if (!first || /[;{}]/.test(first)) continue;
      out.set(r[1]!, { params: r[2]!.split(',').map((x) => x.trim()).filter(Boolean), op: r[3]!, arg: first });
    }
  }
  return out;
}

/** Top-level comma split (parentheses and brackets nest). */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim());
}

/** The lock a use of a lock macro names, in the caller's words ('' when the arguments do not fit). */
function macroKey(mac: LockMacro, args: SyntaxNode[]): string {
  if (args.length !== mac.params.length) return '';
  let t = mac.arg;
  mac.params.forEach((p, i) => { t = t.replace(new RegExp(`\\b${p}\\b`, 'g'), `(${args[i]!.text})`); });
  return lockKeyOf(t);
}

/** For the per-function caches: the file's lock macros (a changed macro changes what every use means). */
export function lockMacrosKey(m: FileModel): string {
  return [...lockMacros(m)].map(([n, x]) => `${n}(${x.params.join(',')})=${x.op}(${x.arg})`).join(';');
}

const HELD_NAMES = new Set(['MUTEX_HELD', 'mutex_owned', 'RW_LOCK_HELD', 'RW_WRITE_HELD', 'RW_READ_HELD', 'rw_lock_held', 'rw_write_held', 'rw_read_held']);
const HELD_TEST = new RegExp(`\\b(${[...HELD_NAMES].join('|')})\\s*\\(`);

/**
 * The lock keys a condition says are held, or not held, when it is `truth` (`MUTEX_HELD(&k)`, `!MUTEX_HELD(&k)`,
 * either side of a true `&&`).
 */
function heldBy(cond: SyntaxNode, truth: boolean, out: { held: string[]; notHeld: string[] } = { held: [], notHeld: [] }): { held: string[]; notHeld: string[] } {
  let e = unwrap(cond);
  let positive = truth;
  while (e?.type === 'unary_expression' && e.child(0)?.text === '!') { positive = !positive; e = unwrap(e.childForFieldName('argument')); }
  if (!e) return out;
  if (e.type === 'binary_expression' && e.childForFieldName('operator')?.text === '&&' && positive) {
    heldBy(e.childForFieldName('left')!, true, out);
    heldBy(e.childForFieldName('right')!, true, out);
  } else if (e.type === 'call_expression' && HELD_NAMES.has(callName(e))) {
    const k = lockKeyText(callArgs(e)[0]);
    if (k) (positive ? out.held : out.notHeld).push(k);
  }
  return out;
}

/** What the lock walk reads of an effect node (once per walk). */
type EffectInfo =
  | { call: false; wr: RegExp | null }
  | { call: true; name: string; op: string; a: SyntaxNode[]; macroLock: string | null; notHeld: string | null; key?: string; ids?: Set<string> };

/** The identifier an effect writes (`x = ...`, `x++`, `T x = ...`), or null. */
function writtenName(node: SyntaxNode): string | null {
  let t: SyntaxNode | null | undefined;
  if (node.type === 'assignment_expression') t = node.childForFieldName('left');
  else if (node.type === 'update_expression') t = node.childForFieldName('argument');
  else if (node.type === 'init_declarator') t = node.childForFieldName('declarator');
  t = unwrap(t ?? undefined);
  while (t && (t.type === 'pointer_declarator' || t.type === 'array_declarator')) t = t.childForFieldName('declarator');
  return t && t.type === 'identifier' ? t.text : null;
}

/**
 * A lock in an array element with a computed index (`q[i].lock`): each index is another lock, and
 * a walk cannot tell which, so such keys are not tracked (a loop that takes or drops one element's
 * lock per iteration is not a double unlock).
 */
const ELEMENT = /\[[^\]]*[A-Za-z_][^\]]*\]/;

const rootOf = (k: string) => /^[A-Za-z_]\w*/.exec(k)?.[0] ?? '';

export interface ExitInfo { node: SyntaxNode; how: 'return' | 'end'; value: string; held: Map<string, { at: SyntaxNode; trail: readonly Step[] }>; released: Set<string> }
export interface DoubleRelease { node: SyntaxNode; key: string; first: SyntaxNode; via?: string; trail: readonly Step[] }
/** callerHeld: keys some path releases before taking them (the caller holds them on entry: drop-and-retake). */
export interface LockResult { exits: ExitInfo[]; doubles: DoubleRelease[]; acquires: Map<string, SyntaxNode[]>; untracked: Set<string>; callerHeld: Set<string> }

/** Keys (in the callee's words) released on every exit, and taken and still held on every exit (a lock wrapper). */
interface Summary { releases: string[]; acquires: string[] }

/**
 * A function's summary as the other files of one `kctx lint` run see it (the run's first pass, lockpass.ts):
 * its parameters' names, and the keys it releases or keeps, in its words.
 */
export interface RunSummary { params: string[]; releases: string[]; acquires: string[] }
/** The run's summaries by function name: only names whose definitions among the run's files agree. */
export type RunSummaries = ReadonlyMap<string, RunSummary>;

/**
 * What one file tells the run's first pass: each function it defines that other files can call (not
 * `static`), with its summary, or null when it has none (a definition without one still counts against
 * another definition of the name that has one).
 */
export function runDefinitions(m: FileModel): [string, RunSummary | null][] {
  const out: [string, RunSummary | null][] = [];
  for (const [name, fn] of m.fnByName) {
    if (hasStorageClass(fn, 'static')) continue;
    const s = summaryOf(m, name);
    const fd = functionDeclaratorOf(fn);
    const params = (fd ? parameters(fd) ?? [] : []).map((p) => paramShape(p).name);
    out.push([name, s ? { params, releases: s.releases, acquires: s.acquires } : null]);
  }
  return out;
}

/**
 * The run's summaries from every file's definitions: a name's summary is used only when every definition of
 * the name among the run's files has the same one (a name defined once, or by copies that agree). The order
 * the files come in changes nothing.
 */
export function mergeRunDefinitions(files: Iterable<readonly [string, RunSummary | null][]>): Map<string, RunSummary> {
  const seen = new Map<string, string>();
  const first = new Map<string, RunSummary | null>();
  for (const defs of files) {
    for (const [name, s] of defs) {
      const k = s ? JSON.stringify([s.params, s.releases, s.acquires]) : '';
      const had = seen.get(name);
      if (had === undefined) { seen.set(name, k); first.set(name, s); } else if (had !== k) seen.set(name, '\u0000'); // they disagree
    }
  }
  const out = new Map<string, RunSummary>();
  for (const name of [...seen.keys()].sort()) {
    const s = first.get(name);
    if (s && seen.get(name) !== '\u0000') out.set(name, s);
  }
  return out;
}

/** The summary of one same-file function (computed on first use): lock keys it releases, or takes and keeps, on every exit. */
function summaryOf(m: FileModel, name: string): Summary | null {
  const c = m as unknown as { _lockSummaries?: Map<string, Summary | null> };
  c._lockSummaries ??= new Map();
  if (c._lockSummaries.has(name)) return c._lockSummaries.get(name)!;
  c._lockSummaries.set(name, null); // recursion guard
  const fn = m.fnByName.get(name);
  let out: Summary | null = null;
  if (fn && !hasStructuralError(fn) && ((RELEASE_RE.test(fn.text) && dropsMore(m, fn)) || keepsLocks(m, name))) {
    let res: (LockResult & { releasedAtExit: Map<string, number>; forgotten: Set<string> }) | null = null;
    try { res = analyze(m, fn, 1) as LockResult & { releasedAtExit: Map<string, number>; forgotten: Set<string> }; } catch (e) { if (!(e instanceof WorkBudgetExceeded)) throw e; } // no summary: unknown
    if (res && res.exits.length) {
      // a key rooted at one of the callee's locals is not the caller's lock of the same name
      const locals = localsOf(fn);
      const aliases = aliasesOf(m, fn);
      // a local that only ever names a parameter's member (`T *vc = &vhc->vhc_cache`) is said in the parameter's words
      // a lock whose own hold the walk forgot on some path is left out: its release there may be of that hold
      // (`mutex_enter(&hdl->l); sa_lookup_locked(hdl); mutex_exit(&hdl->l)`: the lock-ish call made it unknown)
      const releases = [...res.releasedAtExit].filter(([k, n]) => n === res.exits.length && !res.forgotten.has(k)).map(([k]) => unalias(k, aliases)).filter((k) => !locals.has(rootOf(k)));
      const [first, ...rest] = res.exits;
      const acquires = [...first!.held.keys()].filter((k) => rest.every((e) => e.held.has(k))).map((k) => unalias(k, aliases)).filter((k) => !locals.has(rootOf(k)));
      if (releases.length || acquires.length) out = { releases, acquires };
    }
  }
  c._lockSummaries.set(name, out);
  return out;
}

/**
 * Can a function have a release summary: does its text release some lock more often than it takes it (a path
 * that releases its caller's lock releases it once more than it takes it)? Read from the text, without a walk;
 * a use of a lock macro counts as yes.
 */
function dropsMore(m: FileModel, fn: SyntaxNode): boolean {
  return dropsMoreIn(m.textOf(fn), lockMacros(m));
}

function dropsMoreIn(text: string, macros: ReadonlyMap<string, LockMacro>): boolean {
  const count = new Map<string, number>();
  // without a goto, a path whose first operation on a lock is the first one in the text takes it first when that one takes it:
  // such a path releases only its own hold, and no summary has the lock
  const firstTakes = new Set<string>();
  const seen = new Set<string>();
  const jumps = /\bgoto\b/.test(text);
  for (const r of text.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
    const name = r[1]!;
    if (macros.has(name)) return true;
    const drop = RELEASES.has(name);
    if (!drop && !PAIRS.has(name) && !TRY.test(name)) continue;
    // the first argument: up to the first comma or closing parenthesis at its depth
    let depth = 0;
    let i = r.index! + r[0].length;
    const start = i;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === '(' || ch === '[') depth++;
      else if (ch === ')' || ch === ']') { if (depth === 0) break; depth--; } else if (ch === ',' && depth === 0) break;
    }
    const k = lockKeyOf(text.slice(start, i));
    count.set(k, (count.get(k) ?? 0) + (drop ? 1 : -1));
    if (!seen.has(k)) { seen.add(k); if (!drop && !jumps) firstTakes.add(k); }
  }
  for (const [k, n] of count) if (n > 0 && !firstTakes.has(k)) return true;
  return false;
}

/**
 * Can a same-file function return holding a lock it took (an acquire summary)? Only one whose text has more
 * acquires than releases (a lock wrapper: `mutex_enter(&x); ...`): the others are not walked for one.
 */
function keepsLocks(m: FileModel, name: string): boolean {
  const c = m as unknown as { _keepsLocks?: Map<string, boolean> };
  c._keepsLocks ??= new Map();
  const had = c._keepsLocks.get(name);
  if (had !== undefined) return had;
  const fn = m.fnByName.get(name);
  let out = false;
  if (fn) out = keepsLocksIn(m.textOf(fn), lockMacros(m));
  c._keepsLocks.set(name, out);
  return out;
}

function takesMoreIn(text: string, macros: ReadonlyMap<string, LockMacro>): boolean {
  let takes = 0;
  let drops = 0;
  for (const r of text.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
    const op = macros.get(r[1]!)?.op ?? r[1]!;
    if (PAIRS.has(op)) takes++;
    else if (RELEASES.has(op)) drops++;
  }
  return takes > drops;
}

/**
 * Can a function return holding, on every path, a lock it took (an acquire summary), read from the text? It
 * takes more locks than it drops, and, without a loop or a goto, the last lock operation in its text takes one
 * (a path through a last release returns with that lock released).
 */
function keepsLocksIn(text: string, macros: ReadonlyMap<string, LockMacro>): boolean {
  if (!takesMoreIn(text, macros)) return false;
  if (/\b(goto|for|while)\b/.test(text)) return true;
  let last = '';
  for (const r of text.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
    const op = macros.get(r[1]!)?.op ?? r[1]!;
    if (PAIRS.has(op) || RELEASES.has(op)) last = op;
  }
  return PAIRS.has(last);
}

/**
 * Can a function whose text (signature and body) this is have a summary, read from the text alone (as
 * summaryOf() decides whether to walk it)? The run's first pass parses only files that have such a function.
 */
export function mayHaveSummary(text: string, macros: ReadonlyMap<string, LockMacro>): boolean {
  return (RELEASE_RE.test(text) && dropsMoreIn(text, macros)) || keepsLocksIn(text, macros);
}

/** The lock macros of a file's text (without a model). */
export function lockMacrosOfText(text: string): ReadonlyMap<string, LockMacro> {
  return lockMacrosOf(text);
}

/**
 * Can a same-file function take or drop a lock (a lock call or macro, a lock-ish call, or a same-file
 * function that can)? One that cannot is handed a lock's object without changing the lock's state.
 */
function touchesLocks(m: FileModel, name: string): boolean {
  const c = m as unknown as { _touchesLocks?: Map<string, boolean> };
  c._touchesLocks ??= new Map();
  const had = c._touchesLocks.get(name);
  if (had !== undefined) return had;
  c._touchesLocks.set(name, true); // recursion guard: unknown counts as touching
  const fn = m.fnByName.get(name);
  let out = true;
  if (fn) {
    const body = m.textOf(fn.childForFieldName('body') ?? fn);
    out = usesLocks(m, body) || ENDS_LOCK.test(body);
    for (const r of body.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
      if (out) break;
      const callee = r[1]!;
      if (QUERIES.test(callee) || callee === name) continue;
      if (LOCKISH.test(callee) || (m.fnByName.has(callee) && touchesLocks(m, callee))) out = true;
    }
  }
  c._touchesLocks.set(name, out);
  return out;
}

/**
 * Locals that only ever name a member reached from elsewhere: `T *vc = &vhc->vhc_cache;` (never assigned
 * again) maps `vc` to the prefix `vhc->vhc_cache.`, `T *q = sq->sq_queue;` maps `q` to `sq->sq_queue->`.
 */
function aliasesOf(m: FileModel, fn: SyntaxNode): Map<string, string> {
  const c = m as unknown as { _lockAliases?: Map<number, Map<string, string>> };
  c._lockAliases ??= new Map();
  const had = c._lockAliases.get(fn.id);
  if (had) return had;
  const out = new Map<string, string>();
  const body = fn.childForFieldName('body');
  if (body) walk(body, (n) => {
    if (n.type === 'init_declarator') {
      let d: SyntaxNode | null = n.childForFieldName('declarator');
      while (d && d.type === 'pointer_declarator') d = d.childForFieldName('declarator');
      const v = unwrap(n.childForFieldName('value') ?? undefined);
      if (d?.type === 'identifier' && v) {
        const t = lockKeyOf(v.text);
        const addr = v.type === 'pointer_expression' && v.child(0)?.text === '&';
        if (/^[A-Za-z_]\w*(->\w+|\.\w+)+$/.test(t) && t.includes('->')) out.set(d.text, addr ? `${t}.` : `${t}->`);
      }
      return false;
    }
    return n.type !== 'comment';
  });
  if (out.size) {
    // assigned again anywhere: not an alias
    const text = body?.text ?? '';
    for (const name of [...out.keys()]) if ((text.match(new RegExp(`(^|[^\\w.>])${name}\\s*(=[^=]|\\+\\+|--)|&${name}(?![\\w.[]|->)`, 'g'))?.length ?? 0) !== 1) out.delete(name);
  }
  c._lockAliases.set(fn.id, out);
  return out;
}

/** A key said through an alias local (`vc->lock`) in the words of what it names (`vhc->vhc_cache.lock`). */
function unalias(k: string, aliases: ReadonlyMap<string, string>): string {
  const r = rootOf(k);
  const p = aliases.get(r);
  return p && k.startsWith(`${r}->`) ? p + k.slice(r.length + 2) : k;
}

/** The names a function body declares. */
function localsOf(fn: SyntaxNode): Set<string> {
  const out = new Set<string>();
  const body = fn.childForFieldName('body');
  if (body) walk(body, (n) => {
    if (n.type === 'declaration') {
      for (const d of n.childrenForFieldName('declarator')) {
        let t: SyntaxNode | null = d;
        while (t && t.type !== 'identifier') t = t.childForFieldName('declarator');
        if (t) out.add(t.text);
      }
      return false;
    }
    return n.type !== 'comment' && n.type !== 'expression_statement';
  });
  return out;
}

const RELEASE_RE = new RegExp(`\\b(${[...PAIRS.values()].join('|')})\\s*\\(`);

/** Runs the lock walk over one function. depth > 0: a summary pass (no callee summaries). */
export function analyze(m: FileModel, fn: SyntaxNode, depth = 0): LockResult {
  const exits: ExitInfo[] = [];
  const doubles: DoubleRelease[] = [];
  const acquires = new Map<string, SyntaxNode[]>();
  const untracked = new Set<string>();
  const releasedAtExit = new Map<string, number>();
  /** (summary walks) keys the walk forgot while this function held them (a call made their state unknown) */
  const forgotten = new Set<string>();
  const callerHeld = new Set<string>();
  const macros = lockMacros(m);
  // ASSERT(!MUTEX_HELD(&x)) / ASSERT(!RW_LOCK_HELD(&x)): x is not held where the path passes it
  // (a fact of the path from there on: an assertion after a release says nothing about the entry).
  const assertsNotHeld = /!\s*(MUTEX_HELD|RW_LOCK_HELD|RW_WRITE_HELD)\s*\(/.test(fn.text);
  const notHeldKey = (n: SyntaxNode, name: string): string | null => {
    if (!assertsNotHeld || (name !== 'ASSERT' && name !== 'VERIFY')) return null;
    const m = /^!\s*(?:MUTEX_HELD|RW_LOCK_HELD|RW_WRITE_HELD)\s*\(([^()]*(?:\([^()]*\))?[^()]*)\)$/.exec((callArgs(n)[0]?.text ?? '').replace(/\s+/g, ''));
    return m ? m[1]!.replace(/^&/, '').replace(/^\((.*)\)$/, '$1') : null;
  };
  const runSummaries = m.lockSummaries;
  const params = new Set<string>();
  const fd = functionDeclaratorOf(fn);
  for (const p of fd ? parameters(fd) ?? [] : []) { const n = paramShape(p).name; if (n) params.add(n); }
  if (/try/.test(fn.text)) walk(fn, (n) => {
    if (n.type === 'call_expression' && TRY.test(callName(n))) untracked.add(lockKeyText(callArgs(n)[0]));
    return n.type !== 'comment';
  });
  const set = (s: PathState<Facts>, k: string, st: St | null, step?: Step): PathState<Facts> => {
    if (!st && depth > 0) { const v = s.facts.get(k); if (v?.held && !v.entry) forgotten.add(k); }
    const f = new Map(s.facts);
    if (st) f.set(k, st); else f.delete(k);
    return { ...s, facts: f, trail: step ? [...s.trail, step] : s.trail };
  };
  const release = (s: PathState<Facts>, k: string, node: SyntaxNode, via?: string): PathState<Facts> => {
    if (!k || untracked.has(k) || ELEMENT.test(k)) return s;
    const prev = s.facts.get(k);
    const step = { line: lineOf(node), text: via ? `${callName(node)}() releases ${k}` : `${callName(node)}(${k})` };
    if (prev?.asserted) {
      // ASSERT(!MUTEX_HELD(&k)) on this path said it is not held, and nothing took it since.
      doubles.push({ node, key: k, first: prev.at, via: 'ASSERT(!MUTEX_HELD)', trail: [...s.trail, step] });
      return set(s, k, { held: false, at: node, via }, step);
    }
    if (!prev) {
      callerHeld.add(k); // released before this function took it on this path: the caller held it
      return set(s, k, { held: false, at: node, via, entry: true }, step);
    }
    // released from the caller's state, then again at or before that point: around a loop, where something this
    // walk does not see (a function of another file, a header macro) took it back: the caller-holds pattern again
    if (prev.entry && !prev.held && node.startIndex <= prev.at.startIndex) return set(s, k, { held: false, at: node, via, entry: true }, step);
    if (prev && !prev.held) doubles.push({ node, key: k, first: prev.at, via: prev.via, trail: [...s.trail, step] });
    return set(s, k, { held: false, at: node, via, entry: prev.entry }, step);
  };
  // a lock reached through a pointer (`p->lock`), or given as one (`mutex_enter(lp)`): p is not NULL from here on
  // (`if (p) mutex_exit(&p->lock)`, `if (lp != NULL) mutex_exit(lp)` correlate)
  const nonNull = (s: PathState<Facts>, k: string, byPointer: boolean): PathState<Facts> => {
    const p = /^([A-Za-z_]\w*)->/.exec(k)?.[1] ?? (byPointer && /^[A-Za-z_]\w*$/.test(k) ? k : undefined);
    if (!p || s.conds.get(p)?.value === true) return s;
    const conds = new Map(s.conds);
    conds.set(p, { value: true, ids: [p] });
    return { ...s, conds };
  };
  // what each effect node says, read from the tree once per walk (loops and gotos visit it again)
  const infos = new Map<number, EffectInfo>();
  const infoOf = (node: SyntaxNode): EffectInfo => {
    let i = infos.get(node.id);
    if (i) return i;
    if (node.type !== 'call_expression') {
      const wr = writtenName(node);
      i = { call: false, wr: wr ? new RegExp(`(^|[^\\w.>])${wr}\\b`) : null };
    } else {
      const c = callName(node);
      const a = callArgs(node);
      const mac = macros.get(c);
      i = { call: true, name: c, op: mac ? mac.op : c, a, macroLock: mac ? macroKey(mac, a) : null, notHeld: notHeldKey(node, c) };
    }
    infos.set(node.id, i);
    return i;
  };
  // what each branch condition says of MUTEX_HELD() (false, true), read once per walk; null: nothing
  const heldTests = new Map<number, [{ held: string[]; notHeld: string[] }, { held: string[]; notHeld: string[] }] | null>();
  const w = new FlowWalker<Facts>({
    key: (f) => [...f].map(([k, v]) => `${k}:${v.held ? 'h' : v.asserted ? 'a' : 'r'}${v.entry ? 'e' : ''}:${v.at.id}`).sort().join(','),
    // `if (MUTEX_HELD(&k)) mutex_exit(&k)`: where the branch says the lock is held, a lock this path released is held
    // again (taken back by something the walk does not see): as the caller's, so that neither rule counts it as taken here;
    // where it says not held, a lock this path holds is unknown
    assume(cond, truth, s) {
      if (!s.facts.size) return s;
      let hs = heldTests.get(cond.id);
      if (hs === undefined) { hs = HELD_TEST.test(cond.text) ? [heldBy(cond, false), heldBy(cond, true)] : null; heldTests.set(cond.id, hs); }
      if (!hs) return s;
      let out = s;
      const h = hs[truth ? 1 : 0]!;
      for (const k of h.held) {
        const v = out.facts.get(k);
        if (v && !v.held) out = set(out, k, { held: true, at: v.at, via: v.via, entry: true });
      }
      // the branch that says it is not held where this path took it: what the walk believes is not what runs; unknown
      for (const k of h.notHeld) if (out.facts.get(k)?.held) out = set(out, k, null);
      return out;
    },
    effect(node, s) {
      if (!s.facts.size && node.type !== 'call_expression') return s;
      const info = infoOf(node);
      if (!info.call) {
        // a variable that names a lock is given another value: the facts about the old one no longer apply to the name
        const re = info.wr;
        if (!re) return s;
        let out = s;
        for (const k of s.facts.keys()) if (re.test(k)) out = set(out, k, null);
        return out;
      }
      if (info.notHeld !== null) {
        const k = info.notHeld;
        if (!k || untracked.has(k) || ELEMENT.test(k) || s.facts.get(k)?.held) return s; // held here: the assertion is the analysis' doubt, not a fact
        return set(s, k, { held: false, at: node, asserted: true });
      }
      const c = info.op;
      const a = info.a;
      const macroLock = info.macroLock;
      const keyOf = () => (macroLock !== null ? macroLock : (info.key ??= lockKeyText(a[0])));
      const byPointer = () => macroLock === null && unwrap(a[0])?.type === 'identifier';
      if (PAIRS.has(c)) {
        const k = keyOf();
        if (!k || untracked.has(k) || ELEMENT.test(k)) return s;
        const l = acquires.get(k) ?? [];
        if (!l.some((x) => x.id === node.id)) { l.push(node); acquires.set(k, l); }
        return nonNull(set(s, k, { held: true, at: node, entry: s.facts.get(k)?.entry }, { line: lineOf(node), text: `${c}(${k})` }), k, byPointer());
      }
      if (RELEASES.has(c)) { const k = keyOf(); return nonNull(release(s, k, node), k, byPointer()); }
      // a lock destroyed, or freed with its object (`mutex_destroy(&ai->ai_lock); kmem_free(ai, ...)`): no longer tracked
      if (DESTROYS.has(c)) { const k = keyOf(); return s.facts.has(k) ? set(s, k, null) : s; }
      if (FREES.has(c)) {
        const freed = lockKeyText(c === 'kmem_cache_free' ? a[1] : a[0]);
        let out = s;
        if (freed) for (const k of s.facts.keys()) if (rootOf(k) === freed) out = set(out, k, null);
        return out;
      }
      const callee = m.fnByName.get(c);
      // a function of another file of the run (its summary from the run's first pass; a same-file one comes first)
      const other = !callee && depth === 0 ? runSummaries?.get(c) : undefined;
      // a callee summary matters only for a lock held here whose object the call is given (or a global one)
      const argIdsOf = () => {
        if (!info.ids) { const ids = new Set<string>(); for (const x of a) walk(x, (n) => { if (n.type === 'identifier') ids.add(n.text); return true; }); info.ids = ids; }
        return info.ids;
      };
      const relevant = depth === 0 && (callee || other) && [...s.facts].some(([k, v]) => v.held && (argIdsOf().has(rootOf(k)) || !params.has(rootOf(k))));
      const sum = other ?? (depth === 0 && callee && (relevant || (keepsLocks(m, c) && touchesLocks(m, c))) ? summaryOf(m, c) : null);
      if (sum && (callee || other) && ((relevant && sum.releases.length) || sum.acquires.length)) {
        let cps = other?.params;
        if (!cps) { const cfd = functionDeclaratorOf(callee!); cps = (cfd ? parameters(cfd) ?? [] : []).map((p) => paramShape(p).name); }
        const names = cps;
        // a key of the callee's summary in this function's words ('' when the argument is not a plain lvalue)
        const mineOf = (k: string, facts: Facts): string => {
          const r = rootOf(k);
          const pi = names.indexOf(r);
          let mine = k;
          if (pi >= 0) {
            const arg = lockKeyText(a[pi]);
            if (!arg || !/^[\w.>-]+$/.test(arg)) return '';
            mine = arg + k.slice(r.length);
          }
          // said in this function through an alias local of its own (`vc->lock` for `vhc->vhc_cache.lock`)
          if (!facts.has(mine)) {
            for (const [x, p] of aliasesOf(m, fn)) if (mine.startsWith(p) && facts.has(`${x}->${mine.slice(p.length)}`)) return `${x}->${mine.slice(p.length)}`;
          }
          return mine;
        };
        let out = s;
        if (relevant) for (const k of sum.releases) { const mine = mineOf(k, out.facts); if (mine) out = release(out, mine, node, c); }
        if (sum.acquires.length) {
          // what else it does with the locks of the objects it is given is not known (as for any callee that touches locks)
          const taken = sum.acquires.map((k) => mineOf(k, out.facts)).filter((k) => k && !untracked.has(k) && !ELEMENT.test(k));
          const entry = new Map(taken.map((k) => [k, out.facts.get(k)?.entry]));
          if (!(relevant && sum.releases.length)) { const ids = argIdsOf(); for (const k of out.facts.keys()) if (ids.has(rootOf(k))) out = set(out, k, null); }
          for (const k of taken) out = nonNull(set(out, k, { held: true, at: node, via: c, entry: entry.get(k) }, { line: lineOf(node), text: `${c}() takes ${k}` }), k, false);
        }
        return out;
      }
      // a call handed a tracked lock itself (`foo(&sc->lock)`, `foo(lp)`), or the address of the variable
      // that names it (`ipc_get(..., &lock)` sets lock): that lock's state is unknown now
      if (!QUERIES.test(c) && s.facts.size) {
        let out = s;
        for (const x of a) {
          const u = unwrap(x);
          if (!u) continue;
          const handed = lockKeyText(u);
          const addrOf = u.type === 'pointer_expression' && u.child(0)?.text === '&' && unwrap(u.childForFieldName('argument'))?.type === 'identifier' ? handed : '';
          // (Minix's lock_vnode(vp) locks the object itself: put_vnode(vp) is handed the vnode, not its lock)
          for (const [k, v] of out.facts) if ((k === handed && !OBJECT_LOCKS.test(callName(v.at))) || (addrOf && rootOf(k) === addrOf)) out = set(out, k, null);
        }
        if (out !== s) return out;
      }
      // a call of another file that ends or lets go of an object (`contract_destroy(ct)`, `ipif_ill_refrele_tail(ill)`)
      // handed, as its last argument, the variable a tracked lock is reached through: such callees drop or destroy
      // its lock by contract (`xhci_transfer_free(xhcip, xt)` frees xt, not xhcip)
      if (!callee && ENDS_OBJECT.test(c) && s.facts.size && a.length) {
        const u = unwrap(a[a.length - 1]);
        let out = s;
        if (u?.type === 'identifier') for (const k of out.facts.keys()) if (rootOf(k) === u.text) out = set(out, k, null);
        if (out !== s) return out;
      }
      // an unknown lock-ish call that is handed a tracked lock's object: its state is unknown now
      if (LOCKISH.test(c) || (callee && touchesLocks(m, c))) {
        let out = s;
        const ids = argIdsOf();
        for (const k of s.facts.keys()) if (ids.has(rootOf(k)) || (callee && !a.length && LOCKISH.test(c))) out = set(out, k, null);
        return out;
      }
      return s;
    },
    exit(s, at, how) {
      const held = new Map<string, { at: SyntaxNode; trail: readonly Step[] }>();
      const released = new Set<string>();
      for (const [k, v] of s.facts) {
        if (v.asserted) continue; // only asserted not held: neither taken nor released here
        if (v.held && v.entry) continue; // dropped and retaken: held as the caller had it
        if (v.held) held.set(k, { at: v.at, trail: s.trail });
        else {
          released.add(k);
          // a summary counts the caller's locks only: a lock taken and dropped inside nets nothing
          if (v.entry) releasedAtExit.set(k, (releasedAtExit.get(k) ?? 0) + 1);
        }
      }
      const value = how === 'return' ? (at.namedChildren.find((x) => x && x.type !== 'comment')?.text ?? '').replace(/\s+/g, '').replace(/^\((.*)\)$/, '$1') : '';
      exits.push({ node: at, how, value, held, released });
    },
  }, { budget: m.budget, correlate: true, mergeUnreadConditions: true });
  w.run(fn, [initialState<Facts>(new Map())]);
  const res: LockResult & { releasedAtExit?: Map<string, number>; forgotten?: Set<string> } = { exits, doubles, acquires, untracked, callerHeld };
  res.releasedAtExit = releasedAtExit;
  res.forgotten = forgotten;
  return res;
}

/**
 * The lock walk of one function, once per model for both lock rules. A walk over the work budget is
 * remembered too: the budget counts steps, so a second walk would stop at the same step with the same
 * (empty) result; the second rule gets the same WorkBudgetExceeded without walking again.
 */
export function lockResult(m: FileModel, fn: SyntaxNode): LockResult {
  const c = m as unknown as { _lockResults?: Map<number, LockResult | WorkBudgetExceeded> };
  c._lockResults ??= new Map();
  let r = c._lockResults.get(fn.id);
  if (!r) {
    try { r = analyze(m, fn); } catch (e) { if (e instanceof WorkBudgetExceeded) c._lockResults.set(fn.id, e); throw e; }
    c._lockResults.set(fn.id, r);
  }
  if (r instanceof WorkBudgetExceeded) throw r;
  return r;
}

export const LOCK_TRIGGER = /\b(mutex_enter|mutex_exit|mutex_lock|mutex_unlock|mtx_lock\w*|mtx_unlock\w*|pthread_mutex_\w*lock|lock_vnode|unlock_vnode|lock_vmnt|unlock_vmnt|lock_filp|unlock_filp|rw_enter|rw_exit|sx_\w*lock|rw_[rw]lock|rw_[rw]unlock)\s*\(/;

export const ERRORISH = (v: string) => /^-?E[A-Z0-9]+$|^-\d+$|^-1$|^(err|error|err_code|errno|rc|ret|rv|r|status|EFAULT)$/.test(v) || v === 'NULL';

export { renderTrail };

/** What the lock rules read of a function (rules/types.ts scope): a lock call, or a use of one of the file's lock macros. */
export function lockScope(text: string): RegExp {
  const macros = lockMacrosOf(text);
  return macros.size ? new RegExp(`${LOCK_TRIGGER.source}|\\b(${[...macros.keys()].join('|')})\\s*\\(`) : LOCK_TRIGGER;
}

/** Does a function's text take or drop a lock (directly, or through one of the file's lock macros)? */
export function usesLocks(m: FileModel, text: string): boolean {
  if (LOCK_TRIGGER.test(text)) return true;
  const macros = lockMacros(m);
  if (!macros.size) return false;
  const c = m as unknown as { _lockMacroRe?: RegExp };
  c._lockMacroRe ??= new RegExp(`\\b(${[...macros.keys()].join('|')})\\s*\\(`);
  return c._lockMacroRe.test(text);
}
