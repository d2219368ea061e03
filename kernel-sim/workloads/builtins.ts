/**
 * Built-in workloads: thread entries written natively, so scenarios run without C and the
 * benchmarks have native handlers. Each is a short program of kernel calls, written the way
 * the real consumer's code was in each era (reference §5.3, §5.8, §5.10):
 *
 *   builtin:spin        burns `arg` ticks on the CPU, then exits
 *   builtin:bhyve-vcpu  `arg` VM_RUN calls of a bhyve vCPU (vmm_savectx/vmm_restorectx)
 *   builtin:kvm-vcpu    `arg` vcpu_load/vcpu_put rounds of illumos-kvm (kvm_ctx_save/restore)
 *   builtin:kfpu        `arg` kernel_fpu_begin/end sections (kernel_fpu_ctx_save/restore)
 */
import { registerFrameKind, KernelPanic, PUSHED, type Machine, type Frame, type StackEntry } from '../machine/machine';
import type { KThread } from '../machine/thread';
import { T_KFPU } from '../machine/layout';
import { CTXOP_TPL_REV } from '../abi/ctxops';

type Vars = Record<string, number>;
type ArgFn = (m: Machine, t: KThread, v: Vars) => number[];

type Op =
  | { op: 'call'; fn: string; args: ArgFn; out?: string; line: string }
  | { op: 'do'; run: (m: Machine, t: KThread, v: Vars) => void; line: string }
  | { op: 'busy'; cycles: (m: Machine) => number; line: string }
  /** Jumps to `to` when `v.iter >= arg`, else increments iter and falls through. */
  | { op: 'loop'; to: number; line: string }
  | { op: 'jmp'; to: number; line: string };

interface Program {
  name: string;
  ops: Op[];
}

const VCPU_SIZE = 64;
const VCPU_CTXOP = 0;
const VCPU_VTC = 8; // vm_thread_ctx_t: vtc_status at +0, saves at +8, restores at +16
const VTCS_FPU_RESTORED = 0x1;

const NULLS = (n: number) => new Array<number>(n).fill(0);

function fn(m: Machine, name: string): number {
  const s = m.sym.lookup(name);
  if (!s) throw new KernelPanic(`builtin: kernel function ${name} missing in era ${m.era.id}`);
  return s.addr;
}

/** A static const struct ctxop_template in kernel data (13917). */
function template(m: Machine, name: string, h: { save?: string; restore?: string; free?: string }): number {
  const existing = m.sym.data.get(name);
  if (existing) return existing.addr;
  const a = m.mem.map(m.L.ctxopTemplate.size, 8);
  const o = m.TPL;
  m.setField(m.L.ctxopTemplate, a, 'ct_rev', CTXOP_TPL_REV);
  if (h.save) m.mem.writePtr(a + o.ct_save, fn(m, h.save));
  if (h.restore) m.mem.writePtr(a + o.ct_restore, fn(m, h.restore));
  if (h.free) m.mem.writePtr(a + o.ct_free, fn(m, h.free));
  m.sym.defineData(name, a, m.L.ctxopTemplate.size, 'vmm');
  return a;
}


