/** assert-side-effect: ASSERT()/assert() whose expression has side effects (compiled out on non-DEBUG). */
import type { Rule, Fix } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callArgs, callName, lvalueRoot, rangeOf, walk } from '../syntax';
import { replaceNode } from '../fixes/edits';
import type { Conditional } from '../ppconfig';
import { conditionAt, conditionals } from '../ppconfig';
import { topLevelItems } from '../unread';

/** Macros compiled out on non-DEBUG illumos, NDEBUG userland and !INVARIANTS FreeBSD. VERIFY* is always evaluated. */
const ASSERTS = new Map<string, string | null>([
  ['ASSERT', 'VERIFY'], ['ASSERT0', 'VERIFY0'], ['ASSERT3U', 'VERIFY3U'], ['ASSERT3S', 'VERIFY3S'], ['ASSERT3P', 'VERIFY3P'], ['ASSERT64', null],
  ['IMPLY', null], ['EQUIV', null], ['assert', null], ['KASSERT', null], ['MPASS', null],
  ['MPASS2', null], ['MPASS3', null], ['MPASS4', null], ['VNET_ASSERT', null],
]);

/** Macros whose first argument only is the checked expression (the rest is a message). */
export const FIRST_ARG_ONLY = new Set(['KASSERT', 'MPASS2', 'MPASS3', 'MPASS4', 'VNET_ASSERT']);
export const ASSERT_NAMES: ReadonlySet<string> = new Set(ASSERTS.keys());

/** Assert macros the file defines itself: what they expand to is unknown (maybe always evaluated). */
export function locallyDefined(text: string): Set<string> {
  const out = new Set<string>();
  const re = /^[ \t]*#[ \t]*define[ \t]+(\w+)/gm;
  for (let r = re.exec(text); r; r = re.exec(text)) if (ASSERTS.has(r[1]!)) out.add(r[1]!);
  return out;
}

const MUTATORS = new Set([
  'ctxop_remove', 'removectx', 'ctxop_install', 'installctx', 'ctxop_attach', 'ctxop_detach', 'ctxop_free', 'ctxop_allocate', 'installctx_preallocate',
  'kmem_free', 'kmem_alloc', 'kmem_zalloc', 'kmem_cache_alloc', 'kmem_cache_free', 'mutex_enter', 'mutex_exit', 'mutex_tryenter', 'rw_enter', 'rw_exit', 'rw_tryenter', 'rw_tryupgrade', 'rw_downgrade',
  'cv_signal', 'cv_broadcast', 'cv_wait', 'timeout', 'untimeout', 'taskq_dispatch', 'ddi_taskq_dispatch', 'kpreempt_disable', 'kpreempt_enable', 'membar_enter', 'membar_exit', 'membar_producer', 'membar_consumer',
  'free', 'malloc', 'realloc', 'close', 'write', 'read', 'unlink', 'printf', 'fprintf', 'cmn_err',
]);
/**
 * Known by name to change state: atomic updates (not reads) and try-locks, which take the lock when
 * they succeed. Other names are not guessed at (`nvf_lock()` returns a lock, `x_hold` may only
 * count): a call not known here changes state only if its definition in the file does.
 */
const MUTATOR_RE = /^atomic(?!\w*_(read|load|get)(_\w+)?$)\w*$|_(trylock|tryenter)$/;
/** Calls that change state for good (not a balanced lock/unlock pair inside a predicate). */
const LASTING = /^(ctxop_\w+|installctx\w*|removectx|kmem_(cache_)?free|free|atomic(?!\w*_(read|load|get)(_\w+)?$)\w*)$/;

/** `atomic_add_64_nv(&x, 0)`, `atomic_or_32_nv(&x, 0)`: an atomic read written as an update of nothing. */
function atomicRead(c: string, call: SyntaxNode): boolean {
  if (!/^atomic_(add|or|xor|sub)_\w*_nv$/.test(c)) return false;
  const a = callArgs(call);
  return a.length === 2 && /^\(?0[uUlL]*\)?$/.test(a[1]!.text.replace(/\s+/g, ''));
}

