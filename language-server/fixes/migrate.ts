/**
 * The 13917 migration: installctx()/removectx()/installctx_preallocate() to a
 * `static const struct ctxop_template` and ctxop_install()/ctxop_allocate()+ctxop_attach()/
 * ctxop_remove(). One planner serves both the per-call quick fix and the whole-file fix,
 * so templates are generated once and edits never overlap.
 */
import type { FileModel, Template } from '../model';
import type { TextEdit } from '../rules/types';
import type { SyntaxNode } from '../syntax';
import { callArgs, callName, functionDeclaratorOf, identifiersIn, isNullLiteral, lineOf, lvalueRoot, unwrap, walk } from '../syntax';
import { SLOTS, LEGACY_HANDLER_BASE, handlerText } from '../ctxapi';
import { declareInFunction, freshName, hoistBeforeGuard, insertAt, insertLinesBefore, replaceNode } from './edits';

export interface MigrationPlan {
  edits: TextEdit[];
  /** Calls migrated without moving the allocation out of a kpreempt_disable() region. */
  caveats: string[];
}

interface GenTemplate {
  name: string;
  handlers: (string | null)[];
  before: SyntaxNode; // function the template goes above
}

function tupleKey(h: (string | null)[]): string {
  return h.map((x) => x ?? 'NULL').join(',');
}

function handlersOfCall(call: SyntaxNode): (string | null)[] {
  const a = callArgs(call);
  const out: (string | null)[] = [];
  for (let i = 0; i < SLOTS.length; i++) {
    const t = handlerText(a[LEGACY_HANDLER_BASE + i]);
    out.push(t === 'NULL' ? null : t);
  }
  return out;
}

function templateMatches(t: Template, h: (string | null)[], fn: SyntaxNode): boolean {
  if (!t.init || t.fn) return false; // only file-scope templates are visible everywhere
  if (t.decl.startIndex > fn.startIndex) return false; // defined below its user
  for (let i = 0; i < SLOTS.length; i++) {
    if ((t.handlers.get(SLOTS[i]!) ?? null) !== h[i]) return false;
  }
  return true;
}

function commonPrefix(names: string[]): string {
  if (!names.length) return '';
  let p = names[0]!;
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  if (names.length > 1) {
    const cut = p.lastIndexOf('_');
    p = cut > 0 ? p.slice(0, cut) : p;
  }
  return p.replace(/_+$/, '');
}

/** Where a new top-level item goes: above the function and the comment block attached to it. */
function aboveFunction(fn: SyntaxNode): SyntaxNode {
  let start = fn;
  for (let prev = fn.previousSibling; prev && prev.type === 'comment' && prev.endPosition.row >= start.startPosition.row - 1; prev = prev.previousSibling) start = prev;
  return start;
}

function prototypeText(fn: SyntaxNode): string | null {
  const fd = functionDeclaratorOf(fn);
  if (!fd) return null;
  const head = fn.text.slice(0, fd.endIndex - fn.startIndex);
  return head.replace(/\s*\n\s*/g, ' ').replace(/\s+/g, ' ').trim() + ';';
}

export function templateText(name: string, handlers: (string | null)[]): string[] {
  const lines = [`static const struct ctxop_template ${name} = {`, '\t.ct_rev\t\t= CTXOP_TPL_REV,'];
  SLOTS.forEach((slot, i) => {
    const h = handlers[i];
    if (h) lines.push(`\t.${slot}\t= ${h},`);
  });
  lines.push('};');
  return lines;
}

export class MigrationPlanner {
  private gen = new Map<string, GenTemplate>();
  private usedNames = new Set<string>();
  private edits: TextEdit[] = [];
  private caveats: string[] = [];
  private doneInstalls = new Set<number>();
  private declared = new Map<number, string>(); // fn id -> ctx variable declared by this plan

  constructor(private readonly m: FileModel) {}

  private templateFor(h: (string | null)[], fn: SyntaxNode): string {
    for (const t of this.m.templates.values()) if (templateMatches(t, h, fn)) return t.name;
    const key = tupleKey(h);
    const g = this.gen.get(key);
    if (g) {
      if (fn.startIndex < g.before.startIndex) g.before = fn;
      return g.name;
    }
    const named = h.filter((x): x is string => !!x && /^[A-Za-z_]\w*$/.test(x));
    let base = commonPrefix([...new Set(named)]);
    if (base.length < 2) base = named[0] ?? 'ctx';
    let name = `${base}_ctxop_tpl`;
    for (let i = 2; this.usedNames.has(name) || new RegExp(`\\b${name}\\b`).test(this.m.text); i++) name = `${base}_ctxop_tpl${i}`;
    this.usedNames.add(name);
    this.gen.set(key, { name, handlers: h, before: fn });
    return name;
  }