function bhyve(m: Machine): Program {
  const ops: Op[] = [];
  const vtc = (v: Vars) => v.vcpu! + VCPU_VTC;
  ops.push({ op: 'call', fn: 'kmem_zalloc', args: () => [VCPU_SIZE, 0], out: 'vcpu', line: 'vcpu_init: vcpu = kmem_zalloc(sizeof (struct vcpu), KM_SLEEP)' });
  if (m.era.hasTemplates) {
    ops.push({ op: 'call', fn: 'ctxop_allocate', args: (mm, _t, v) => [template(mm, 'vmm_ctxop_tpl', { save: 'vmm_savectx', restore: 'vmm_restorectx' }), vtc(v)], out: 'ctxop', line: 'vcpu_init: vcpu->ctxop = ctxop_allocate(&vmm_ctxop_tpl, &vcpu->vtc)' });
    ops.push({ op: 'do', run: (mm, _t, v) => mm.mem.writePtr(v.vcpu! + VCPU_CTXOP, v.ctxop!), line: 'vcpu_init: store vcpu->ctxop' });
  }
  const top = ops.length;
  ops.push({ op: 'loop', to: -1, line: 'vm_run: VM_RUN ioctl' });
  if (m.era.hasTemplates) {
    ops.push({ op: 'do', run: (mm, _t, v) => mm.mem.writeU32(vtc(v), 0), line: 'vm_run: vcpu->vtc.vtc_status = 0' });
    ops.push({ op: 'call', fn: 'ctxop_attach', args: (_mm, t, v) => [t.addr, v.ctxop!], line: 'vm_run: ctxop_attach(curthread, vcpu->ctxop)' });
  } else {
    const n = m.era.installctxArity;
    ops.push({
      op: 'call', fn: 'installctx', line: 'vm_run: installctx(curthread, &vtc, vmm_savectx, vmm_restorectx, NULL, NULL, NULL, vmm_freectx)',
      args: (mm, t, v) => [t.addr, vtc(v), fn(mm, 'vmm_savectx'), fn(mm, 'vmm_restorectx'), 0, 0, 0, fn(mm, 'vmm_freectx'), ...NULLS(n - 8)],
    });
  }
  ops.push({ op: 'do', run: (mm, _t, v) => mm.mem.writeU32(vtc(v), mm.mem.readU32(vtc(v)) | VTCS_FPU_RESTORED), line: 'vm_run: restore guest FPU (VTCS_FPU_RESTORED)' });
  ops.push({ op: 'busy', cycles: (mm) => Math.round(mm.cfg.tickCycles * 1.5), line: 'vm_run: VMRUN (guest runs)' });
  if (m.era.hasTemplates) {
    ops.push({ op: 'call', fn: 'kpreempt_disable', args: () => [], line: 'vm_run: kpreempt_disable()' });
    ops.push({ op: 'call', fn: 'ctxop_detach', args: (_mm, t, v) => [t.addr, v.ctxop!], line: 'vm_run: ctxop_detach(curthread, vcpu->ctxop)' });
    ops.push({ op: 'call', fn: 'vmm_savectx', args: (_mm, _t, v) => [vtc(v)], line: 'vm_run: vmm_savectx(&vcpu->vtc)' });
    ops.push({ op: 'call', fn: 'kpreempt_enable', args: () => [], line: 'vm_run: kpreempt_enable()' });
  } else {
    ops.push({
      op: 'call', fn: 'removectx', line: 'vm_run: removectx(curthread, &vtc, vmm_savectx, vmm_restorectx, NULL, NULL, NULL, vmm_freectx)',
      args: (mm, t, v) => [t.addr, vtc(v), fn(mm, 'vmm_savectx'), fn(mm, 'vmm_restorectx'), 0, 0, 0, fn(mm, 'vmm_freectx')],
    });
  }
  ops.push({ op: 'jmp', to: top, line: 'vm_run: return to user' });
  const end = ops.length;
  (ops[top] as { to: number }).to = end;
  if (m.era.hasTemplates) ops.push({ op: 'call', fn: 'ctxop_free', args: (_mm, _t, v) => [v.ctxop!], line: 'vcpu_cleanup: ctxop_free(vcpu->ctxop)' });
  ops.push({ op: 'call', fn: 'kmem_free', args: (_mm, _t, v) => [v.vcpu!, VCPU_SIZE], line: 'vcpu_cleanup: kmem_free(vcpu, sizeof (struct vcpu))' });
  return { name: 'bhyve-vcpu', ops };
}

