/**
 * The kernel's own ctxops, natively implemented under their real handler names
 * (reference §5.2, §5.4, §5.5): a user LWP gets the segment-register ctxop (lwp_installctx),
 * then the FPU ctxop (fp_exec / fp_new_lwp). schedctl on request.
 */
import { KernelPanic, type Machine } from '../machine/machine';
import type { KThread } from '../machine/thread';
import { T_KFPU, FPU_EN, FPU_VALID } from '../machine/layout';
import { kernelAttach } from './ctxops';

const SC_ONPROC = 0x01;

export function installKernelCtxops(m: Machine): void {
  const mem = m.mem;
  const bump = (a: number): void => { mem.writeU64n(a, mem.readU64n(a) + 1); };
  m.native('lwp_segregs_save', (_mm, _t, a) => { bump(a[0]! + m.LW.lwp_segregs_saved); return 0; }, 'unix');
  m.native('lwp_segregs_restore', (_mm, _t, a) => { bump(a[0]! + m.LW.lwp_segregs_restored); return 0; }, 'unix');
  // The FPU ctxop's arg is the lwp's FPU context (here: &lwp->lwp_fpu_flags).
  m.native('fpsave_ctxt', (_mm, _t, a) => {
    const fp = a[0]!;
    const flags = mem.readU32(fp);
    if (flags & FPU_EN) mem.writeU32(fp, flags | FPU_VALID);
    bump(fp + (m.LW.lwp_fpu_saves - m.LW.lwp_fpu_flags));
    return 0;
  }, 'unix');
  m.native('fprestore_ctxt', (_mm, _t, a) => {
    const fp = a[0]!;
    mem.writeU32(fp, mem.readU32(fp) & ~FPU_VALID);
    bump(fp + (m.LW.lwp_fpu_restores - m.LW.lwp_fpu_flags));
    return 0;
  }, 'unix');
  // fp_new_lwp(parent, child): the fork and lwp_create op; gives the child its own FPU ctxop.
  m.native('fp_new_lwp', (mm, t, [, child]) => {
    const c = mm.byAddr.get(child!);
    if (!c || !c.lwp) throw new KernelPanic(`fp_new_lwp: child ${child} has no lwp`);
    attachFpu(mm, t, c);
    return 0;
  }, 'unix');
  m.native(m.era.fpFreeHandler, () => 0, 'unix');
  // schedctl: save records the thread state, restore marks the lwp on CPU (user-visible).
  m.native('schedctl_save', (mm, t, a) => { mem.writeU16(a[0]! + m.SC.sc_state, mm.tState(t)); return 0; });
  m.native('schedctl_restore', (_mm, t, a) => {
    const sc = a[0]!;
    mem.writeU16(sc + m.SC.sc_state, SC_ONPROC);
    mem.writeI32(sc + m.SC.sc_cpu, t.cpu);
    return 0;
  });
  m.native('schedctl_fork', () => 0);
  // Kernel FPU (kernel_fpu_begin/end): save clears T_KFPU, restore sets it (what
  // kernel_fpu_no_swtch() in resume() checks).
  m.native('kernel_fpu_ctx_save', (mm, t) => { mm.setFlag(t, mm.tFlag(t) & ~T_KFPU); return 0; }, 'unix');
  m.native('kernel_fpu_ctx_restore', (mm, t) => { mm.setFlag(t, mm.tFlag(t) | T_KFPU); return 0; }, 'unix');
}

function handler(m: Machine, name: string): number {
  return m.sym.lookup(name)?.addr ?? 0;
}

function attachFpu(m: Machine, t: KThread, target: KThread): void {
  const fp = target.lwp + m.LW.lwp_fpu_flags;
  const nl = handler(m, 'fp_new_lwp');
  kernelAttach(m, t, target, { save: handler(m, 'fpsave_ctxt'), restore: handler(m, 'fprestore_ctxt'), fork: nl, lwpCreate: nl, exit: 0, free: handler(m, m.era.fpFreeHandler) }, fp, 'fp_exec');
  m.mem.writeU32(fp, FPU_EN);
}

/** lwp_installctx (segment registers), then the FPU ctxop: the order a user LWP has them. */
export function attachLwpCtxops(m: Machine, t: KThread, fpu: boolean): void {
  kernelAttach(m, t, t, { save: handler(m, 'lwp_segregs_save'), restore: handler(m, 'lwp_segregs_restore'), fork: 0, lwpCreate: 0, exit: 0, free: 0 }, t.lwp, 'lwp_installctx');
  if (fpu) attachFpu(m, t, t);
}

/** schedctl(): installs the schedctl ctxop with a freshly allocated shared page. */
export function attachSchedctl(m: Machine, t: KThread): void {
  const sc = m.kmemAlloc(t, m.L.scShared.size, 0, true, 'schedctl_init');
  kernelAttach(m, t, t, { save: handler(m, 'schedctl_save'), restore: handler(m, 'schedctl_restore'), fork: handler(m, 'schedctl_fork'), lwpCreate: 0, exit: 0, free: 0 }, sc, 'schedctl');
}

