/**
 * Layouts of the kernel structures that live in simulated memory and that driver C code may
 * read (`curthread->t_preempt`, `ctx->next`, `CPU->cpu_id`). The tables below are the one
 * statement of the members the simulator models. They serve two ways:
 * - without a kernel tree, they are the layouts: the shipped kernel headers declare the same
 *   structs (`cDeclaration()`), so the interpreter computes the same offsets (LP64, natural
 *   alignment); the members are a subset of illumos's, in an order of our own;
 * - with a kernel tree (`gate`), kernel-sim/gate/layouts.ts binds the same members by name in
 *   the tree's own structs (offsets and widths as the tree declares them), and kctx's own
 *   bookkeeping members (`own`) go after the tree's struct.
 * The native kernel code reads offsets through the machine's `Layouts` (m.T, m.C, m.O, ...),
 * never through these constants.
 */
export type Scalar = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'ptr';

export interface FieldSpec {
  name: string;
  /** C type text used in the generated declaration, e.g. `struct ctxop *`, `volatile char`. */
  ctype: string;
  kind: Scalar | { size: number; align: number };
  /** Array length (char arrays). */
  count?: number;
  /** Function-pointer declarator: the field is written as `void (*name)(ARGS)`. */
  fnArgs?: string;
  /** kctx's own bookkeeping, not a member of illumos's struct: with a kernel tree it lives after the tree's struct. */
  own?: true;
  /** Where a kernel tree keeps the member when its name is a macro (`t_wchan` is `t_lwpchan.lc_wchan`). */
  tree?: string;
}

export interface StructLayout {
  tag: string;
  typedef?: string;
  size: number;
  align: number;
  offsets: Record<string, number>;
  fields: Array<FieldSpec & { offset: number }>;
  /** Bound to a kernel tree's struct (gate/layouts.ts): where the tree defines it. */
  tree?: { file: string; line: number; name: string; size: number };
}

const SCALAR: Record<Scalar, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8, ptr: 8 };

export function defineStruct(tag: string, typedef: string | undefined, fields: FieldSpec[]): StructLayout {
  let off = 0;
  let maxAlign = 1;
  const out: Array<FieldSpec & { offset: number }> = [];
  const offsets: Record<string, number> = {};
  for (const f of fields) {
    const size = typeof f.kind === 'string' ? SCALAR[f.kind] : f.kind.size;
    const align = typeof f.kind === 'string' ? SCALAR[f.kind] : f.kind.align;
    off = Math.ceil(off / align) * align;
    out.push({ ...f, offset: off });
    offsets[f.name] = off;
    off += size * (f.count ?? 1);
    maxAlign = Math.max(maxAlign, align);
  }
  const size = Math.ceil(off / maxAlign) * maxAlign;
  return { tag, typedef, size, align: maxAlign, offsets, fields: out };
}

/** The C declaration of a layout, for the shipped headers. */
export function cDeclaration(l: StructLayout): string {
  const body = l.fields
    .map((f) => {
      if (f.fnArgs !== undefined) return `\t${f.ctype} (*${f.name})(${f.fnArgs});`;
      const sep = f.ctype.endsWith('*') ? '' : ' ';
      return `\t${f.ctype}${sep}${f.name}${f.count ? `[${f.count}]` : ''};`;
    })
    .join('\n');
  const s = `struct ${l.tag} {\n${body}\n};`;
  return l.typedef ? `typedef ${s.replace(/;$/, '')} ${l.typedef};` : s;
}

const MUTEX = { size: 8, align: 8 };

/** `struct ctxop` from illumos#12477 on (next/prev ring, timestamps): 88 bytes, kmem_alloc_96. */
export const CTXOP = defineStruct('ctxop', 'ctxop_t', [
  { name: 'save_op', ctype: 'void', kind: 'ptr', fnArgs: 'void *' },
  { name: 'restore_op', ctype: 'void', kind: 'ptr', fnArgs: 'void *' },
  { name: 'fork_op', ctype: 'void', kind: 'ptr', fnArgs: 'void *, void *' },
  { name: 'lwp_create_op', ctype: 'void', kind: 'ptr', fnArgs: 'void *, void *' },
  { name: 'exit_op', ctype: 'void', kind: 'ptr', fnArgs: 'void *' },
  { name: 'free_op', ctype: 'void', kind: 'ptr', fnArgs: 'void *, int' },
  { name: 'arg', ctype: 'void *', kind: 'ptr' },
  { name: 'next', ctype: 'struct ctxop *', kind: 'ptr' },
  { name: 'prev', ctype: 'struct ctxop *', kind: 'ptr' },
  { name: 'save_ts', ctype: 'hrtime_t', kind: 'i64' },
  { name: 'restore_ts', ctype: 'hrtime_t', kind: 'i64' },
]);

