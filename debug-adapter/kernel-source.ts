/**
 * Read-only sources for kernel frames (`swtch`, `resume`, `savectx`, `restorectx`,
 * `_resume_from_idle`, `preempt`, `kpreempt`, `thread_start`, ...): the simulated kernel's logic
 * for that function as readable pseudo-C (what kernel-sim/machine/dispatcher.ts does, written as
 * the kernel would be), and the line the thread is at, from the frame's phase. Where a native
 * debugger shows disassembly, kctx shows this. Not illumos source: the simulator's own model.
 */
import { nativePrototype, type Machine, type Frame } from '../kernel-sim/index';

interface Listing {
  /** The listing's lines (1-based when shown). */
  lines(m: Machine): string[];
  /**
   * The line a frame of this function is at (1-based), from the machine frame behind it;
   * `inCall`: that machine frame called a function that is running above it.
   */
  line(m: Machine, f: Frame | undefined, lines: string[], inCall: boolean): number;
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
    line: (m, f, l, inCall) => walkLine(m, f, l, 'save', inCall),
  },
  restorectx: {
    lines: (m) => walkListing(m, 'restore'),
    line: (m, f, l, inCall) => walkLine(m, f, l, 'restore', inCall),
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

/** A listing whose line does not move (the function has one place a thread can be in it). */
function fixed(lines: (m: Machine) => string[], mark: string): Listing {
  return { lines, line: (_m, _f, l) => at(l, mark) };
}

/** A kcall frame (abi/kcall.ts) parked at `pc` after the sub-call on that phase's line. */
function byPc(lines: (m: Machine) => string[], marks: Record<number, string>, first: string): Listing {
  return { lines, line: (_m, f, l) => at(l, marks[pcOf(f)] ?? first) };
}

const fn = (name: string, proto: string[], body: string[]) => [...HEAD(name), ...proto, '{', ...body, '}'];

/** The blocking and busy-waiting frames, the reaper, thread exit, and the allocation that sleeps. */
Object.assign(LISTINGS, {
  idle: fixed(() => fn('idle', ['void', 'idle(void)'], [
    '\tfor (;;) {',
    '\t\twhile (!CPU->cpu_runrun)',
    '\t\t\t;\t\t\t/* nothing to run: wait for setrun() to poke this CPU */',
    '\t\tswtch();\t\t/* the best runnable thread */',
    '\t}',
  ]), 'swtch();'),
  thread_exit: fixed(() => fn('thread_exit', ['void', 'thread_exit(void)'], [
    '\tkthread_t *t = curthread;',
    '',
    '\tkpreempt_disable();',
    '\tif (t->t_ctx != NULL)',
    '\t\texitctx(t);\t\t/* exit ops, newest first, with the thread */',
    '\tt->t_state = TS_ZOMB;\t\t/* the reaper frees it, its ctxops and its LWP */',
    '\tswtch_from_zombie();\t\t/* off the CPU for good: no savectx() */',
  ]), 'exitctx(t);'),
  thread_reaper: fixed(() => fn('thread_reaper', ['void', 'thread_reaper(void)'], [
    '\tkthread_t *t;',
    '',
    '\tfor (;;) {',
    '\t\twhile ((t = deathrow_take()) == NULL)',
    '\t\t\tcv_wait(&reaper_cv, &reaplock);\t/* until a thread exits */',
    '\t\tthread_free(t);',
    '\t}',
  ]), 'thread_free(t);'),
  thread_free: fixed(() => fn('thread_free', ['void', 'thread_free(kthread_t *t)'], [
    '\tif (t->t_ctx != NULL)',
    '\t\tfreectx(t, 0);\t\t/* free ops run here, in the reaper */',
    '\tif (t->t_lwp != NULL)',
    '\t\tlwp_freeregs(t->t_lwp);',
    '\tkmem_cache_free(thread_cache, t);',
  ]), 'freectx(t, 0);'),
  freectx: {
    lines: (m: Machine) => fn('freectx', ['void', 'freectx(kthread_t *t, int isexec)'], [
      `\tstruct ctxop *ctx = t->t_ctx, *next;`,
      '',
      '\tkpreempt_disable();',
      '\tt->t_ctx = NULL;',
      '\t/* newest first */',
      '\twhile (ctx != NULL) {',
      m.era.ring ? '\t\tnext = (ctx->next == head) ? NULL : ctx->next;' : '\t\tnext = ctx->next;',
      '\t\tif (ctx->free_op != NULL)',
      '\t\t\tctx->free_op(ctx->arg, isexec);',
      '\t\tkmem_free(ctx, sizeof (struct ctxop));',
      '\t\tctx = next;',
      '\t}',
      '\tkpreempt_enable();',
    ]),
    line: (_m: Machine, _f: Frame | undefined, l: string[]) => at(l, 'ctx->free_op(ctx->arg'),
  },
  kmem_alloc: fixed(() => fn('kmem_alloc', ['void *', 'kmem_alloc(size_t size, int kmflag)'], [
    '\t/* the kmem_alloc_N cache that fits size */',
    '\treturn (kmem_cache_alloc(kmem_alloc_cache(size), kmflag));',
  ]), 'kmem_cache_alloc('),
  kmem_cache_alloc: fixed(() => fn('kmem_cache_alloc', ['void *', 'kmem_cache_alloc(kmem_cache_t *cp, int kmflag)'], [
    '\tvoid *buf;',
    '',
    '\twhile ((buf = kmem_slab_alloc(cp)) == NULL) {',
    '\t\tif (kmflag & KM_NOSLEEP)',
    '\t\t\treturn (NULL);',
    '\t\tkmem_wait_for_memory();\t/* KM_SLEEP: sleep until memory is freed (memoryPressure) */',
    '\t}',
    '\treturn (buf);',
  ]), 'kmem_wait_for_memory();'),
  drv_usecwait: fixed(() => fn('drv_usecwait', ['void', 'drv_usecwait(clock_t usecs)'], [
    '\thrtime_t end = gethrtime() + USEC2NSEC(usecs);',
    '',
    '\twhile (gethrtime() < end)',
    '\t\t;\t\t\t/* busy: the thread keeps the CPU; a clock tick may preempt it */',
  ]), '\t\t;'),
  cv_wait: {
    lines: () => fn('cv_wait', ['void', 'cv_wait(kcondvar_t *cvp, kmutex_t *mp)'], [
      '\tASSERT(MUTEX_HELD(mp));',
      '\tcv_block(cvp);\t\t\t/* on the condition variable\'s sleep queue */',
      '\tmutex_exit(mp);',
      '\tswtch();\t\t\t/* sleeps until cv_signal()/cv_broadcast() */',
      '\tmutex_enter(mp);\t\t/* woken: take the mutex back */',
    ]),
    line: (_m: Machine, f: Frame | undefined, l: string[]) => at(l, pcOf(f) >= 2 ? 'mutex_enter(mp);' : 'swtch();'),
  },
  mutex_enter: fixed(() => fn('mutex_enter', ['void', 'mutex_enter(kmutex_t *lp)'], [
    '\tif (atomic_cas_ptr(&lp->m_owner, NULL, curthread) != NULL)',
    '\t\tmutex_vector_enter(lp);\t/* held by another thread: the slow path */',
  ]), 'mutex_vector_enter(lp);'),
  mutex_vector_enter: fixed(() => fn('mutex_vector_enter', ['void', 'mutex_vector_enter(mutex_impl_t *lp)'], [
    '\tturnstile_t *ts;',
    '',
    '\twhile (atomic_cas_ptr(&lp->m_owner, NULL, curthread) != NULL) {',
    '\t\tts = turnstile_lookup(lp);',
    '\t\tturnstile_block(ts, lp);\t/* sleeps until the owner\'s mutex_exit() */',
    '\t}',
  ]), 'turnstile_block(ts, lp);'),
  turnstile_block: fixed(() => fn('turnstile_block', ['int', 'turnstile_block(turnstile_t *ts, void *sobj)'], [
    '\tkthread_t *t = curthread;',
    '',
    '\tt->t_wchan = sobj;',
    '\tt->t_state = TS_SLEEP;\t\t/* on the turnstile\'s sleep queue */',
    '\tswtch();',
    '\treturn (0);',
  ]), 'swtch();'),
});

/** What removectx(), ctxop_detach() and ctxop_remove() assert of the thread whose ctxops change. */
const THREAD_IS_SAFE = [
  '\tASSERT(t == curthread || ttoproc(t)->p_stat == SIDL ||',
  '\t    ttoproc(t)->p_agenttp == curthread || t->t_state == TS_STOPPED);',
];

/** The ctxop interface (abi/ctxops.ts) and the lifecycle entry points, as the era has them. */
Object.assign(LISTINGS, {
  installctx: byPc((m) => fn('installctx', [
    'void',
    'installctx(kthread_t *t, void *arg, void (*save)(void *), void (*restore)(void *),',
    '    void (*fork)(void *, void *), void (*lwp_create)(void *, void *),',
    m.era.installctxArity === 9 ? '    void (*exit)(void *), void (*free)(void *, int), struct ctxop *ctx)' : '    void (*exit)(void *), void (*free)(void *, int))',
  ], [
    ...(m.era.installctxArity === 9 ? ['\tif (ctx == NULL)'] : ['\tstruct ctxop *ctx;', '']),
    `${m.era.installctxArity === 9 ? '\t\t' : '\t'}ctx = kmem_alloc(sizeof (struct ctxop), KM_SLEEP);`,
    '\tctx->save_op = save;\t\t/* and restore, fork, lwp_create, exit, free */',
    '\tctx->arg = arg;',
    ...(m.era.insertUnderKpreempt ? ['\tkpreempt_disable();'] : []),
    m.era.ring ? '\t/* at the head of the ring: t->t_ctx = ctx */' : '\tctx->next = t->t_ctx;',
    '\tt->t_ctx = ctx;',
    ...(m.era.insertUnderKpreempt ? ['\tkpreempt_enable();\t\t/* may preempt */'] : []),
  ]), { 1: 'kmem_alloc(', 3: 'kpreempt_enable();' }, 'ctx = kmem_alloc('),
  removectx: byPc((m) => fn('removectx', [
    'int',
    'removectx(kthread_t *t, void *arg, void (*save)(void *), void (*restore)(void *),',
    '    void (*fork)(void *, void *), void (*lwp_create)(void *, void *),',
    '    void (*exit)(void *), void (*free)(void *, int))',
  ], [
    '\tstruct ctxop *ctx;',
    '',
    ...THREAD_IS_SAFE,
    '\tkpreempt_disable();',
    '\tctx = find_ctxop(t, arg, save, restore, fork, lwp_create, exit, free);',
    '\tif (ctx == NULL) {',
    '\t\tkpreempt_enable();',
    '\t\treturn (0);',
    '\t}',
    m.era.ring ? '\t/* unlink from the ring */' : '\t/* unlink from the list */',
    '\tif (ctx->free_op != NULL)',
    '\t\tctx->free_op(ctx->arg, 0);',
    '\tkmem_free(ctx, sizeof (struct ctxop));',
    '\tkpreempt_enable();\t\t\t/* may preempt */',
    '\treturn (1);',
  ]), { 1: 'ctx->free_op(ctx->arg, 0);', 2: 'kpreempt_enable();\t' }, 'kpreempt_disable();'),
  ctxop_allocate: byPc(() => fn('ctxop_allocate', ['struct ctxop *', 'ctxop_allocate(const struct ctxop_template *ct, void *arg)'], [
    '\tstruct ctxop *ctx;',
    '',
    '\tVERIFY3U(ct->ct_rev, ==, CTXOP_TPL_REV);',
    '\tctx = kmem_alloc(sizeof (struct ctxop), KM_SLEEP);',
    '\tctx->save_op = ct->ct_save;\t/* and the template\'s other ops */',
    '\tctx->arg = arg;',
    '\tctx->next = ctx->prev = NULL;',
    '\treturn (ctx);',
  ]), { 1: 'kmem_alloc(' }, 'VERIFY3U('),
  ctxop_free: byPc(() => fn('ctxop_free', ['void', 'ctxop_free(struct ctxop *ctx)'], [
    '\tif (ctx->free_op != NULL)',
    '\t\tctx->free_op(ctx->arg, 0);',
    '\tkmem_free(ctx, sizeof (struct ctxop));',
  ]), { 1: 'ctx->free_op(ctx->arg, 0);' }, 'if (ctx->free_op'),
  ctxop_attach: byPc(() => fn('ctxop_attach', ['void', 'ctxop_attach(kthread_t *t, struct ctxop *ctx)'], [
    '\tASSERT(ctx->next == NULL && ctx->prev == NULL);',
    '\tkpreempt_disable();',
    '\t/* at the head of t\'s ring: its save op runs first, its restore op last */',
    '\tt->t_ctx = ctx;',
    '\tkpreempt_enable();\t\t\t/* may preempt */',
  ]), { 1: 'kpreempt_enable();' }, 'ASSERT(ctx->next'),
  ctxop_detach: byPc(() => fn('ctxop_detach', ['void', 'ctxop_detach(kthread_t *t, struct ctxop *ctx)'], [
    ...THREAD_IS_SAFE,
    '\tkpreempt_disable();',
    '\tASSERT(t->t_ctx != NULL);',
    '\t/* DEBUG: VERIFY3P(cur, !=, head) while looking for ctx in the ring */',
    '\t/* unlink ctx; it is not freed and its free op does not run */',
    '\tkpreempt_enable();\t\t\t/* may preempt */',
  ]), { 1: 'kpreempt_enable();' }, 'ASSERT(t == curthread'),
  ctxop_install: byPc(() => fn('ctxop_install', ['void', 'ctxop_install(kthread_t *t, const struct ctxop_template *ct, void *arg)'], [
    '\tctxop_attach(t, ctxop_allocate(ct, arg));\t/* a KM_SLEEP allocation */',
  ]), { 1: 'ctxop_attach(', 3: 'ctxop_attach(' }, 'ctxop_attach('),
  ctxop_remove: byPc(() => fn('ctxop_remove', ['int', 'ctxop_remove(kthread_t *t, const struct ctxop_template *ct, void *arg)'], [
    '\tstruct ctxop *ctx;',
    '',
    ...THREAD_IS_SAFE,
    '\tkpreempt_disable();',
    '\tctx = find_ctxop(t, ct, arg);',
    '\tif (ctx != NULL) {',
    '\t\t/* unlink it */',
    '\t\tctxop_free(ctx);\t\t/* its free op runs with t_ctx_lock held */',
    '\t}',
    '\tkpreempt_enable();\t\t\t/* may preempt */',
    '\treturn (ctx != NULL);',
  ]), { 1: 'ctxop_free(ctx);', 2: 'kpreempt_enable();' }, 'kpreempt_disable();'),
  kctx_lwp_create: byPc(() => fn('kctx_lwp_create', [
    '/* kctx\'s entry point for lwp_create() and forklwp() (a driver cannot make a system call) */',
    'kthread_t *',
    'kctx_lwp_create(void (*func)(void *), void *arg)',
  ], [
    '\tkthread_t *t = curthread;',
    '\tkthread_t *child = lwp_create_thread(func, arg);\t/* an LWP, runnable later */',
    '',
    '\tif (t->t_ctx != NULL)',
    '\t\tlwp_createctx(t, child);\t/* (or forkctx) the parent\'s ops, newest first */',
    '\tsetrun(child);',
    '\treturn (child);',
  ]), { 1: 'lwp_createctx(t, child);' }, 'lwp_create_thread('),
  kctx_exec: fixed(() => fn('kctx_exec', ['/* kctx\'s entry point for exec() */', 'void', 'kctx_exec(void)'], [
    '\tkthread_t *t = curthread;',
    '',
    '\tfreectx(t, 1);\t\t\t/* every ctxop goes, free ops with isexec = 1 */',
    '\tsetregs();\t\t\t/* the LWP\'s own ctxops (segregs, FPU) come back */',
  ]), 'freectx(t, 1);'),
  noop: fixed(() => fn('noop', ['/* the entry of a thread created on a kernel function kctx has no model of */', 'void', 'noop(void *arg)'], [
    '\treturn;',
  ]), 'return;'),
  assfail: fixed(() => fn('assfail', ['int', 'assfail(const char *a, const char *f, int l)'], [
    '\tpanic("assertion failed: %s, file: %s, line: %d", a, f, l);',
  ]), 'panic('),
  assfail3: fixed(() => fn('assfail3', ['void', 'assfail3(const char *a, uintmax_t lv, const char *op, uintmax_t rv,', '    const char *f, int l)'], [
    '\tpanic("assertion failed: %s (0x%llx %s 0x%llx), file: %s, line: %d",',
    '\t    a, lv, op, rv, f, l);',
  ]), 'panic('),
  panic: fixed(() => fn('panic', ['void', 'panic(const char *format, ...)'], [
    '\tva_list alist;',
    '',
    '\tva_start(alist, format);',
    '\tvpanic(format, alist);\t\t/* does not return */',
  ]), 'vpanic('),
  vpanic: fixed(() => fn('vpanic', ['void', 'vpanic(const char *format, va_list alist)'], [
    '\t/* the message goes to the console and ::msgbuf: panic[cpuN]/thread=ADDR: message */',
    '\tpanicsys(format, alist, rp, 1);\t/* the system stops here: ::status, ::panicinfo, $c */',
  ]), 'panicsys('),
});

/** The kernel's own ctxop handlers (abi/kernel-ctxops.ts) and the built-in workloads' (workloads/builtins.ts). */
const hook = (name: string, arg: string, body: string[], mark: string, proto = 'void') =>
  fixed(() => fn(name, [proto, `${name}(${arg})`], body), mark);
Object.assign(LISTINGS, {
  lwp_segregs_save: hook('lwp_segregs_save', 'klwp_t *lwp', ['\t/* the LWP\'s user segment registers into lwp->lwp_pcb (kctx counts the saves) */', '\tlwp->lwp_segregs_saved++;'], 'lwp_segregs_saved++'),
  lwp_segregs_restore: hook('lwp_segregs_restore', 'klwp_t *lwp', ['\t/* the LWP\'s user segment registers back from lwp->lwp_pcb */', '\tlwp->lwp_segregs_restored++;'], 'lwp_segregs_restored++'),
  fpsave_ctxt: hook('fpsave_ctxt', 'void *arg', [
    '\tstruct fpu_ctx *fp = arg;',
    '',
    '\tif (fp->fpu_flags & FPU_EN)',
    '\t\tfp->fpu_flags |= FPU_VALID;\t/* the FPU state is saved in fp */',
    '\tfp->fpu_saves++;',
  ], 'FPU_VALID;'),
  fprestore_ctxt: hook('fprestore_ctxt', 'void *arg', [
    '\tstruct fpu_ctx *fp = arg;',
    '',
    '\tfp->fpu_flags &= ~FPU_VALID;\t\t/* the FPU holds the LWP\'s state again */',
    '\tfp->fpu_restores++;',
  ], '~FPU_VALID'),
  fp_new_lwp: hook('fp_new_lwp', 'void *parent, void *child', [
    '\tklwp_t *clwp = ttolwp((kthread_t *)child);',
    '',
    '\tVERIFY(clwp != NULL);',
    '\t/* the child LWP gets an FPU ctxop of its own: fpsave_ctxt/fprestore_ctxt on its FPU state */',
    '\tctxop_attach(child, ctxop_allocate(&fpu_ctxop_tpl, &clwp->lwp_pcb.pcb_fpu));',
  ], 'ctxop_attach('),
  fp_free: hook('fp_free', 'void *arg, int isexec', ['\t/* nothing to undo: the FPU state goes with the LWP */'], 'nothing'),
  fp_free_ctx: hook('fp_free_ctx', 'void *arg, int isexec', ['\t/* nothing to undo: the FPU state goes with the LWP */'], 'nothing'),
  schedctl_save: hook('schedctl_save', 'void *arg', ['\tsc_shared_t *ssp = arg;', '', '\tssp->sc_state = curthread->t_state;\t/* user land sees the thread is off CPU */'], 'sc_state ='),
  schedctl_restore: hook('schedctl_restore', 'void *arg', ['\tsc_shared_t *ssp = arg;', '', '\tssp->sc_state = SC_ONPROC;', '\tssp->sc_cpu = CPU->cpu_id;'], 'SC_ONPROC'),
  schedctl_fork: hook('schedctl_fork', 'void *parent, void *child', ['\t/* the child gets no schedctl page: nothing to copy */'], 'nothing'),
  kernel_fpu_ctx_save: hook('kernel_fpu_ctx_save', 'void *arg', ['\t/* the kernel FPU state is saved: resume() may switch (kernel_fpu_no_swtch) */', '\tcurthread->t_flag &= ~T_KFPU;'], 'T_KFPU'),
  kernel_fpu_ctx_restore: hook('kernel_fpu_ctx_restore', 'void *arg', ['\t/* the kernel FPU state is loaded again */', '\tcurthread->t_flag |= T_KFPU;'], 'T_KFPU'),
  vmm_savectx: hook('vmm_savectx', 'void *arg', [
    '\tvm_thread_ctx_t *vtc = arg;',
    '',
    '\t/* the guest FPU is saved when it is loaded (built-in bhyve workload) */',
    '\tvtc->vtc_status &= ~VTCS_FPU_RESTORED;',
    '\tvtc->vtc_saves++;',
  ], 'VTCS_FPU_RESTORED;'),
  vmm_restorectx: hook('vmm_restorectx', 'void *arg', [
    '\tvm_thread_ctx_t *vtc = arg;',
    '',
    '\tASSERT0(vtc->vtc_status & VTCS_FPU_RESTORED);\t/* it was saved before */',
    '\tvtc->vtc_restores++;',
  ], 'ASSERT0('),
  vmm_freectx: hook('vmm_freectx', 'void *arg, int isexec', ['\tvmm_savectx(arg);\t\t\t/* save what is still loaded */'], 'vmm_savectx(arg)'),
  kvm_ctx_save: hook('kvm_ctx_save', 'void *arg', ['\tstruct kvm_vcpu *vcpu = arg;', '', '\tvcpu->saves++;\t\t\t/* the guest state is put away (built-in kvm workload) */'], 'saves++'),
  kvm_ctx_restore: hook('kvm_ctx_restore', 'void *arg', ['\tstruct kvm_vcpu *vcpu = arg;', '', '\tvcpu->restores++;\t\t/* the guest state is loaded again */'], 'restores++'),
  kctx_rc: fixed(() => fn('kctx_rc', ['/* the administrator\'s side of a FreeBSD scenario, on the rc thread */', 'void', 'kctx_rc(void)'], [
    '\tjails_create();\t\t/* vnet_alloc() and the vnet constructors, per jail */',
    '\tmodules_load();\t\t/* kldload: vnet_data_copy(), then each SYSINIT */',
    '\tthreads_start();\t\t/* the scenario\'s threads, td_vnet set */',
    '\tthreads_wait();',
    '\tjails_destroy();\t\t/* vnet_sysuninit() */',
    '\tmodules_unload();\t\t/* kldunload: each SYSUNINIT, in reverse */',
  ]), 'threads_wait();'),
});

/**
 * The FreeBSD personality's routines that call module code in turn (freebsd/kapi.ts): each calls
 * its list with CURVNET_SET_QUIET(vnet); func(arg); CURVNET_RESTORE() around every call.
 */
const fbsdList = (name: string, proto: string, what: string, list: string) =>
  fixed(() => fn(name, ['void', proto], [
    `\t/* ${what} */`,
    `\tTAILQ_FOREACH(vs, ${list}, link) {`,
    '\t\tCURVNET_SET_QUIET(vnet);',
    '\t\tvs->func(vs->arg);',
    '\t\tCURVNET_RESTORE();',
    '\t}',
  ]), 'vs->func(vs->arg);');
Object.assign(LISTINGS, {
  vnet_register_sysinit: fbsdList('vnet_register_sysinit', 'vnet_register_sysinit(void *arg)', 'registered (sorted by subsystem, order), then run in every existing vnet', '&vnet_constructors'),
  vnet_deregister_sysuninit: fbsdList('vnet_deregister_sysuninit', 'vnet_deregister_sysuninit(void *arg)', 'the destructor runs in every vnet, then leaves the registry', '&vnet_destructors'),
  vnet_sysinit: fbsdList('vnet_sysinit', 'vnet_sysinit(void)', 'a new vnet: every registered constructor, in (subsystem, order)', '&vnet_constructors'),
  vnet_sysuninit: fbsdList('vnet_sysuninit', 'vnet_sysuninit(void)', 'a vnet going away: every registered destructor, newest first', '&vnet_destructors'),
  linker_file_sysinit: fbsdList('linker_file_sysinit', 'linker_file_sysinit(linker_file_t lf)', 'kldload: the module\'s SYSINITs, in (subsystem, order), in vnet0', '&lf->sysinits'),
  linker_file_sysuninit: fbsdList('linker_file_sysuninit', 'linker_file_sysuninit(linker_file_t lf)', 'kldunload: the module\'s SYSUNINITs, in reverse, in vnet0', '&lf->sysuninits'),
});

/**
 * Every other kernel function a frame can name is one kctx implements natively in one step
 * (abi/kapi.ts and its neighbours): its listing is the prototype the shipped headers declare,
 * with what it does in one line; the line is the body's.
 */
/** A kernel function kctx implements natively: one the shipped headers declare, or a native symbol of the machine. */
function nativeListing(name: string, m?: Machine): Listing | undefined {
  const proto = nativePrototype(name) ?? (m?.sym.lookup(name)?.kind === 'native' ? `void ${name}(...);` : undefined);
  if (!proto) return undefined;
  const pm = /^(.*?)\b(\w+)\s*\((.*)\);$/.exec(proto);
  const head = pm ? [pm[1]!.trim(), `${pm[2]}(${pm[3]})`] : [proto.replace(/;$/, '')];
  return fixed(() => [
    ...HEAD(name),
    ...head,
    '{',
    `\t/* kctx runs ${name}() natively (kernel-sim/abi), in one step: a thread is never */`,
    '\t/* stopped inside it. When it panics (a bad argument, a failed check), the panic */',
    '\t/* message says why: the stop\'s exception text, ::panicinfo, ::msgbuf. */',
    '}',
  ], 'natively');
}

/**
 * The line of a savectx/restorectx walk: the call of an op while its C handler runs above (the
 * walk has moved `f.cur` on already), the call of the op at `f.cur`, its `if` when that op has
 * no such handler, the closing brace when the walk is done (cur 0).
 */
function walkLine(m: Machine, f: Frame | undefined, l: string[], which: 'save' | 'restore', inCall: boolean): number {
  const cur = f?.cur as number | undefined;
  if (inCall) return at(l, `->${which}_op(`);
  if (!cur) return l.length;
  let op = 1;
  try {
    op = m.mem.readPtr(cur + (which === 'save' ? m.O.save_op : m.O.restore_op));
  } catch {
    // A ctxop freed under the walk: show the call.
  }
  return op === 0 ? at(l, `if (ctx->${which}_op != NULL)`) : at(l, `->${which}_op(`);
}

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

function listingOf(name: string, m?: Machine): Listing | undefined {
  // A driver's own C function of the same name (a C vmm_savectx) has its own source.
  if (m?.sym.lookup(name)?.kind === 'c') return undefined;
  return Object.prototype.hasOwnProperty.call(LISTINGS, name) ? LISTINGS[name] : nativeListing(name, m);
}

/**
 * Kernel functions with a listing: those written above, and every other function kctx runs
 * natively (with the machine: any native symbol of it).
 */
export function hasKernelSource(name: string, m?: Machine): boolean {
  return listingOf(name, m) !== undefined;
}

/** The listing of kernel function `name` for this machine's era. */
export function kernelListing(m: Machine, name: string): string[] {
  return listingOf(name, m)!.lines(m);
}

/** The line (1-based) a frame of `name` is at; `f` is the machine frame the view frame comes from. */
export function kernelLine(m: Machine, name: string, f: Frame | undefined, inCall = false): number {
  const l = listingOf(name, m)!;
  return l.line(m, f, l.lines(m), inCall);
}

/** The line (1-based) of kernel function `name`'s listing that holds `text` (a stop at a line inside it). */
export function kernelLineOf(m: Machine, name: string, text: string): number {
  return at(listingOf(name, m)!.lines(m), text);
}

/** Kernel frames a user rarely needs (shown subtle on threads other than the stopped one). */
export const RARE_FRAMES = new Set(['thread_start', 'sys_rtt_common', 'kpreempt', 'idle', '_sys_rtt', 'cv_wait', 'mutex_vector_enter']);