  /** Adds the edits for one legacy call. Returns a reason when the call cannot be migrated. */
  add(call: SyntaxNode): string | null {
    const name = callName(call);
    const fn = this.m.enclosingFunction(call);
    if (!fn) return 'the call is not inside a function';
    if (name === 'installctx_preallocate') {
      const consumer = this.consumerOf(call, fn);
      if (!consumer) return 'no installctx() in this function uses the preallocated ctxop';
      return this.add(consumer);
    }
    const a = callArgs(call);
    if (name === 'removectx') {
      if (a.length !== 8) return 'removectx() needs its 8 arguments';
      const tpl = this.templateFor(handlersOfCall(call), fn);
      this.edits.push(replaceNode(call, `ctxop_remove(${a[0]!.text}, &${tpl}, ${a[1]!.text})`));
      return null;
    }
    if (name !== 'installctx') return 'not a legacy ctxop call';
    if (this.doneInstalls.has(call.id)) return null;
    if (a.length !== 8 && a.length !== 9) return `installctx() has ${a.length} arguments`;
    const t = a[0]!.text;
    const arg = a[1]!.text;
    const tpl = this.templateFor(handlersOfCall(call), fn);
    const alloc = `ctxop_allocate(&${tpl}, ${arg})`;
    const pre = a[8];
    if (pre && !isNullLiteral(pre)) {
      // A preallocated ctxop: every assignment to it becomes the allocation; the install becomes an attach.
      const v = unwrap(pre);
      if (!v || v.type !== 'identifier') return 'the 9th argument is not a simple variable';
      const assigns = this.assignmentsTo(v.text, fn);
      if (!assigns.length) return `no assignment to '${v.text}' in this function`;
      const argIds = identifiersIn(a[1]!);
      for (const asg of assigns) {
        if (asg.value.startIndex > call.startIndex) return `'${v.text}' is assigned after the install`;
        const ok = unwrap(asg.value);
        if (!ok || !(isNullLiteral(ok) || (ok.type === 'call_expression' && callName(ok) === 'installctx_preallocate'))) return `'${v.text}' is assigned something other than installctx_preallocate() or NULL`;
        if (!this.argReady(argIds, fn, asg.value, call)) return `'${arg}' is not ready where '${v.text}' is allocated`;
      }
      for (const asg of assigns) this.edits.push(replaceNode(asg.value, alloc));
      this.edits.push(replaceNode(call, `ctxop_attach(${t}, ${v.text})`));
      this.doneInstalls.add(call.id);
      return null;
    }
    const pa = this.m.preempt;
    const hasGuards = /\bkpreempt_disable\b|\bt_preempt\b/.test(this.m.text);
    if (!hasGuards || pa.enabledOnAllPaths(call)) {
      this.edits.push(replaceNode(call, `ctxop_install(${t}, &${tpl}, ${arg})`));
      this.doneInstalls.add(call.id);
      return null;
    }
    const disabled = pa.statesAt(call).filter((s) => s.count > 0);
    const guard = disabled[0]?.guards[0];
    const why = !disabled.length ? 'preemption state at the call is unknown'
      : !guard || !disabled.every((s) => s.guards[0]?.id === guard.id) ? 'preemption is disabled by the caller or by different guards'
      : null;
    let reason = why;
    if (!reason) {
      const h = hoistBeforeGuard(this.m, call, guard!, identifiersIn(a[1]!));
      if (typeof h === 'string') reason = h;
      else {
        let ctx = this.declared.get(fn.id);
        const edits: TextEdit[] = [];
        if (!ctx) {
          ctx = freshName(fn, ['ctx', 'ctxop', 'kctx_ctx']);
          const d = declareInFunction(this.m, fn, `struct ctxop *${ctx};`);
          if (!d) reason = 'no place to declare the ctxop';
          else edits.push(d);
        }
        const ins = insertLinesBefore(this.m, h.guardStmt, [`${ctx} = ${alloc};`]);
        if (!reason && ins) {
          if (!this.declared.has(fn.id)) this.declared.set(fn.id, ctx);
          this.edits.push(...edits, ins, replaceNode(call, `ctxop_attach(${t}, ${ctx})`));
          this.doneInstalls.add(call.id);
          return null;
        }
        reason ??= 'the guard does not start its own line';
      }
    }
    // Fallback keeps the semantics of the old call (a sleeping allocation where it was).
    this.edits.push(replaceNode(call, `ctxop_install(${t}, &${tpl}, ${arg})`));
    this.caveats.push(`line ${lineOf(call)}: ctxop_install() still allocates with preemption disabled (${reason}); allocate with ctxop_allocate() before kpreempt_disable() by hand`);
    this.doneInstalls.add(call.id);
    return null;
  }