/**
 * Functions that change nothing when they return 0: ctxop_remove()/removectx() remove (and free) only a
 * matching ctxop and return 1 then; illumos' flush_syncq() flushes only when it returns non-zero. An
 * assertion that such a call returns 0 (`ASSERT0(ctxop_remove(...))`, `ASSERT(flush_syncq(q) == 0)`)
 * has its effect only where it fails, that is where the DEBUG kernel panics.
 */
const ZERO_IS_NOOP = new Set(['ctxop_remove', 'removectx', 'flush_syncq']);

/** Is this call's result what the assertion says is 0 (the whole of ASSERT0's argument, `c == 0`, `!c`, `ASSERT3U(c, ==, 0)`)? */
function assertedZero(call: SyntaxNode, macro: string, arg: SyntaxNode): boolean {
  const isZero = (n: SyntaxNode | null) => !!n && /^\(?(0[uUlL]*|NULL|B_FALSE)\)?$/.test(n.text.replace(/\s+/g, ''));
  const top = unwrapParens(arg);
  if (top.id === call.id) return macro === 'ASSERT0';
  if (top.type === 'binary_expression' && top.childForFieldName('operator')?.text === '==') {
    const l = unwrapParens(top.childForFieldName('left')!);
    const r = unwrapParens(top.childForFieldName('right')!);
    return (l.id === call.id && isZero(r)) || (r.id === call.id && isZero(l));
  }
  if (top.type === 'unary_expression' && top.child(0)?.text === '!') return unwrapParens(top.childForFieldName('argument')!).id === call.id;
  return false;
}

function unwrapParens(n: SyntaxNode): SyntaxNode {
  let cur = n;
  while (cur.type === 'parenthesized_expression' && cur.namedChildCount === 1) cur = cur.namedChild(0)!;
  return cur;
}

const ASSERT_CALL = /^(ASSERT\w*|assert|IMPLY|EQUIV|KASSERT|MPASS\d?|VNET_ASSERT)$/;

/**
 * An assignment or ++/-- of a local variable that the function reads only inside assertions
 * (`ASSERT((agg = tbl[i]) == NULL || agg->id == id)`): the effect cannot outlive the assertions.
 */
function assertOnlyLocal(m: FileModel, n: SyntaxNode): boolean {
  const l = n.childForFieldName(n.type === 'assignment_expression' ? 'left' : 'argument');
  if (!l || l.type !== 'identifier') return false;
  const fn = m.enclosingFunction(n);
  if (!fn || !localNames(fn).has(l.text)) return false;
  let outside = false;
  const body = fn.childForFieldName('body');
  if (!body) return false;
  walk(body, (x) => {
    if (outside) return false;
    if (x.type === 'call_expression' && ASSERT_CALL.test(callName(x))) return false;
    if (x.type === 'identifier' && x.text === l.text) {
      const p = x.parent;
      // a declaration of it is not a read
      const decl = p && (p.type === 'pointer_declarator' || p.type === 'array_declarator' ||
        ((p.type === 'init_declarator' || p.type === 'declaration') && p.childrenForFieldName('declarator').some((d) => d.id === x.id)));
      // (the target of a plain assignment is not a read)
      const written = p?.type === 'assignment_expression' && p.childForFieldName('operator')?.text === '=' && p.childForFieldName('left')?.id === x.id;
      if (!decl && !written && seesValue(x, n, l.text)) outside = true;
    }
    return !outside;
  });
  return !outside;
}

const LOOPS = new Set(['for_statement', 'while_statement', 'do_statement']);

/**
 * Can a read at x see the value the assertion's write at w gives v? A read after it can; one before
 * it only around a loop that holds both, unless a statement before it in its block assigns v
 * (`hpp = pp; ...; use(&hpp)` earlier in the loop, `ASSERT(hpp = pp)` later).
 */
