/*
 * A bhyve-like vCPU driver on the illumos#13917 ctxop interface.
 *
 * Each vCPU allocates its ctxop once (vcpu_init), attaches it to the running thread for each
 * VM_RUN (vm_run), and on the way out detaches it and saves the guest state explicitly with
 * preemption disabled. The ctxop is freed when the vCPU is torn down (vcpu_cleanup).
 *
 * The save handler must run before the host FPU ctxop saves (it puts the host FPU back), and
 * the restore handler after the host FPU was restored: the stack ordering of illumos#12477.
 */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>
#include <sys/ddi.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>
#include "vmm.h"

static void vmm_savectx(void *);
static void vmm_restorectx(void *);

static const struct ctxop_template vmm_ctxop_tpl = {
	.ct_rev		= VMM_TPL_REV,
	.ct_save	= vmm_savectx,
	.ct_restore	= vmm_restorectx,
};

static uint_t vmm_vcpus_done;

/* Leaving the CPU: stash the guest FPU and give the host its FPU back. */
static void
vmm_savectx(void *arg)
{
	vm_thread_ctx_t *vtc = arg;
	struct vcpu *vcpu = vtc->vtc_vcpu;

	if ((vtc->vtc_status & VTCS_FPU_RESTORED) != 0) {
		vcpu->guest_fpu_saves++;
		vtc->vtc_status &= ~VTCS_FPU_RESTORED;
	}
	vtc->vtc_saves++;
}

/* Back on a CPU: the guest FPU was saved; load it again if we are FPU-critical. */
static void
vmm_restorectx(void *arg)
{
	vm_thread_ctx_t *vtc = arg;

	VERIFY((vtc->vtc_status & VTCS_FPU_RESTORED) == 0);
	if ((vtc->vtc_status & VTCS_FPU_CTX_CRITICAL) != 0)
		vtc->vtc_status |= VTCS_FPU_RESTORED;
	vtc->vtc_restores++;
}

static struct vcpu *
vcpu_init(int id)
{
	struct vcpu *vcpu = kmem_zalloc(sizeof (*vcpu), KM_SLEEP);

	vcpu->vcpuid = id;
	vcpu->vtc.vtc_vcpu = vcpu;
	/* A sleeping allocation: done here, with preemption enabled. */
	vcpu->ctxop = ctxop_allocate(&vmm_ctxop_tpl, &vcpu->vtc);
	return (vcpu);
}

static int
vm_run(struct vcpu *vcpu)
{
	vm_thread_ctx_t *vtc = &vcpu->vtc;

	vtc->vtc_status = 0;
	ctxop_attach(curthread, vcpu->ctxop);

	kpreempt_disable();
	/* Load the guest FPU: from here on a context switch must save it. */
	vtc->vtc_status |= VTCS_FPU_CTX_CRITICAL | VTCS_FPU_RESTORED;
	kpreempt_enable();

	/* The guest runs (VMRUN): 15 ms of CPU, preemptible. */
	drv_usecwait(15000);

	kpreempt_disable();
	ctxop_detach(curthread, vcpu->ctxop);
	vmm_savectx(vtc);
	vtc->vtc_status &= ~VTCS_FPU_CTX_CRITICAL;
	kpreempt_enable();

	vcpu->runs++;
	return (0);
}

static void
vcpu_cleanup(struct vcpu *vcpu)
{
	ASSERT0(vcpu->vtc.vtc_status & VTCS_FPU_RESTORED);
	ctxop_free(vcpu->ctxop);
	vcpu->ctxop = NULL;
	kmem_free(vcpu, sizeof (*vcpu));
}

void
vcpu_thread(void *arg)
{
	int id = (int)(uintptr_t)arg;
	struct vcpu *vcpu = vcpu_init(id);
	int i;

	for (i = 0; i < VMM_RUNS; i++)
		(void) vm_run(vcpu);

	cmn_err(CE_NOTE, "vmm: vcpu%d: %d runs, %d saves, %d restores, %d guest FPU saves",
	    vcpu->vcpuid, (int)vcpu->runs, (int)vcpu->vtc.vtc_saves,
	    (int)vcpu->vtc.vtc_restores, (int)vcpu->guest_fpu_saves);
	vcpu_cleanup(vcpu);
	vmm_vcpus_done++;
}
