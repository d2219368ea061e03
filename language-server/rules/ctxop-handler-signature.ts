/** ctxop-handler-signature: a handler whose parameters do not match how its slot is called. */
import { CTX_SCOPE } from '../ctxapi';
import type { Rule } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { functionDeclaratorOf, paramShape, parameters, rangeOf, unwrap, walk } from '../syntax';
import { HANDLER_SIGNATURES } from '../../core/ctxop-api';
import { handlerBindings } from '../handlers';

const EXPECT = HANDLER_SIGNATURES;

const THREAD_TYPES = /^(const\s+)?(kthread_t|kthread_id_t|struct\s+_kthread|struct\s+kthread)$/;

/** Does the body treat parameter p as a pointer to something other than a thread? Returns that type. */
function usedAsNonThread(fn: SyntaxNode, p: { type: string; depth: number; name: string }): string | null {
  if (!p.name) return null;
  const body = fn.childForFieldName('body');
  if (!body) return null;
  if (p.depth >= 1 && p.type !== 'void') {
    if (THREAD_TYPES.test(p.type)) return null;
    let used = false;
    walk(body, (n) => { if (n.type === 'identifier' && n.text === p.name) used = true; return !used; });
    return used ? `${p.type} *` : null;
  }
  if (p.type === 'void' && p.depth === 1) {
    // `struct foo *f = arg;` or `(struct foo *)arg`
    let found: string | null = null;
    walk(body, (n) => {
      if (found) return false;
      if (n.type === 'declaration') {
        const t = n.childForFieldName('type')?.text ?? '';
        for (const d of n.childrenForFieldName('declarator')) {
          if (d?.type !== 'init_declarator') continue;
          const v = unwrap(d.childForFieldName('value'));
          if (v?.type === 'identifier' && v.text === p.name && d.childForFieldName('declarator')?.type === 'pointer_declarator' && !THREAD_TYPES.test(t) && t !== 'void') found = `${t} *`;
        }
      } else if (n.type === 'cast_expression') {
        const v = unwrap(n.childForFieldName('value'));
        const t = n.childForFieldName('type')?.text.replace(/\s*\*\s*$/, '').trim() ?? '';
        if (v?.type === 'identifier' && v.text === p.name && !THREAD_TYPES.test(t) && t !== 'void' && /\*/.test(n.childForFieldName('type')?.text ?? '')) found = `${t} *`;
      }
      return !found;
    });
    return found;
  }
  return null;
}

export const rule: Rule = {
  id: 'ctxop-handler-signature',
  title: 'ctxop handler does not match its slot',
  severity: 'warning',
  confidence: 'medium',
  rationale:
    'The kernel calls save and restore handlers with arg, free with (arg, isexec), but fork and lwp_create with the parent and child threads and exit with the exiting thread, never with arg. Before 13917 the handlers were declared as unprototyped void (*)(), so nothing checked them; a handler with the wrong parameter count reads a garbage register, and an exit or fork handler that casts its argument to the driver\'s state dereferences a kthread_t as something else. 13917 retyped every in-gate handler (fp_free became fp_free_ctx(void *, int)).',
  trigger: /\bctxop_template\b|\binstallctx\s*\(/,
  scope: { reads: CTX_SCOPE, named: 'direct' }, // the handlers' bodies
  check(m, report) {
    const seen = new Set<string>();
    for (const b of handlerBindings(m)) {
      const key = b.slot + ':' + b.name + ':' + b.ref.id;
      if (seen.has(key)) continue;
      seen.add(key);
      const def = m.fnByName.get(b.name);
      const fdecl = def ? functionDeclaratorOf(def) : m.prototypes.get(b.name);
      if (!fdecl) continue;
      const ps = parameters(fdecl);
      if (!ps) continue;
      const want = EXPECT[b.slot];
      if (ps.length !== want.n) {
        report({ range: rangeOf(b.ref), node: b.ref, message: `${b.name}() takes ${ps.length} parameter${ps.length === 1 ? '' : 's'} but is the ${b.slot.slice(3)} handler of ${b.via}, which the kernel calls as ${want.call}${ps.length > want.n ? ': the extra parameters read garbage' : ''}` });
        continue;
      }
      if (!def) continue;
      if (b.slot === 'ct_exit' || b.slot === 'ct_fork' || b.slot === 'ct_lwp_create') {
        for (const p of ps) {
          const shape = paramShape(p);
          const t = usedAsNonThread(def, shape);
          if (t) {
            report({ range: rangeOf(b.ref), node: b.ref, message: `${b.name}() uses its parameter '${shape.name}' as ${t} but, as the ${b.slot.slice(3)} handler of ${b.via}, it is called as ${want.call}` });
            break;
          }
        }
      }
    }
  },
};