/** `struct ctxop` before illumos#12477: singly linked, no timestamps (64 bytes, kmem_alloc_64). */
export const CTXOP_PRE12477 = defineStruct('ctxop', 'ctxop_t', CTXOP.fields.slice(0, 8).map(({ offset: _o, ...f }) => f));

/** `struct ctxop_template` (illumos#13917). */
export const CTXOP_TEMPLATE = defineStruct('ctxop_template', undefined, [
  { name: 'ct_rev', ctype: 'uint32_t', kind: 'u32' },
  { name: 'ct_pad', ctype: 'uint32_t', kind: 'u32' },
  { name: 'ct_save', ctype: 'void', kind: 'ptr', fnArgs: 'void *' },
  { name: 'ct_restore', ctype: 'void', kind: 'ptr', fnArgs: 'void *' },
  { name: 'ct_fork', ctype: 'void', kind: 'ptr', fnArgs: 'void *, void *' },
  { name: 'ct_lwp_create', ctype: 'void', kind: 'ptr', fnArgs: 'void *, void *' },
  { name: 'ct_exit', ctype: 'void', kind: 'ptr', fnArgs: 'void *' },
  { name: 'ct_free', ctype: 'void', kind: 'ptr', fnArgs: 'void *, int' },
]);

export const THREAD_NAME_LEN = 32;

/** `kthread_t`: the fields the simulator keeps in memory. */
export const KTHREAD = defineStruct('_kthread', 'kthread_t', [
  { name: 't_link', ctype: 'struct _kthread *', kind: 'ptr' },
  { name: 't_stk', ctype: 'caddr_t', kind: 'ptr' },
  { name: 't_startpc', ctype: 'void', kind: 'ptr', fnArgs: 'void' },
  { name: 't_bound_cpu', ctype: 'struct cpu *', kind: 'ptr' },
  { name: 't_flag', ctype: 'uint_t', kind: 'u32' },
  { name: 't_proc_flag', ctype: 'ushort_t', kind: 'u16' },
  { name: 't_schedflag', ctype: 'ushort_t', kind: 'u16' },
  { name: 't_preempt', ctype: 'volatile char', kind: 'i8' },
  { name: 't_preempt_lk', ctype: 'volatile char', kind: 'i8' },
  { name: 't_pri', ctype: 'pri_t', kind: 'i16' },
  { name: 't_epri', ctype: 'pri_t', kind: 'i16' },
  { name: 't_pil', ctype: 'char', kind: 'i8' },
  { name: 't_state', ctype: 'uint_t', kind: 'u32' },
  { name: 't_ctx', ctype: 'struct ctxop *', kind: 'ptr' },
  { name: 't_ctx_lock', ctype: 'kmutex_t', kind: MUTEX },
  { name: 't_cpu', ctype: 'struct cpu *', kind: 'ptr' },
  { name: 't_next', ctype: 'struct _kthread *', kind: 'ptr' },
  { name: 't_prev', ctype: 'struct _kthread *', kind: 'ptr' },
  { name: 't_lwp', ctype: 'struct _klwp *', kind: 'ptr' },
  { name: 't_procp', ctype: 'struct proc *', kind: 'ptr' },
  { name: 't_wchan', ctype: 'caddr_t', kind: 'ptr', tree: 't_lwpchan.lc_wchan' },
  { name: 't_did', ctype: 'uint64_t', kind: 'u64' },
  { name: 't_tid', ctype: 'id_t', kind: 'i32' },
  { name: 't_disp_time', ctype: 'clock_t', kind: 'i64' },
  { name: 't_name', ctype: 'char', kind: 'u8', count: THREAD_NAME_LEN },
]);

/** `cpu_t`: the fields the simulator keeps in memory. */
export const CPU = defineStruct('cpu', 'cpu_t', [
  { name: 'cpu_id', ctype: 'processorid_t', kind: 'i32' },
  { name: 'cpu_seqid', ctype: 'processorid_t', kind: 'i32' },
  { name: 'cpu_flags', ctype: 'uint_t', kind: 'u32' },
  { name: 'cpu_thread', ctype: 'struct _kthread *', kind: 'ptr' },
  { name: 'cpu_idle_thread', ctype: 'struct _kthread *', kind: 'ptr' },
  { name: 'cpu_dispthread', ctype: 'struct _kthread *', kind: 'ptr' },
  { name: 'cpu_runrun', ctype: 'char', kind: 'u8' },
  { name: 'cpu_kprunrun', ctype: 'char', kind: 'u8' },
  { name: 'cpu_base_spl', ctype: 'int', kind: 'i32' },
  { name: 'cpu_last_swtch', ctype: 'clock_t', kind: 'i64' },
  { name: 'cpu_next', ctype: 'struct cpu *', kind: 'ptr' },
]);