function kvm(m: Machine): Program {
  const ops: Op[] = [];
  const n = m.era.installctxArity;
  ops.push({ op: 'call', fn: 'kmem_zalloc', args: () => [VCPU_SIZE, 0], out: 'vcpu', line: 'kvm_vcpu_init: vcpu = kmem_zalloc(sizeof (struct kvm_vcpu), KM_SLEEP)' });
  if (m.era.hasTemplates) {
    ops.push({ op: 'call', fn: 'ctxop_allocate', args: (mm, _t, v) => [template(mm, 'kvm_ctxop_tpl', { save: 'kvm_ctx_save', restore: 'kvm_ctx_restore' }), v.vcpu!], out: 'ctxop', line: 'kvm_vcpu_init: vcpu->ctxop = ctxop_allocate(&kvm_ctxop_tpl, vcpu)' });
  }
  const top = ops.length;
  ops.push({ op: 'loop', to: -1, line: 'kvm_ioctl: KVM_RUN' });
  ops.push({ op: 'call', fn: 'mutex_enter', args: (_mm, _t, v) => [v.vcpu! + 32], line: 'vcpu_load: mutex_enter(&vcpu->mutex)' });
  if (n === 9) ops.push({ op: 'call', fn: 'installctx_preallocate', args: () => [], out: 'pre', line: 'vcpu_load: ctx = installctx_preallocate()' });
  ops.push({ op: 'call', fn: 'kpreempt_disable', args: () => [], line: 'vcpu_load: kpreempt_disable()' });
  if (m.era.hasTemplates) {
    ops.push({ op: 'call', fn: 'ctxop_attach', args: (_mm, t, v) => [t.addr, v.ctxop!], line: 'vcpu_load: ctxop_attach(curthread, vcpu->ctxop)' });
  } else {
    ops.push({
      op: 'call', fn: 'installctx', line: n === 9 ? 'vcpu_load: installctx(curthread, vcpu, kvm_ctx_save, kvm_ctx_restore, NULL, NULL, NULL, NULL, ctx)' : 'vcpu_load: installctx(curthread, vcpu, kvm_ctx_save, kvm_ctx_restore, NULL, NULL, NULL, NULL)',
      args: (mm, t, v) => [t.addr, v.vcpu!, fn(mm, 'kvm_ctx_save'), fn(mm, 'kvm_ctx_restore'), 0, 0, 0, 0, ...(n === 9 ? [v.pre!] : [])],
    });
  }
  ops.push({ op: 'call', fn: 'kvm_ctx_restore', args: (_mm, _t, v) => [v.vcpu!], line: 'vcpu_load: kvm_arch_vcpu_load(vcpu, CPU->cpu_id)' });
  ops.push({ op: 'call', fn: 'kpreempt_enable', args: () => [], line: 'vcpu_load: kpreempt_enable()' });
  ops.push({ op: 'busy', cycles: (mm) => Math.round(mm.cfg.tickCycles * 1.5), line: 'kvm_arch_vcpu_ioctl_run: guest runs' });
  ops.push({ op: 'call', fn: 'kpreempt_disable', args: () => [], line: 'vcpu_put: kpreempt_disable()' });
  if (m.era.hasTemplates) {
    ops.push({ op: 'call', fn: 'ctxop_detach', args: (_mm, t, v) => [t.addr, v.ctxop!], line: 'vcpu_put: ctxop_detach(curthread, vcpu->ctxop)' });
  } else {
    ops.push({
      op: 'call', fn: 'removectx', line: 'vcpu_put: removectx(curthread, vcpu, kvm_ctx_save, kvm_ctx_restore, NULL, NULL, NULL, NULL)',
      args: (mm, t, v) => [t.addr, v.vcpu!, fn(mm, 'kvm_ctx_save'), fn(mm, 'kvm_ctx_restore'), 0, 0, 0, 0],
    });
  }
  ops.push({ op: 'call', fn: 'kvm_ctx_save', args: (_mm, _t, v) => [v.vcpu!], line: 'vcpu_put: kvm_arch_vcpu_put(vcpu)' });
  ops.push({ op: 'call', fn: 'kpreempt_enable', args: () => [], line: 'vcpu_put: kpreempt_enable()' });
  ops.push({ op: 'call', fn: 'mutex_exit', args: (_mm, _t, v) => [v.vcpu! + 32], line: 'vcpu_put: mutex_exit(&vcpu->mutex)' });
  ops.push({ op: 'jmp', to: top, line: 'kvm_ioctl: return' });
  (ops[top] as { to: number }).to = ops.length;
  if (m.era.hasTemplates) ops.push({ op: 'call', fn: 'ctxop_free', args: (_mm, _t, v) => [v.ctxop!], line: 'kvm_vcpu_uninit: ctxop_free(vcpu->ctxop)' });
  ops.push({ op: 'call', fn: 'kmem_free', args: (_mm, _t, v) => [v.vcpu!, VCPU_SIZE], line: 'kvm_vcpu_uninit: kmem_free(vcpu)' });
  return { name: 'kvm-vcpu', ops };
}

