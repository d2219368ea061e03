/**
 * Read-only sources for kernel frames (`swtch`, `resume`, `savectx`, `restorectx`,
 * `_resume_from_idle`, `preempt`, `kpreempt`, `thread_start`, ...): the simulated kernel's logic
 * for that function as readable pseudo-C (what kernel-sim/machine/dispatcher.ts does, written as
 * the kernel would be), and the line the thread is at, from the frame's phase. Where a native
 * debugger shows disassembly, kctx shows this. Not illumos source: the simulator's own model.
 */
import type { Machine, Frame } from '../kernel-sim/index';

interface Listing {
  /** The listing's lines (1-based when shown). */
  lines(m: Machine): string[];
  /** The line a frame of this function is at (1-based), from the machine frame behind it. */
  line(m: Machine, f: Frame | undefined, lines: string[]): number;
}

const HEAD = (fn: string) => [
  `/*`,
  ` * ${fn}(): the kctx simulator's model of this kernel function, as pseudo-C.`,
  ` * Read-only; the line marks where the thread is in it.`,
  ` */`,
];

/** Line number (1-based) of the first line containing `text`. */
function at(lines: string[], text: string): number {
  const i = lines.findIndex((l) => l.includes(text));
  return i < 0 ? 1 : i + 1;
}

// Phases of the swtch frame (dispatcher.ts): SW_START 0, SW_SAVE 1, SW_SWITCH 2, SW_RESUMED 3, SW_RESTORE 4, SW_DONE 5.
const pcOf = (f: Frame | undefined) => (f ? Number(f.pc) : 0);

const LISTINGS: Record<string, Listing> = {
  swtch: {
    lines: () => [
      ...HEAD('swtch'),
      'void',
      'swtch(void)',
      '{',
      '\tkthread_t *t = curthread;',
      '\tkthread_t *next;',
      '',
      '\tnext = disp();\t\t\t/* the best runnable thread (or this CPU\'s idle thread) */',
      '\tif (next == t) {',
      '\t\tt->t_state = TS_ONPROC;\t/* nothing better to run: go on */',
      '\t\treturn;',
      '\t}',
      '\tresume(next);\t\t\t/* save t, give the CPU to next */',
      '}',
    ],
    line: (_m, f, l) => (pcOf(f) === 0 ? at(l, 'next = disp()') : at(l, 'resume(next)')),
  },
  resume: {
    lines: () => [
      ...HEAD('resume'),
      'void',
      'resume(kthread_t *next)',
      '{',
      '\tkthread_t *t = curthread;',
      '\tcpu_t *cp = CPU;',
      '',
      '\tif (t->t_ctx != NULL)',
      '\t\tsavectx(t);\t\t/* t\'s save ops */',
      '\t/* the switch: next owns the CPU from here on */',
      '\tcp->cpu_thread = next;',
      '\tcp->cpu_dispthread = next;',
      '\tcp->cpu_last_swtch = lbolt;',
      '\tnext->t_cpu = cp;',
      '\tnext->t_state = TS_ONPROC;',
      '\t/* next goes on in _resume_from_idle(), on its own stack */',
      '}',
    ],
    line: (_m, f, l) => (pcOf(f) === 1 ? at(l, 'savectx(t);') : pcOf(f) === 0 ? at(l, 'if (t->t_ctx') : at(l, 'cp->cpu_thread = next')),
  },
  savectx: {
    lines: (m) => walkListing(m, 'save'),
    line: (_m, f, l) => ((f?.cur as number | undefined) ? at(l, '->save_op(') : l.length),
  },
  restorectx: {
    lines: (m) => walkListing(m, 'restore'),
    line: (_m, f, l) => ((f?.cur as number | undefined) ? at(l, '->restore_op(') : l.length),
  },
  _resume_from_idle: {
    lines: () => [
      ...HEAD('_resume_from_idle'),
      '/* where a thread goes on after resume() gave it the CPU */',
      '_resume_from_idle:',
      '\tif (curthread->t_ctx != NULL)',
      '\t\trestorectx(curthread);\t/* its restore ops */',
      '\tspl0();',
      '\treturn;\t\t\t\t/* to the caller of swtch() */',
    ],
    line: (_m, f, l) => (pcOf(f) === 4 ? at(l, 'restorectx(curthread)') : pcOf(f) === 5 ? at(l, 'return;') : at(l, 'if (curthread->t_ctx')),
  },
  preempt: {
    lines: () => [
      ...HEAD('preempt'),
      'void',
      'preempt(void)',
      '{',
      '\tkthread_t *t = curthread;',
      '',
      '\tt->t_preempt++;',
      '\tt->t_state = TS_RUN;',
      '\tsetrun(t);\t\t\t/* back on a run queue */',
      '\tswtch();\t\t\t/* maybe t itself again */',
      '\tt->t_preempt--;',
      '}',
    ],
    line: (_m, f, l) => (pcOf(f) === 0 ? at(l, 't->t_preempt++') : at(l, 'swtch();')),
  },
  kpreempt: {
    lines: () => [
      ...HEAD('kpreempt'),
      'void',
      'kpreempt(int asyncspl)',
      '{',
      '\tif (curthread->t_preempt != 0)',
      '\t\treturn;\t\t\t/* preemption disabled: later, at kpreempt_enable() */',
      '\tpreempt();',
      '}',
    ],
    line: (_m, _f, l) => at(l, 'preempt();'),
  },
  sys_rtt_common: {
    lines: () => [
      ...HEAD('sys_rtt_common'),
      '/* the way back from an interrupt: a thread whose quantum ran out is preempted here */',
      'int',
      'sys_rtt_common(struct regs *rp)',
      '{',
      '\tif (CPU->cpu_kprunrun || CPU->cpu_runrun)',
      '\t\tkpreempt(1);',
      '\treturn (0);',
      '}',
    ],
    line: (_m, _f, l) => at(l, 'kpreempt(1)'),
  },
  thread_start: {
    lines: () => [
      ...HEAD('thread_start'),
      '/* the bottom of every thread\'s stack */',
      'void',
      'thread_start(void)',
      '{',
      '\tkthread_t *t = curthread;',
      '',
      '\tt->t_startpc(t->t_arg);\t\t/* the thread\'s entry function */',
      '\tthread_exit();\t\t\t/* it returned: the thread ends */',
      '}',
    ],
    line: (_m, _f, l) => at(l, 't->t_startpc('),
  },
};