  private consumerOf(pre: SyntaxNode, fn: SyntaxNode): SyntaxNode | null {
    const p = pre.parent;
    let v = '';
    if (p?.type === 'assignment_expression') v = lvalueRoot(p.childForFieldName('left'));
    else if (p?.type === 'init_declarator') v = p.childForFieldName('declarator')?.text.replace(/[^\w]/g, '') ?? '';
    if (!v) return null;
    for (const c of this.m.callsTo('installctx')) {
      if (this.m.enclosingFunction(c)?.id !== fn.id) continue;
      const a = callArgs(c);
      if (a.length === 9 && unwrap(a[8])?.text === v) return c;
    }
    return null;
  }

  private assignmentsTo(v: string, fn: SyntaxNode): { value: SyntaxNode }[] {
    const out: { value: SyntaxNode }[] = [];
    walk(fn, (n) => {
      if (n.type === 'assignment_expression' && n.childForFieldName('operator')?.text === '=' && unwrap(n.childForFieldName('left'))?.text === v) {
        const val = n.childForFieldName('right');
        if (val) out.push({ value: val });
      } else if (n.type === 'init_declarator') {
        const id = n.childForFieldName('declarator');
        const name = id?.text.replace(/[^\w]/g, '');
        const val = n.childForFieldName('value');
        if (name === v && val) out.push({ value: val });
      }
      return true;
    });
    return out;
  }

  /** The install's arg can be evaluated at `at`: its locals are declared before and not written between. */
  private argReady(ids: Set<string>, fn: SyntaxNode, at: SyntaxNode, call: SyntaxNode): boolean {
    let ok = true;
    walk(fn, (n) => {
      if (!ok) return false;
      if (n.type === 'init_declarator' || n.type === 'declaration') {
        const d = n.type === 'init_declarator' ? n.childForFieldName('declarator') : null;
        const name = d?.text.replace(/[^\w]/g, '');
        if (name && ids.has(name) && n.startIndex > at.startIndex) ok = false;
      }
      if (n.type === 'assignment_expression' && n.startIndex > at.endIndex && n.startIndex < call.startIndex) {
        const root = lvalueRoot(n.childForFieldName('left'));
        if (ids.has(root)) ok = false;
      }
      return true;
    });
    return ok;
  }

  /** Final edits: the call edits plus the generated templates (and forward declarations they need). */
  finish(): MigrationPlan {
    const byAnchor = new Map<number, { anchor: SyntaxNode; lines: string[] }>();
    const protoDone = new Set<string>();
    for (const g of [...this.gen.values()].sort((x, y) => x.before.startIndex - y.before.startIndex)) {
      const anchor = aboveFunction(g.before);
      let slot = byAnchor.get(anchor.id);
      if (!slot) byAnchor.set(anchor.id, (slot = { anchor, lines: [] }));
      const protos: string[] = [];
      for (const h of g.handlers) {
        if (!h || protoDone.has(h)) continue;
        const def = this.m.fnByName.get(h);
        const proto = this.m.prototypes.get(h);
        const visible = (def && def.startIndex < anchor.startIndex) || (proto && proto.startIndex < anchor.startIndex);
        if (def && !visible) {
          const p = prototypeText(def);
          if (p) { protos.push(p); protoDone.add(h); }
        }
      }
      if (protos.length) slot.lines.push(...protos, '');
      slot.lines.push(...templateText(g.name, g.handlers), '');
    }
    const edits = [...this.edits];
    for (const { anchor, lines } of byAnchor.values()) edits.push(insertAt(anchor.startPosition.row, 0, lines.map((l) => l + '\n').join('')));
    return { edits, caveats: this.caveats };
  }
}

/** Plans the migration of the given legacy calls (one call for a quick fix, all for fix-all). */
export function planMigration(m: FileModel, calls: SyntaxNode[]): MigrationPlan | string {
  const p = new MigrationPlanner(m);
  const reasons: string[] = [];
  for (const c of calls) {
    const r = p.add(c);
    if (r) reasons.push(`line ${lineOf(c)}: ${r}`);
  }
  const plan = p.finish();
  if (!plan.edits.length) return reasons.join('; ') || 'nothing to migrate';
  return plan;
}