function kfpu(m: Machine): Program {
  const ops: Op[] = [];
  const n = m.era.installctxArity;
  const KFPU_SIZE = 64;
  const setKfpu = (on: boolean) => (mm: Machine, t: KThread) => mm.setFlag(t, on ? mm.tFlag(t) | T_KFPU : mm.tFlag(t) & ~T_KFPU);
  ops.push({ op: 'call', fn: 'kmem_zalloc', args: () => [KFPU_SIZE, 0], out: 'kfpu', line: 'kfpu = kernel_fpu_alloc(KM_SLEEP)' });
  const top = ops.length;
  ops.push({ op: 'loop', to: -1, line: 'kernel_fpu_begin(kfpu, 0)' });
  if (m.era.hasTemplates) {
    ops.push({ op: 'call', fn: 'ctxop_allocate', args: (mm, _t, v) => [template(mm, 'kfpu_ctxop_tpl', { save: 'kernel_fpu_ctx_save', restore: 'kernel_fpu_ctx_restore' }), v.kfpu!], out: 'ctx', line: 'kernel_fpu_begin: ctx = ctxop_allocate(&kfpu_ctxop_tpl, kfpu)' });
    ops.push({ op: 'call', fn: 'kpreempt_disable', args: () => [], line: 'kernel_fpu_begin: kpreempt_disable()' });
    ops.push({ op: 'call', fn: 'ctxop_attach', args: (_mm, t, v) => [t.addr, v.ctx!], line: 'kernel_fpu_begin: ctxop_attach(curthread, ctx)' });
  } else if (n === 9) {
    ops.push({ op: 'call', fn: 'installctx_preallocate', args: () => [], out: 'ctx', line: 'kernel_fpu_begin: ctx = installctx_preallocate()' });
    ops.push({ op: 'call', fn: 'kpreempt_disable', args: () => [], line: 'kernel_fpu_begin: kpreempt_disable()' });
    ops.push({ op: 'call', fn: 'installctx', args: (mm, t, v) => [t.addr, v.kfpu!, fn(mm, 'kernel_fpu_ctx_save'), fn(mm, 'kernel_fpu_ctx_restore'), 0, 0, 0, 0, v.ctx!], line: 'kernel_fpu_begin: installctx(curthread, kfpu, kernel_fpu_ctx_save, kernel_fpu_ctx_restore, NULL, NULL, NULL, NULL, ctx)' });
  } else {
    // Before 13915: installed outside the guard ("installctx does a sleeping allocation").
    ops.push({ op: 'call', fn: 'installctx', args: (mm, t, v) => [t.addr, v.kfpu!, fn(mm, 'kernel_fpu_ctx_save'), fn(mm, 'kernel_fpu_ctx_restore'), 0, 0, 0, 0], line: 'kernel_fpu_begin: installctx(curthread, kfpu, kernel_fpu_ctx_save, kernel_fpu_ctx_restore, NULL, NULL, NULL, NULL)' });
    ops.push({ op: 'call', fn: 'kpreempt_disable', args: () => [], line: 'kernel_fpu_begin: kpreempt_disable()' });
  }
  ops.push({ op: 'do', run: setKfpu(true), line: 'kernel_fpu_begin: curthread->t_flag |= T_KFPU' });
  ops.push({ op: 'call', fn: 'kpreempt_enable', args: () => [], line: 'kernel_fpu_begin: kpreempt_enable()' });
  ops.push({ op: 'busy', cycles: (mm) => mm.cfg.tickCycles * 2, line: 'FPU section (e.g. ZFS SIMD checksum)' });
  ops.push({ op: 'call', fn: 'kpreempt_disable', args: () => [], line: 'kernel_fpu_end: kpreempt_disable()' });
  ops.push({ op: 'do', run: setKfpu(false), line: 'kernel_fpu_end: curthread->t_flag &= ~T_KFPU' });
  if (m.era.hasTemplates) {
    ops.push({ op: 'call', fn: 'ctxop_remove', args: (mm, t, v) => [t.addr, template(mm, 'kfpu_ctxop_tpl', { save: 'kernel_fpu_ctx_save', restore: 'kernel_fpu_ctx_restore' }), v.kfpu!], line: 'kernel_fpu_end: ctxop_remove(curthread, &kfpu_ctxop_tpl, kfpu)' });
  } else {
    ops.push({ op: 'call', fn: 'removectx', args: (mm, t, v) => [t.addr, v.kfpu!, fn(mm, 'kernel_fpu_ctx_save'), fn(mm, 'kernel_fpu_ctx_restore'), 0, 0, 0, 0], line: 'kernel_fpu_end: removectx(curthread, kfpu, kernel_fpu_ctx_save, kernel_fpu_ctx_restore, NULL, NULL, NULL, NULL)' });
  }
  ops.push({ op: 'call', fn: 'kpreempt_enable', args: () => [], line: 'kernel_fpu_end: kpreempt_enable()' });
  ops.push({ op: 'jmp', to: top, line: 'next FPU section' });
  (ops[top] as { to: number }).to = ops.length;
  ops.push({ op: 'call', fn: 'kmem_free', args: (_mm, _t, v) => [v.kfpu!, KFPU_SIZE], line: 'kernel_fpu_free(kfpu)' });
  return { name: 'kfpu', ops };
}

