/**
 * What the linter knows about the illumos thread context-op interfaces, era by era
 * (illumos#12477, #13915, #13917), and about what sleeps or blocks: the facts are core/'s
 * (eras.ts, ctxop-api.ts); here they are applied to syntax nodes, with the hover texts.
 */
import type { SyntaxNode } from './syntax';
import { callArgs, callName, isNullLiteral, unwrap, walk } from './syntax';
import type { ApiEra } from '../core/eras';
import { BLOCKING_CALLS, KM_ALLOCATORS, SLEEPING_CTXOP_CALLS, VM_ALLOCATORS } from '../core/ctxop-api';

/** The kernel interface a file is written against. '12477' is any kernel before 13915. */
export type Era = ApiEra;

/**
 * What the ctxop rules read of a function (rules/types.ts scope): preemption, any ctxop interface,
 * the thread's ctxop list. The era (inferEra), an #if branch's interface level (inOlderKernelBranch)
 * and the preemption analysis read these in any function of the file.
 */
export const CTX_SCOPE = /\b(?:kpreempt_(?:disable|enable)|t_preempt|installctx\w*|removectx|ctxop_\w+|t_ctx)\b/;

/** The words every sleeping allocation (sleepingAllocation() below) has in its text: a text without them has none. */
export const SLEEP_WORDS = new RegExp(`\\b(?:KM_SLEEP|VM_SLEEP|installctx|${[...SLEEPING_CTXOP_CALLS.keys()].join('|')})\\b`);

export { LEGACY_API, CTXOP_API, SLOTS, SLOT_ROLE, LEGACY_HANDLER_BASE, type Slot } from '../core/ctxop-api';
export { installctxArity } from '../core/eras';

function flagsSay(arg: SyntaxNode | undefined, word: string): boolean {
  if (!arg) return false;
  let hit = false;
  walk(arg, (n) => {
    if (n.type === 'identifier' && n.text === word) hit = true;
    return !hit;
  });
  return hit;
}

/** Does this call itself do a sleeping (KM_SLEEP) allocation? Returns a short description or null. */
export function sleepingAllocation(call: SyntaxNode): string | null {
  const name = callName(call);
  if (!name) return null;
  const args = callArgs(call);
  switch (name) {
    case 'installctx':
      if (args.length <= 8) return 'installctx() allocates its ctxop with KM_SLEEP';
      if (args.length === 9 && isNullLiteral(args[8])) return 'installctx(..., NULL) allocates its ctxop with KM_SLEEP';
      return null;
  }
  const ctxop = SLEEPING_CTXOP_CALLS.get(name);
  if (ctxop) return ctxop;
  if (KM_ALLOCATORS.has(name)) {
    const flags = args[args.length - 1];
    if (flagsSay(flags, 'KM_SLEEP')) return `${name}(..., KM_SLEEP) may sleep`;
    return null;
  }
  if (VM_ALLOCATORS.has(name)) {
    const flags = name === 'vmem_xalloc' ? args[args.length - 1] : args[2];
    if (flagsSay(flags, 'VM_SLEEP')) return `${name}(..., VM_SLEEP) may sleep`;
  }
  return null;
}

/**
 * Does this call block (for code that runs inside resume())? Adaptive mutex_enter is blocking
 * only when the lock is known (from a mutex_init in this file) to be adaptive.
 */
export function blockingCall(call: SyntaxNode, adaptiveLocks: ReadonlySet<string>): string | null {
  const alloc = sleepingAllocation(call);
  if (alloc) return alloc;
  const name = callName(call);
  const b = BLOCKING_CALLS.get(name);
  if (b) return b;
  if (name === 'mutex_enter') {
    const a = callArgs(call)[0];
    const key = lockKey(a);
    if (key && adaptiveLocks.has(key)) return `mutex_enter(${a!.text}) takes an adaptive mutex, which can block`;
  }
  return null;
}

/** A lock named by `&x`, `&p->lock`: the text after the last `->`/`.` with the `&` removed. */
export function lockKey(a: SyntaxNode | undefined): string {
  const u = unwrap(a);
  if (!u) return '';
  let t = u.text.replace(/\s+/g, '');
  if (t.startsWith('&')) t = t.slice(1);
  const m = /([A-Za-z_][A-Za-z0-9_]*)$/.exec(t);
  return m ? m[1]! : '';
}