/** `klwp_t` with the user FPU context embedded, as the kernel's own ctxops use it. */
export const KLWP = defineStruct('_klwp', 'klwp_t', [
  { name: 'lwp_thread', ctype: 'struct _kthread *', kind: 'ptr' },
  { name: 'lwp_procp', ctype: 'struct proc *', kind: 'ptr' },
  { name: 'lwp_segregs_saved', ctype: 'uint64_t', kind: 'u64', own: true },
  { name: 'lwp_segregs_restored', ctype: 'uint64_t', kind: 'u64', own: true },
  { name: 'lwp_fpu_flags', ctype: 'uint32_t', kind: 'u32', own: true },
  { name: 'lwp_fpu_pad', ctype: 'uint32_t', kind: 'u32', own: true },
  { name: 'lwp_fpu_saves', ctype: 'uint64_t', kind: 'u64', own: true },
  { name: 'lwp_fpu_restores', ctype: 'uint64_t', kind: 'u64', own: true },
]);

/** `sc_shared_t` (schedctl page shared with user land). */
export const SC_SHARED = defineStruct('sc_shared', 'sc_shared_t', [
  { name: 'sc_state', ctype: 'volatile ushort_t', kind: 'u16' },
  { name: 'sc_cpu', ctype: 'volatile processorid_t', kind: 'i32' },
]);

/** `MAXCOMLEN` and `PSARGSZ` (illumos user.h): the command name and argument string lengths. */
export const MAXCOMLEN = 16;
export const PSARGSZ = 80;

/** `user_t`, the part of it kctx keeps: the command name and arguments (`p_user` in a proc_t). */
export const USER = defineStruct('user', 'user_t', [
  { name: 'u_comm', ctype: 'char', kind: 'u8', count: MAXCOMLEN + 1 },
  { name: 'u_psargs', ctype: 'char', kind: 'u8', count: PSARGSZ },
]);

/** `struct pid`: a process's ID (`p_pidp->pid_id`). */
export const PID = defineStruct('pid', undefined, [
  { name: 'pid_id', ctype: 'pid_t', kind: 'i32' },
]);

/**
 * `proc_t`: a process. Kernel threads belong to `p0` (sched, PID 0); each scenario thread with an
 * LWP is a process of its own; an LWP made by lwp_create() joins its creator's process, one made
 * by forklwp() starts a child process.
 */
export const PROC = defineStruct('proc', 'proc_t', [
  { name: 'p_ppid', ctype: 'pid_t', kind: 'i32' },
  { name: 'p_flag', ctype: 'uint_t', kind: 'u32' },
  { name: 'p_parent', ctype: 'struct proc *', kind: 'ptr' },
  { name: 'p_pidp', ctype: 'struct pid *', kind: 'ptr' },
  { name: 'p_tlist', ctype: 'struct _kthread *', kind: 'ptr' },
  { name: 'p_lwpcnt', ctype: 'int', kind: 'i32' },
  { name: 'p_user', ctype: 'struct user', kind: { size: USER.size, align: USER.align } },
]);

/** `p_flag` bits (illumos proc.h): SSYS for p0; a user process as illumos shows one after exec. */
export const SSYS = 0x00000001;
export const PROC_USER_FLAGS = 0x42004000;

export const MUTEX_LAYOUT = defineStruct('mutex', 'kmutex_t', [{ name: '_opaque', ctype: 'void *', kind: 'ptr', count: 1 }]);
export const CONDVAR_LAYOUT = defineStruct('_kcondvar', 'kcondvar_t', [{ name: '_opaque', ctype: 'ushort_t', kind: 'u16' }]);

/** Width and signedness of a member's scalar kind (an aggregate member: its size, unsigned). */
export function scalarOf(kind: FieldSpec['kind']): { size: number; signed: boolean } {
  if (typeof kind !== 'string') return { size: kind.size, signed: false };
  return { size: SCALAR[kind], signed: kind.startsWith('i') };
}