function spin(_m: Machine): Program {
  return { name: 'spin', ops: [{ op: 'busy', cycles: () => 0, line: 'spin: burn arg ticks' }] };
}

const BUILDERS: Record<string, (m: Machine) => Program> = { 'bhyve-vcpu': bhyve, 'kvm-vcpu': kvm, kfpu, spin };
export const BUILTIN_NAMES = Object.keys(BUILDERS);

/** Native handlers of the built-in consumers (registered once per machine). */
export function installBuiltinHandlers(m: Machine): void {
  const mem = m.mem;
  const bump = (a: number): void => { mem.writeU64n(a, mem.readU64n(a) + 1); };
  // vmm_savectx: saves the guest FPU when it is loaded; vmm_restorectx: VERIFY that it was saved.
  m.native('vmm_savectx', (_mm, _t, a) => {
    const vtc = a[0]!;
    const st = mem.readU32(vtc);
    mem.writeU32(vtc, st & ~VTCS_FPU_RESTORED);
    bump(vtc + 8);
    return 0;
  }, 'vmm');
  m.native('vmm_restorectx', (_mm, _t, a) => {
    const vtc = a[0]!;
    if (mem.readU32(vtc) & VTCS_FPU_RESTORED) {
      throw new KernelPanic(`assertion failed: (vtc->vtc_status & VTCS_FPU_RESTORED) == 0, file: ../../intel/io/vmm/vmm.c, line: 2545`);
    }
    bump(vtc + 16);
    return 0;
  }, 'vmm');
  m.native('vmm_freectx', (mm, t, a) => mm.callFunction(t, fn(mm, 'vmm_savectx'), [a[0]!]), 'vmm');
  m.native('kvm_ctx_save', (_mm, _t, a) => { bump(a[0]! + 8); return 0; }, 'kvm');
  m.native('kvm_ctx_restore', (_mm, _t, a) => { bump(a[0]! + 16); return 0; }, 'kvm');
}

const programs = new WeakMap<Machine, Map<string, Program>>();