function seesValue(x: SyntaxNode, w: SyntaxNode, v: string): boolean {
  if (x.startIndex > w.endIndex) return true;
  let loop: SyntaxNode | null = w.parent;
  while (loop && !(LOOPS.has(loop.type) && loop.startIndex <= x.startIndex && loop.endIndex >= x.endIndex)) loop = loop.parent;
  if (!loop) return false;
  const assigns = new RegExp(`^\\s*${v}\\s*=[^=]`);
  for (let s: SyntaxNode | null = x; s && s.id !== loop.id; s = s.parent) {
    for (let p = s.previousNamedSibling; p; p = p.previousNamedSibling) if (p.type === 'expression_statement' && assigns.test(p.text)) return false;
  }
  return true;
}

/** Is an offset inside `#ifdef DEBUG` / `#if defined(DEBUG)` (there ASSERT is always compiled in)? */
function debugOnly(m: FileModel, offset: number): boolean {
  // (whether the file has such an #if at all: asked once per model, not once per assert)
  const c = m as unknown as { _ppGroups?: Conditional[] | null; _debugIf?: boolean };
  c._debugIf ??= /^[ \t]*#[ \t]*if(def)?[ \t]+(defined[ \t]*\(?[ \t]*)?DEBUG\b/m.test(m.text);
  if (!c._debugIf) return false;
  if (c._ppGroups === undefined) c._ppGroups = conditionals(m.text);
  if (!c._ppGroups) return false;
  return conditionAt(c._ppGroups, offset).some((d) => /^#[ \t]*if(def)?[ \t]+(defined[ \t]*\(?[ \t]*)?DEBUG\b[ \t)]*$/.test(d));
}

function localNames(fn: SyntaxNode): Set<string> {
  const out = new Set<string>();
  walk(fn, (n) => {
    if (n.type === 'parameter_declaration' || n.type === 'declaration') {
      for (const d of n.childrenForFieldName('declarator')) {
        let cur: SyntaxNode | null = d;
        while (cur && cur.type !== 'identifier') cur = cur.childForFieldName('declarator');
        if (cur) out.add(cur.text);
      }
    }
    return true;
  });
  return out;
}

/**
 * Does a same-file function change lasting state: assign a file-scope variable, or call an API that
 * frees, removes or atomically updates, itself or in a same-file function it calls? Writes through its
 * parameters (out-parameters, usually the caller's locals), balanced locking, and what callees of its
 * callees do (a lookup that fills a cache two calls down: lwp_upimutex_owned()) do not count: precision first.
 */
function impure(m: FileModel, name: string, depth: number, seen: Set<string>): boolean {
  if (seen.has(name) || depth > 1) return false;
  seen.add(name);
  const fn = m.fnByName.get(name);
  if (!fn) return false;
  const mine = localNames(fn);
  let hit = false;
  walk(fn.childForFieldName('body') ?? fn, (n) => {
    if (hit) return false;
    if (n.type === 'assignment_expression' || n.type === 'update_expression') {
      const l = n.childForFieldName(n.type === 'assignment_expression' ? 'left' : 'argument');
      const root = lvalueRoot(l);
      if (root && !mine.has(root) && !/->|\*|\[/.test(l?.text ?? '')) hit = true;
    } else if (n.type === 'call_expression') {
      const c = callName(n);
      if (LASTING.test(c) || impure(m, c, depth + 1, seen)) hit = true;
    }
    return !hit;
  });
  return hit;
}

function sideEffect(m: FileModel, e: SyntaxNode, looked: { sameFile: boolean }, zeroOk: (call: SyntaxNode) => boolean = () => false): { node: SyntaxNode; what: string } | null {
  let found: { node: SyntaxNode; what: string } | null = null;
  walk(e, (n) => {
    if (found) return false;
    if (n.type === 'call_expression' && ZERO_IS_NOOP.has(callName(n)) && zeroOk(n)) return false;
    if (n.type === 'assignment_expression') { if (!assertOnlyLocal(m, n)) found = { node: n, what: `the assignment '${n.text.replace(/\s+/g, ' ')}'` }; }
    else if (n.type === 'update_expression') { if (!assertOnlyLocal(m, n)) found = { node: n, what: `'${n.text}'` }; }
    else if (n.type === 'call_expression') {
      const c = callName(n);
      if ((MUTATORS.has(c) || MUTATOR_RE.test(c)) && !atomicRead(c, n)) found = { node: n, what: c === 'ctxop_remove' || c === 'removectx' ? `${c}() (it removes and frees a matching ctxop)` : `${c}()` };
      else if (c && m.fnByName.has(c) && ((looked.sameFile = true), impure(m, c, 0, new Set()))) found = { node: n, what: `${c}() (it writes state outside itself)` };
    } else if (n.type === 'sizeof_expression') return false;
    return !found;
  });
  return found;
}

export const rule: Rule = {
  id: 'assert-side-effect',
  title: 'Side effect inside ASSERT()',
  severity: 'warning',
  defaultOff: true, // below the precision bar: docs/rules/README.md#precision
  confidence: 'high',
  rationale:
    'ASSERT, ASSERT0, ASSERT3* (and assert() under NDEBUG, KASSERT/MPASS without INVARIANTS) are compiled out of non-DEBUG kernels, so any side effect in their expression happens only on DEBUG builds. An assertion that a removal happened (`ASSERT(ctxop_remove(...) == 1)`) removes and frees the ctxop on DEBUG kernels only, so the two builds behave differently; `ASSERT0(ctxop_remove(...))` (illumos lwp_installctx()) is not reported: the call changes something only when the assertion fails. VERIFY() is always evaluated and is never reported.',
  trigger: /\b(ASSERT\w*|assert|IMPLY|EQUIV|KASSERT|MPASS\d?|VNET_ASSERT)\s*\(/,
  mayReport,
  scope: { reads: /\b(ASSERT\w*|assert|IMPLY|EQUIV|KASSERT|MPASS\d?|VNET_ASSERT)\s*\(/, named: 'all' }, // callees: whether they write state
  check(m, report) {
    const local = locallyDefined(m.text);
    const names = [...ASSERTS.keys()].filter((n) => !local.has(n));
    // The assert calls, found from the text and grouped by top-level function: a function whose
    // text (and the file's function names) did not change since the last lint is not looked at again.
    const { inFn, outside } = names.length ? m.matchesByFunction(new RegExp(`\\b(${names.join('|')})\\s*\\(`, 'g')) : { inFn: new Map<SyntaxNode, RegExpExecArray[]>(), outside: [] };
    const check = (hits: RegExpExecArray[], rep: Parameters<Rule['check']>[1]): boolean => {
      let cacheable = true;
      for (const macro of names) {
        for (const h of hits) {
          if (h[1] !== macro) continue;
          const call = m.callAt(macro, h.index);
          if (!call) continue;
          const r = checkCall(m, macro, call, rep);
          if (r) cacheable = false;
        }
      }
      return cacheable;
    };
    const localKey = [...local].sort().join(',');
    for (const [fn, hits] of inFn) {
      // a verdict that looked into a same-file function is not kept (it depends on that function)
      m.perFunction(rule.id, fn, () => `${localKey}\0${m.fnNamesKey}\0${debugOnly(m, fn.startIndex)}`, (rep) => check(hits, rep), report);
    }
    check(outside, report);
    macroBodies(m, local, report);
  },
};

/** Checks one assert call; true when the verdict read a same-file function's body. */
function checkCall(m: FileModel, macro: string, call: SyntaxNode, report: Parameters<Rule['check']>[1]): boolean {
  const verify = ASSERTS.get(macro) ?? null;
  const args = callArgs(call);
  const checked = FIRST_ARG_ONLY.has(macro) ? args.slice(0, 1) : macro === 'ASSERT3U' || macro === 'ASSERT3S' || macro === 'ASSERT3P' ? [args[0], args[2]] : args;
  const looked = { sameFile: false };
  if (debugOnly(m, call.startIndex)) return false;
  // ASSERT3U(c, ==, 0): the compared pair says c is 0
  const cmpZero = (macro === 'ASSERT3U' || macro === 'ASSERT3S' || macro === 'ASSERT3P') && /,==,\(?(0[uUlL]*|NULL|B_FALSE)\)?\)$/.test((call.childForFieldName('arguments')?.text ?? '').replace(/\s+/g, ''));
  for (const a of checked) {
    if (!a) continue;
    const se = sideEffect(m, a, looked, (c) => (cmpZero && a.id === args[0]?.id && unwrapParens(a).id === c.id) || assertedZero(c, macro, a));
    if (!se) continue;
    const fixes: Fix[] = verify ? [{ title: `Use ${verify}() (always evaluated)`, edits: [replaceNode(call.childForFieldName('function')!, verify)] }] : [];
    report({ range: rangeOf(se.node), node: call, message: `${macro}() has a side effect, ${se.what}: it is compiled out on non-DEBUG builds, so the effect happens only on DEBUG kernels`, fixes });
    break;
  }
  return looked.sameFile;
}

/** A side effect found in an assert inside a #define body (macroHits): where, and what. */
interface MacroHit { define: number; macro: string; what: string; off: number }

/**
 * Asserts inside #define bodies (not parsed as C): Minix's
 * `#define check_bsf_lock() do { assert(mutex_trylock(&bsf_lock) == 0); unlock_bsf(); } while (0)`.
 * Text-level: assignments, ++/--, and calls to known state-changing functions.
 */
function macroHits(text: string, local: Set<string>): MacroHit[] {
  const out: MacroHit[] = [];
  const re = /^[ \t]*#[ \t]*define[ \t]+\w+(?:\([^)]*\))?((?:[^\n]*\\\n)*[^\n]*)/gm;
  const names = [...ASSERTS.keys()].filter((n) => !local.has(n)).join('|');
  const inner = new RegExp(`\\b(${names})\\s*\\(`, 'g');
  for (let r = re.exec(text); r; r = re.exec(text)) {
    const body = r[1]!;
    const base = r.index + r[0].length - body.length;
    inner.lastIndex = 0;
    for (let a = inner.exec(body); a; a = inner.exec(body)) {
      const macro = a[1]!;
      const open = a.index + a[0].length - 1;
      let depth = 0;
      let end = -1;
      const cuts: number[] = [];
      for (let k = open; k < body.length; k++) {
        const ch = body[k];
        if (ch === '(') depth++;
        else if (ch === ')' && --depth === 0) { end = k; break; }
        else if (ch === ',' && depth === 1) cuts.push(k);
      }
      if (end < 0) continue;
      const argEnd = FIRST_ARG_ONLY.has(macro) && cuts.length ? cuts[0]! : end;
      const expr = body.slice(open + 1, argEnd).replace(/\\\n/g, ' ');
      let what = '';
      let at = -1;
      const call = /\b([A-Za-z_]\w*)\s*\(/g;
      for (let c = call.exec(expr); c; c = call.exec(expr)) {
        if (MUTATORS.has(c[1]!) || MUTATOR_RE.test(c[1]!)) { what = `${c[1]}()`; at = c.index; break; }
      }
      if (!what) {
        const asg = /(?:\+\+|--|[^=!<>+\-*/%&|^]=(?!=)|[+\-*/%&|^]=)/.exec(expr);
        if (asg) { what = `'${asg[0].trim()}'`; at = asg.index; }
      }
      if (!what) continue;
      out.push({ define: r.index, macro, what, off: base + open + 1 + at + (/^\s/.test(expr.slice(at)) ? expr.slice(at).search(/\S/) : 0) });
    }
  }
  return out;
}

function macroBodies(m: FileModel, local: Set<string>, report: Parameters<Rule['check']>[1]): void {
  for (const { define, macro, what, off } of macroHits(m.text, local)) {
    const line = m.text.slice(0, off).split('\n').length - 1;
    const col = off - (m.lineStarts[line] ?? 0);
    const len = what.endsWith('()') ? what.length - 2 : 1;
    const node = m.root.namedDescendantForIndex(define, define + 1);
    report({ range: { start: { line, character: col }, end: { line, character: col + len } }, node: node ?? undefined, message: `${macro}() in this macro has a side effect, ${what}: it is compiled out under NDEBUG/NOASSERTS, non-DEBUG illumos or !INVARIANTS, so the effect happens only in debug builds (Minix check_bsf_lock: assert(mutex_trylock()) vanished and the unlock that followed released a lock nobody held)` });
  }
}

const isWordChar = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
const isBlank = (c: number) => c === 32 || (c >= 9 && c <= 13);

/**
 * The rule's pre-filter (Rule.mayReport), from the text alone: false only when no assert can be
 * reported. A superset of what check() reports, by construction: check() reports an assert call's
 * argument that holds an assignment, a ++ or --, a call to a known state-changing function
 * (MUTATORS, MUTATOR_RE) or to a function defined in the file (fnByName), and the macroHits().
 * Here every assert name followed by a parenthesis has the text of its parentheses looked at
 * (strings, character constants and comments skipped): an `=` that is not part of `==`, `!=`,
 * `<=`, `>=`, a `++` or `--`, or an identifier that is a known state-changing function or may name
 * a function of the file (one the token scan of unread.ts finds a body for, or any name when that
 * scan cannot tell) says it may report. So do a directive (`#`) inside the parentheses or between
 * the name and them, and parentheses that do not close: the configurations read such text otherwise.
 * Every assert name counts, even one the file defines (a configuration may blank its #define).
 */
export function mayReport(text: string): boolean {
  // (every assert name, even one the file defines: a configuration may blank that #define)
  if (macroHits(text, new Set()).length) return true;
  const names = [...ASSERTS.keys()];
  let defined: Set<string> | null | undefined;
  const mayBeDefined = (name: string): boolean => {
    if (defined === undefined) defined = definedFunctions(text);
    return defined === null || defined.has(name);
  };
  const re = new RegExp(`\\b(?:${names.join('|')})\\b`, 'g');
  const n = text.length;
  for (let r = re.exec(text); r; r = re.exec(text)) {
    let k = r.index + r[0].length;
    while (k < n && isBlank(text.charCodeAt(k))) k++;
    const c0 = text.charCodeAt(k);
    if (c0 === 35) return true; // '#': a directive between the name and its parenthesis
    if (c0 !== 40) continue;
    let depth = 0;
    let closed = false;
    for (; k < n; k++) {
      const c = text.charCodeAt(k);
      if (c === 40) depth++;
      else if (c === 41) { if (--depth === 0) { closed = true; break; } }
      else if (c === 34 || c === 39) { // a string or character constant
        for (k++; k < n && text.charCodeAt(k) !== c; k++) if (text.charCodeAt(k) === 92) k++;
      } else if (c === 47 && text.charCodeAt(k + 1) === 42) { // a comment
        const e = text.indexOf('*/', k + 2);
        if (e < 0) return true;
        k = e + 1;
      } else if (c === 47 && text.charCodeAt(k + 1) === 47) {
        while (k < n && text.charCodeAt(k) !== 10) k++;
      } else if (c === 35) return true;
      else if (c === 61) { // '='
        const p = text.charCodeAt(k - 1);
        if (text.charCodeAt(k + 1) === 61) { k++; continue; } // ==
        if (p === 33) continue; // !=
        if ((p === 60 || p === 62) && text.charCodeAt(k - 2) !== p) continue; // <= >= (not <<= >>=)
        return true;
      } else if ((c === 43 || c === 45) && text.charCodeAt(k + 1) === c) return true; // ++ --
      else if (isWordChar(c) && !(c >= 48 && c <= 57)) {
        const s = k;
        while (k + 1 < n && isWordChar(text.charCodeAt(k + 1))) k++;
        const w = text.slice(s, k + 1);
        if (MUTATORS.has(w) || MUTATOR_RE.test(w) || mayBeDefined(w)) return true;
      } else if (c >= 48 && c <= 57) {
        while (k + 1 < n && isWordChar(text.charCodeAt(k + 1))) k++; // a number (its suffix is no name)
      }
    }
    if (!closed) return true;
  }
  return false;
}

/** The names of the functions the file defines, from unread.ts's token scan; null when it cannot tell. */
function definedFunctions(text: string): Set<string> | null {
  const items = topLevelItems(text);
  if (!items) return null;
  const out = new Set<string>();
  for (const it of items) {
    if (it.opaque) return null;
    if (!it.body) continue;
    if (!it.name) return null;
    out.add(it.name);
  }
  return out;
}