/** Text of a NULL-or-handler argument for comparison. */
export function handlerText(n: SyntaxNode | undefined): string {
  if (!n || isNullLiteral(n)) return 'NULL';
  const u = unwrap(n);
  let t = (u ?? n).text.replace(/\s+/g, '');
  if (t.startsWith('&')) t = t.slice(1);
  return t;
}

export const ILLUMOS_ISSUE = (n: number) => `https://www.illumos.org/issues/${n}`;

interface ApiDoc {
  sig: Partial<Record<Era, string>>;
  history: string;
  issues: number[];
}

const INSTALL8 = 'void installctx(kthread_t *t, void *arg,\n    void (*save)(void *), void (*restore)(void *),\n    void (*fork)(void *, void *), void (*lwp_create)(void *, void *),\n    void (*exit)(void *), void (*free)(void *, int));';
const INSTALL9 = INSTALL8.replace(');', ',\n    struct ctxop *ctx);');
const REMOVE8 = INSTALL8.replace('void installctx', 'int removectx');

export const API_DOCS: Record<string, ApiDoc> = {
  installctx: {
    sig: { '12477': INSTALL8, '13915': INSTALL9 },
    history: 'Before 13915: 8 arguments, allocates its ctxop with KM_SLEEP. 13915 added a 9th argument, a ctxop from installctx_preallocate() (NULL keeps the sleeping allocation). 13917 removed it: use a struct ctxop_template with ctxop_install(), or ctxop_allocate() + ctxop_attach().',
    issues: [13915, 13917],
  },
  removectx: {
    sig: { '12477': REMOVE8, '13915': REMOVE8 },
    history: 'Always 8 arguments; matches all six handlers and arg, returns 0 when nothing matched. Removed by 13917: use ctxop_remove().',
    issues: [13917],
  },
  installctx_preallocate: {
    sig: { '13915': 'struct ctxop *installctx_preallocate(void);' },
    history: 'Added by 13915 so callers can allocate (KM_SLEEP) before kpreempt_disable() and pass the ctxop to installctx(). Removed by 13917: use ctxop_allocate().',
    issues: [13915, 13917],
  },
  ctxop_allocate: {
    sig: { '13917': 'struct ctxop *ctxop_allocate(const struct ctxop_template *tpl, void *arg);' },
    history: 'Added by 13917. Allocates with KM_SLEEP: call it before kpreempt_disable(). VERIFYs tpl->ct_rev == CTXOP_TPL_REV.',
    issues: [13917],
  },
  ctxop_free: {
    sig: { '13917': 'void ctxop_free(struct ctxop *ctx);' },
    history: 'Added by 13917. Calls the free handler and frees a ctxop that is not attached (after ctxop_detach()); never after ctxop_remove().',
    issues: [13917],
  },
  ctxop_attach: {
    sig: { '13917': 'void ctxop_attach(kthread_t *t, struct ctxop *ctx);' },
    history: 'Added by 13917. Does not allocate: safe inside kpreempt_disable(); the thread owns the ctxop until detach or thread free.',
    issues: [13917],
  },
  ctxop_detach: {
    sig: { '13917': 'void ctxop_detach(kthread_t *t, struct ctxop *ctx);' },
    history: 'Added by 13917. Unlinks without freeing and without calling the free handler: the caller must ctxop_free() or re-attach.',
    issues: [13917],
  },
  ctxop_install: {
    sig: { '13917': 'void ctxop_install(kthread_t *t, const struct ctxop_template *tpl, void *arg);' },
    history: 'Added by 13917: ctxop_allocate() + ctxop_attach() in one call; allocates with KM_SLEEP, so never under kpreempt_disable().',
    issues: [13917],
  },
  ctxop_remove: {
    sig: { '13917': 'int ctxop_remove(kthread_t *t, const struct ctxop_template *tpl, void *arg);' },
    history: 'Added by 13917 (replaces removectx). Matches the six handlers of tpl and arg, detaches and frees; returns 0 when nothing matched.',
    issues: [13917],
  },
  ctxop_template: {
    sig: { '13917': 'struct ctxop_template {\n\tuint32_t ct_rev;\t/* CTXOP_TPL_REV */\n\tuint32_t ct_pad;\n\tvoid (*ct_save)(void *);\n\tvoid (*ct_restore)(void *);\n\tvoid (*ct_fork)(void *, void *);\n\tvoid (*ct_lwp_create)(void *, void *);\n\tvoid (*ct_exit)(void *);\n\tvoid (*ct_free)(void *, int);\n};' },
    history: 'Added by 13917. ct_fork/ct_lwp_create get (parent, child) threads and ct_exit gets the thread, not arg.',
    issues: [13917],
  },
  CTXOP_TPL_REV: {
    sig: { '13917': '#define CTXOP_TPL_REV 1' },
    history: 'ctxop_allocate() VERIFYs ct_rev == CTXOP_TPL_REV: a template without it panics every kernel.',
    issues: [13917],
  },
  kpreempt_disable: {
    sig: { '12477': 'kpreempt_disable();  /* curthread->t_preempt++ */', '13915': 'kpreempt_disable();  /* curthread->t_preempt++ */', '13917': 'kpreempt_disable();  /* curthread->t_preempt++ */' },
    history: 'Stops involuntary preemption only: a KM_SLEEP allocation inside still switches away (13915).',
    issues: [13915],
  },
  kpreempt_enable: {
    sig: { '12477': 'kpreempt_enable();  /* --t_preempt, kpreempt() if pending */', '13915': 'kpreempt_enable();', '13917': 'kpreempt_enable();' },
    history: 'Reaching 0 with cpu_kprunrun set runs the deferred preemption.',
    issues: [13915],
  },
  installpctx: {
    sig: { '12477': 'void installpctx(proc_t *p, void *arg, void (*save)(), void (*restore)(),\n    void (*fork)(), void (*exit)(), void (*free)());', '13915': 'void installpctx(proc_t *p, void *arg, void (*save)(), void (*restore)(),\n    void (*fork)(), void (*exit)(), void (*free)());', '13917': 'void installpctx(proc_t *p, void *arg, void (*save)(), void (*restore)(),\n    void (*fork)(), void (*exit)(), void (*free)());' },
    history: 'Process context ops: a different API, 7 parameters, unchanged by 13915 and 13917 (not a legacy installctx).',
    issues: [],
  },
  t_ctx: {
    sig: { '12477': 'ctxop_t *t_ctx;\t/* newest ctxop; a ring through next/prev */', '13915': 'ctxop_t *t_ctx;', '13917': 'ctxop_t *t_ctx;' },
    history: 'Since 12477 the list is circular and doubly linked: walks must stop when they come back to the head, never at NULL.',
    issues: [12477],
  },
};
API_DOCS['removepctx'] = { ...API_DOCS['installpctx']!, sig: Object.fromEntries(Object.entries(API_DOCS['installpctx']!.sig).map(([k, v]) => [k, v!.replace('void installpctx', 'int removepctx')])) };

export function hoverMarkdown(name: string, era: Era): string | null {
  const d = API_DOCS[name];
  if (!d) return null;
  const sig = d.sig[era];
  const lines: string[] = [];
  if (sig) lines.push('```c\n' + sig + '\n```');
  else {
    const avail = Object.keys(d.sig).map((e) => (e === '12477' ? 'before 13915' : e)).join(', ');
    lines.push(`**\`${name}\` does not exist on a ${era} kernel** (available: ${avail}).`);
    const other = d.sig['13915'] ?? d.sig['13917'] ?? d.sig['12477'];
    if (other) lines.push('```c\n' + other + '\n```');
  }
  lines.push(`Kernel era: illumos ${era === '12477' ? 'before 13915' : era}.`);
  lines.push(d.history);
  if (d.issues.length) lines.push(d.issues.map((i) => `[illumos#${i}](${ILLUMOS_ISSUE(i)})`).join(' · '));
  return lines.join('\n\n');
}

export function isEraLabel(era: Era): string {
  return era === '12477' ? 'pre-13915' : era;
}
