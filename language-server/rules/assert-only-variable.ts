/**
 * assert-only-variable: a local variable or parameter that is read only inside assert macros. With
 * asserts compiled out (NDEBUG/NOASSERTS, non-DEBUG illumos, !INVARIANTS) it is set but never used
 * (or an unused parameter), which -Werror builds reject: Minix 7e107473 (ctty_opcl's `op`).
 */
import type { Rule } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callName, functionDeclaratorOf, rangeOf, walk, hasStructuralError } from '../syntax';
import { ASSERT_NAMES, locallyDefined } from './assert-side-effect';

const DEBUG_GUARD = /\b(DEBUG|INVARIANTS|NDEBUG|DIAGNOSTIC|WITNESS|ZFS_DEBUG|NOASSERTS)\b/;
const UNUSED_MARK = /\b(__unused|__maybe_unused|__attribute__\s*\(\(\s*(__)?unused(__)?\s*\)\)|ASSERTV|__diagused|__assert_used)\b/;

interface Var { name: string; decl: SyntaxNode; param: boolean }

/**
 * Words in the arguments of the assert calls in a function's text: only a variable named by one of
 * them can be reported. null when the text is too irregular to tell (a string, a character or a
 * comment inside the arguments, or between a macro name and its parenthesis; unbalanced parentheses).
 */