const accessCache = new WeakMap<StructLayout, Map<string, { off: number; size: number; signed: boolean }>>();

/** Offset, width and signedness of a member of a layout (throws for a member it does not have). */
export function memberOf(l: StructLayout, name: string): { off: number; size: number; signed: boolean } {
  let m = accessCache.get(l);
  if (!m) accessCache.set(l, (m = new Map()));
  let r = m.get(name);
  if (!r) {
    const f = l.fields.find((x) => x.name === name);
    if (!f) throw new Error(`kctx: ${l.typedef ?? 'struct ' + l.tag} has no member ${name}`);
    r = { off: f.offset, ...scalarOf(f.kind) };
    m.set(name, r);
  }
  return r;
}

/**
 * The layouts a machine uses for the structures its native code reads and writes. The shipped
 * ones (below) unless the driver was built against a kernel tree, whose own layouts then bind.
 */
export interface Layouts {
  /** Bound to a kernel tree's headers. */
  tree: boolean;
  kthread: StructLayout;
  cpu: StructLayout;
  klwp: StructLayout;
  ctxop: StructLayout;
  ctxopTemplate: StructLayout;
  scShared: StructLayout;
  proc: StructLayout;
  pid: StructLayout;
  user: StructLayout;
  /** The tree's `char *t_name` (its bytes are in kctx's part of the thread, at offsets.t_name), or -1. */
  tNamePtr: number;
}

export type LayoutKey = 'kthread' | 'cpu' | 'klwp' | 'ctxop' | 'ctxopTemplate' | 'scShared' | 'proc' | 'pid' | 'user';

/**
 * The structures the simulator models, with the names C uses for them and the header of
 * illumos-gate that defines each (gate/layouts.ts looks there when the driver does not include it).
 * `optional`: a tree that lacks the struct keeps kctx's (struct ctxop_template before 13917; a
 * small tree without <sys/proc.h> or <sys/user.h> keeps kctx's proc_t).
 */
export const MODELLED: Array<{ key: LayoutKey; names: string[]; header: string; optional?: true }> = [
  { key: 'kthread', names: ['kthread_t', 'struct _kthread'], header: 'sys/thread.h' },
  { key: 'ctxop', names: ['ctxop_t', 'struct ctxop'], header: 'sys/thread.h' },
  { key: 'cpu', names: ['cpu_t', 'struct cpu'], header: 'sys/cpuvar.h' },
  { key: 'klwp', names: ['klwp_t', 'struct _klwp'], header: 'sys/klwp.h' },
  { key: 'scShared', names: ['sc_shared_t', 'struct sc_shared'], header: 'sys/schedctl.h' },
  { key: 'ctxopTemplate', names: ['struct ctxop_template'], header: 'sys/proc.h', optional: true },
  { key: 'proc', names: ['proc_t', 'struct proc'], header: 'sys/proc.h', optional: true },
  { key: 'pid', names: ['struct pid'], header: 'sys/proc.h', optional: true },
  { key: 'user', names: ['user_t', 'struct user'], header: 'sys/user.h', optional: true },
];

/** kctx's own layouts for a kernel whose ctxops are a ring (from 12477) or a list. */
export function shippedLayouts(ring: boolean): Layouts {
  return { tree: false, kthread: KTHREAD, cpu: CPU, klwp: KLWP, ctxop: ring ? CTXOP : CTXOP_PRE12477, ctxopTemplate: CTXOP_TEMPLATE, scShared: SC_SHARED, proc: PROC, pid: PID, user: USER, tNamePtr: -1 };
}

/** Thread states (`t_state` values, as in illumos thread.h). */
export const TS_FREE = 0x00;
export const TS_SLEEP = 0x01;
export const TS_RUN = 0x02;
export const TS_ONPROC = 0x04;
export const TS_ZOMB = 0x08;
export const TS_STOPPED = 0x10;
export const TS_WAIT = 0x20;

export function stateName(s: number): string {
  switch (s) {
    case TS_FREE: return 'free';
    case TS_SLEEP: return 'sleep';
    case TS_RUN: return 'run';
    case TS_ONPROC: return 'onproc';
    case TS_ZOMB: return 'zomb';
    case TS_STOPPED: return 'stopped';
    case TS_WAIT: return 'wait';
    default: return `inval/${s.toString(16).padStart(2, '0')}`;
  }
}

export const T_KFPU = 0x10000;
/** Values of `lwp_fpu_flags` (illumos fpu.c). */
export const FPU_EN = 0x1;
export const FPU_VALID = 0x2;