function walkListing(m: Machine, which: 'save' | 'restore'): string[] {
  const fn = which === 'save' ? 'savectx' : 'restorectx';
  const op = `${which}_op`;
  const backward = which === 'restore' && m.era.restoreOldestFirst;
  const ts = m.era.ring ? [`\t\t\tctx->${which}_ts = gethrtime_unscaled();`] : [];
  if (!m.era.ring) {
    return [
      ...HEAD(fn),
      'void',
      `${fn}(kthread_t *t)`,
      '{',
      '\tstruct ctxop *ctx;',
      '',
      '\t/* newest first: t_ctx, then ctx->next, until NULL */',
      '\tfor (ctx = t->t_ctx; ctx != NULL; ctx = ctx->next) {',
      `\t\tif (ctx->${op} != NULL)`,
      `\t\t\tctx->${op}(ctx->arg);`,
      '\t}',
      '}',
    ];
  }
  return [
    ...HEAD(fn),
    'void',
    `${fn}(kthread_t *t)`,
    '{',
    '\tstruct ctxop *head = t->t_ctx, *ctx;',
    '',
    backward ? '\t/* oldest first: head->ct_prev, then each ct_prev, the head last */' : '\t/* newest first: the head, then each ct_next, until back at the head */',
    backward ? '\tctx = head->prev;' : '\tctx = head;',
    '\tdo {',
    `\t\tif (ctx->${op} != NULL) {`,
    ...ts,
    `\t\t\tctx->${op}(ctx->arg);`,
    '\t\t}',
    backward ? '\t\tctx = (ctx == head) ? NULL : ctx->prev;' : '\t\tctx = (ctx->next == head) ? NULL : ctx->next;',
    '\t} while (ctx != NULL);',
    '}',
  ];
}

/** Kernel functions with a listing. */
export function hasKernelSource(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(LISTINGS, name);
}

/** The listing of kernel function `name` for this machine's era. */
export function kernelListing(m: Machine, name: string): string[] {
  return LISTINGS[name]!.lines(m);
}

/** The line (1-based) a frame of `name` is at; `f` is the machine frame the view frame comes from. */
export function kernelLine(m: Machine, name: string, f: Frame | undefined): number {
  const l = LISTINGS[name]!;
  return l.line(m, f, l.lines(m));
}

/** Kernel frames a user rarely needs (shown subtle on threads other than the stopped one). */
export const RARE_FRAMES = new Set(['thread_start', 'sys_rtt_common', 'kpreempt', 'idle', '_sys_rtt', 'cv_wait', 'mutex_vector_enter']);