function assertWords(text: string, names: ReadonlySet<string>): Set<string> | null {
  const out = new Set<string>();
  const re = /\b([A-Za-z_]\w*)(\s*)(\(|\/[*/])/g;
  for (let r = re.exec(text); r; r = re.exec(text)) {
    if (!names.has(r[1]!)) continue;
    if (r[3] !== '(') return null;
    let depth = 0;
    let end = -1;
    const open = r.index + r[1]!.length + r[2]!.length;
    for (let k = open; k < text.length; k++) {
      const ch = text.charCodeAt(k);
      if (ch === 40) depth++;
      else if (ch === 41) { if (--depth === 0) { end = k; break; } }
      else if (ch === 34 || ch === 39 || (ch === 47 && (text.charCodeAt(k + 1) === 42 || text.charCodeAt(k + 1) === 47))) return null;
    }
    if (end < 0) return null;
    const w = /[A-Za-z_]\w*/g;
    const region = text.slice(r.index, end + 1);
    for (let x = w.exec(region); x; x = w.exec(region)) out.add(x[0]);
  }
  return out;
}

/** A regex for any of the words, or null (no word, or one that is not plain \w+). */
function wordsRe(words: Iterable<string>): RegExp | null {
  const l = [...words];
  if (!l.length || !l.every((w) => /^[A-Za-z_]\w*$/.test(w))) return null;
  return new RegExp(`\\b(${l.join('|')})\\b`);
}

/**
 * Is `w` certainly read outside the asserts of the body (so a variable of that name cannot be
 * reported)? Looks only at its occurrences in the text, each mapped to its node; occurrences that
 * could be a declaration, a plain write, a field name or inside an assert do not count.
 */
function usedOutsideAsserts(m: FileModel, body: SyntaxNode, w: string, names: ReadonlySet<string>): boolean {
  if (!/^[A-Za-z_]\w*$/.test(w)) return false;
  const re = new RegExp(`\\b${w}\\b`, 'g');
  re.lastIndex = body.startIndex;
  for (let r = re.exec(m.text); r && r.index + w.length <= body.endIndex; r = re.exec(m.text)) {
    const n = m.root.namedDescendantForIndex(r.index, r.index + w.length);
    if (!n || n.type !== 'identifier' || n.startIndex !== r.index || n.endIndex !== r.index + w.length) continue;
    const p = n.parent;
    if (!p || /declarator$|^declaration$|^parameter_declaration$/.test(p.type)) continue;
    if (p.type === 'assignment_expression' && p.childForFieldName('left')?.id === n.id) continue;
    if (p.type === 'field_expression' && p.childForFieldName('field')?.id === n.id) continue;
    if (inAssert(n, names)) continue;
    return true;
  }
  return false;
}

/** declared(), keeping only names in `only` (the walk skips subtrees whose text names none of them). */
function declared(fn: SyntaxNode, only?: Set<string> | null): Var[] {
  const keep = only ? wordsRe(only) : null;
  if (only && !only.size) return [];
  const out: Var[] = [];
  const fd = functionDeclaratorOf(fn);
  const params = fd?.childForFieldName('parameters');
  const add = (d: SyntaxNode | null, param: boolean, holder: SyntaxNode) => {
    let cur = d;
    while (cur && cur.type !== 'identifier') cur = cur.childForFieldName('declarator') ?? (cur.type === 'parenthesized_declarator' ? cur.namedChildren[0] ?? null : null);
    if (cur && (!only || only.has(cur.text)) && !UNUSED_MARK.test(holder.text)) out.push({ name: cur.text, decl: cur, param });
  };
  for (const p of params?.namedChildren ?? []) if (p && p.type === 'parameter_declaration') add(p.childForFieldName('declarator'), true, p);
  const body = fn.childForFieldName('body');
  if (body) walk(body, (n) => {
    if (n.type === 'declaration') {
      if (n.namedChildren.some((c) => c?.type === 'storage_class_specifier' && (c.text === 'static' || c.text === 'extern'))) return false;
      for (const d of n.childrenForFieldName('declarator')) if (d) add(d, false, n);
      return true;
    }
    return n.type !== 'comment' && (!keep || keep.test(n.text));
  });
  return out;
}

/** The assert call whose checked arguments contain n, or null. */
function inAssert(n: SyntaxNode, names: ReadonlySet<string>): boolean {
  for (let a = n.parent; a; a = a.parent) {
    if (a.type === 'call_expression' && names.has(callName(a))) return true;
    if (a.type === 'function_definition' || a.type === 'compound_statement') return false;
  }
  return false;
}

function guarded(n: SyntaxNode): boolean {
  for (let a = n.parent; a; a = a.parent) {
    if (/^preproc_(if|ifdef|elif|else|elifdef)$/.test(a.type)) {
      let root: SyntaxNode = a;
      while (root.parent && /^preproc_(if|ifdef|elif|else|elifdef)$/.test(root.parent.type)) root = root.parent;
      const head = root.text.slice(0, root.text.indexOf('\n'));
      if (DEBUG_GUARD.test(head)) return true;
    }
  }
  return false;
}

const ASSERT_CALL = /\b(ASSERT\w*|assert|IMPLY|EQUIV|KASSERT|MPASS\d?|VNET_ASSERT)\s*\(/;

/** The heads of the #if chains around a top-level function (what guarded() reads outside it). */
function outerGuards(fn: SyntaxNode): string {
  const p = fn.parent;
  if (!p || p.type === 'translation_unit') return '';
  const heads: string[] = [];
  for (let a: SyntaxNode | null = p; a; a = a.parent) {
    if (/^preproc_(if|ifdef|elif|else|elifdef)$/.test(a.type)) {
      let root: SyntaxNode = a;
      while (root.parent && /^preproc_(if|ifdef|elif|else|elifdef)$/.test(root.parent.type)) root = root.parent;
      heads.push(root.text.slice(0, root.text.indexOf('\n')));
    } else heads.push(a.type);
  }
  return heads.join('\n');
}

export const rule: Rule = {
  id: 'assert-only-variable',
  title: 'Variable used only inside assertions',
  severity: 'warning',
  defaultOff: true, // below the precision bar: docs/rules/README.md#precision
  confidence: 'medium',
  rationale:
    'assert() vanishes under NDEBUG (Minix builds release images with NOASSERTS, which sets NDEBUG), illumos ASSERT under non-DEBUG kernels, KASSERT/MPASS without INVARIANTS. A variable whose every read sits in such a macro becomes set-but-unused (or an unused parameter) in those builds, and -Werror turns the release build red: Minix 7e107473 replaced `assert(!IS_BDEV_RQ(op))` in ctty_opcl() with a real check for that reason. Either check it for real (VERIFY, or an if with panic) or mark it (ASSERTV, __diagused, (void)x).',
  trigger: /\b(ASSERT\w*|assert|IMPLY|EQUIV|KASSERT|MPASS\d?|VNET_ASSERT)\s*\(/,
  // (every assert name, even one the file defines: a configuration may blank that #define)
  scope: { reads: /\b(ASSERT\w*|assert|IMPLY|EQUIV|KASSERT|MPASS\d?|VNET_ASSERT)\s*\(/ },
  check(m, report) {
    const local = locallyDefined(m.text);
    const names = new Set([...ASSERT_NAMES].filter((n) => !local.has(n)));
    const localKey = [...local].sort().join(',');
    for (const fn of m.functions) {
      // cheap prefilter on the function's text (the body is part of it)
      if (!ASSERT_CALL.test(m.textOf(fn))) continue;
      // illumos lint's ARGSUSED: the function's parameters may go unused on purpose
      const before = m.text.slice(Math.max(0, fn.startIndex - 200), fn.startIndex);
      // outside the function, the verdict reads the macros the file defines, the comment before it and
      // the #if branches around it
      m.perFunction(rule.id, fn, () => `${localKey}\0${before}\0${outerGuards(fn)}`, (report) => {
      if (hasStructuralError(fn)) return;
      const body = fn.childForFieldName('body');
      if (!body || !ASSERT_CALL.test(body.text)) return;
      const argsUsed = /ARGSUSED\s*\*\/\s*$/.test(before) || /ARGSUSED/.test(before.slice(before.lastIndexOf('}') + 1));
      // a function made only of assertions is a debug check: its parameters exist for them
      const stmts = body.namedChildren.filter((c) => c && c.type !== 'comment') as SyntaxNode[];
      if (stmts.every((st) => st.type === 'expression_statement' && /^\s*(ASSERT\w*|assert|IMPLY|EQUIV|KASSERT|MPASS\d?|VNET_ASSERT)\s*\(/.test(st.text))) return;
      // only variables named inside an assert can be reported: look for those alone
      const text = m.textOf(fn);
      let words = assertWords(text, names);
      if (words) words = new Set([...words].filter((w) => !usedOutsideAsserts(m, body, w, names)));
      const vars = declared(fn, words);
      if (!vars.length) return;
      const mayBeGuarded = text.includes('#') || outerGuards(fn) !== '';
      const byName = new Map<string, { v: Var; asserted: number; other: number }>();
      for (const v of vars) if (!(v.param && argsUsed) && !(mayBeGuarded && guarded(v.decl))) byName.set(v.name, { v, asserted: 0, other: 0 });
      if (!byName.size) return;
      const wanted = wordsRe(byName.keys());
      walk(body, (n) => {
        if (n.type === 'comment' || n.type === 'string_literal') return false;
        if (n.type !== 'identifier') return !wanted || wanted.test(n.text);
        const e = byName.get(n.text);
        if (!e || n.id === e.v.decl.id) return true;
        const p = n.parent;
        // plain writes are not uses
        if (p && p.type === 'assignment_expression' && p.childForFieldName('left')?.id === n.id) return true;
        if (p && p.type === 'init_declarator' && p.childForFieldName('declarator')?.id === n.id) return true;
        if (p && p.type === 'field_expression' && p.childForFieldName('field')?.id === n.id) return true;
        if (inAssert(n, names)) e.asserted++;
        else e.other++;
        return true;
      });
      for (const { v, asserted, other } of byName.values()) {
        if (!asserted || other) continue;
        const what = v.param ? `parameter '${v.name}'` : `'${v.name}'`;
        report({ range: rangeOf(v.decl), node: v.decl, message: `${what} is used only inside assertions: with asserts compiled out (NDEBUG/NOASSERTS, non-DEBUG, !INVARIANTS) it is ${v.param ? 'an unused parameter' : 'set but never used'}, which -Werror builds reject (Minix 7e107473); check it for real (VERIFY, or if/panic) or mark it (__diagused, ASSERTV, (void)${v.name})` });
      }
      }, report);
    }
  },
};