/**
 * The last program looked up: a step of a spinning thread must not cost two hash lookups. The
 * machine is held weakly, so a finished session's machine is not kept alive by this cache.
 */
let lastMachine: WeakRef<Machine> | null = null;
let lastProgram: Program | null = null;

function programFor(m: Machine, name: string): Program {
  if (lastProgram !== null && lastProgram.name === name && lastMachine!.deref() === m) return lastProgram;
  let cache = programs.get(m);
  if (!cache) programs.set(m, (cache = new Map()));
  let p = cache.get(name);
  if (!p) cache.set(name, (p = BUILDERS[name]!(m)));
  lastMachine = new WeakRef(m);
  lastProgram = p;
  return p;
}

/** The entry frame for `builtin:NAME` with `arg` (iterations, or ticks for spin). */
export function builtinFrame(m: Machine, name: string, arg: number): Frame {
  if (!BUILDERS[name]) throw new Error(`unknown built-in workload 'builtin:${name}' (known: ${BUILTIN_NAMES.map((b) => 'builtin:' + b).join(', ')})`);
  programFor(m, name);
  return { kind: 'builtin', pc: 0, prog: name, arg, iter: 0, vars: {}, waiting: '', left: name === 'spin' ? arg * m.cfg.tickCycles : -1 };
}

registerFrameKind('builtin', {
  preemptible: true,
  step(m, t, f, budget) {
    const p = programFor(m, f.prog as string);
    const v = f.vars as Vars;
    if (f.waiting) {
      v[f.waiting as string] = t.retval;
      f.waiting = '';
    }
    const op = p.ops[f.pc];
    if (!op) {
      m.ret(t, 0);
      return 1;
    }
    switch (op.op) {
      case 'call': {
        const s = m.sym.lookup(op.fn);
        if (!s) throw new KernelPanic(`builtin:${p.name}: ${op.fn} does not exist in era ${m.era.id}`);
        // Driver functions called directly (vmm_savectx after ctxop_detach) show in the flow.
        const driverFn = s.module !== 'genunix' && s.module !== 'unix';
        const args = op.args(m, t, v);
        if (driverFn) m.entry(t, s.name, 'direct call');
        const r = m.callFunction(t, s.addr, args);
        if (driverFn && r !== PUSHED) m.exit(t, s.name);
        f.pc++;
        if (r === PUSHED) f.waiting = op.out ?? '';
        else if (op.out) v[op.out] = r;
        return 1;
      }
      case 'do':
        op.run(m, t, v);
        f.pc++;
        return 1;
      case 'busy': {
        let left = f.left as number;
        if (left < 0) left = op.cycles(m);
        const used = Math.min(left, budget);
        left -= used;
        if (left <= 0) {
          f.left = -1;
          f.pc++;
        } else f.left = left;
        return Math.max(used, 1);
      }
      case 'loop':
        if ((f.iter as number) >= (f.arg as number)) f.pc = op.to;
        else {
          f.iter = (f.iter as number) + 1;
          f.pc++;
        }
        return 1;
      case 'jmp':
        f.pc = op.to;
        return 1;
    }
  },
  describe(m, _t, f, i): StackEntry[] {
    const p = programFor(m, f.prog as string);
    const op = p.ops[Math.min(f.pc as number, p.ops.length - 1)];
    const where = op ? op.line.split(':')[0]! : p.name;
    const entry: StackEntry = { name: where.includes(' ') ? p.name.replace('-', '_') : where, offset: 0x10 * ((f.pc as number) + 1), args: [], kind: 'builtin', frameIndex: i };
    return [entry];
  },
  roots: (f) => Object.values(f.vars as Vars),
  clone: (f) => ({ ...f, vars: { ...(f.vars as Vars) } }),
});

/** The source line a built-in frame is at (for stack displays and the debugger). */
export function builtinLine(m: Machine, f: Frame): string {
  const p = programFor(m, f.prog as string);
  return p.ops[Math.min(f.pc as number, p.ops.length - 1)]?.line ?? '';
}

