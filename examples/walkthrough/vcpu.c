/*
 * The kctx walkthrough driver: a bhyve-like vCPU driver written for the illumos kernels
 * before illumos#13917, being ported to a 13917 kernel.
 *
 * Each VM_RUN installs a ctxop on the running thread with the positional 8-argument
 * installctx(), so that a context switch saves the guest FPU (vmm_savectx) and the switch
 * back restores it (vmm_restorectx); removectx() takes it off again on the way out.
 * installctx() and removectx() do not exist on a 13917 kernel: built as it is, this module
 * fails to load there. The quick fix "Migrate to ctxop_template" ports it.
 *
 * It also has a bug that ::findleaks finds: vcpu_cleanup() forgets the exit-statistics buffer.
 */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>
#include <sys/ddi.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#define	VTCS_FPU_RESTORED	0x1	/* guest FPU state is loaded */
#define	VCPU_RUNS		3
#define	VCPU_EXIT_REASONS	8

typedef struct vm_thread_ctx {
	uint_t		vtc_status;
	uint64_t	vtc_saves;
	uint64_t	vtc_restores;
} vm_thread_ctx_t;

struct vcpu {
	int		vcpuid;
	vm_thread_ctx_t	vtc;
	uint64_t	*exitstats;	/* one counter per exit reason */
	uint64_t	runs;
};

/* Leaving the CPU: stash the guest FPU and give the host its FPU back. */
static void
vmm_savectx(void *arg)
{
	vm_thread_ctx_t *vtc = arg;

	vtc->vtc_status &= ~VTCS_FPU_RESTORED;
	vtc->vtc_saves++;
}

/* Back on a CPU: the guest FPU must have been saved when we left. */
static void
vmm_restorectx(void *arg)
{
	vm_thread_ctx_t *vtc = arg;

	VERIFY((vtc->vtc_status & VTCS_FPU_RESTORED) == 0);
	vtc->vtc_restores++;
}

static struct vcpu *
vcpu_init(int id)
{
	struct vcpu *vcpu = kmem_zalloc(sizeof (*vcpu), KM_SLEEP);

	vcpu->vcpuid = id;
	vcpu->exitstats = kmem_zalloc(VCPU_EXIT_REASONS * sizeof (uint64_t),
	    KM_SLEEP);
	return (vcpu);
}

static int
vm_run(struct vcpu *vcpu)
{
	vm_thread_ctx_t *vtc = &vcpu->vtc;

	vtc->vtc_status = 0;
	installctx(curthread, vtc, vmm_savectx, vmm_restorectx, NULL, NULL,
	    NULL, NULL);

	/* Load the guest FPU, then let the guest run (VMRUN): 15 ms of CPU. */
	vtc->vtc_status |= VTCS_FPU_RESTORED;
	drv_usecwait(15000);
	vcpu->exitstats[vcpu->runs % VCPU_EXIT_REASONS]++;

	kpreempt_disable();
	(void) removectx(curthread, vtc, vmm_savectx, vmm_restorectx, NULL,
	    NULL, NULL, NULL);
	vmm_savectx(vtc);
	kpreempt_enable();

	vcpu->runs++;
	return (0);
}

static void
vcpu_cleanup(struct vcpu *vcpu)
{
	kmem_free(vcpu, sizeof (*vcpu));
}

void
vcpu_thread(void *arg)
{
	int id = (int)(uintptr_t)arg;
	struct vcpu *vcpu = vcpu_init(id);
	int i;

	for (i = 0; i < VCPU_RUNS; i++)
		(void) vm_run(vcpu);

	cmn_err(CE_NOTE, "vcpu%d: %d runs, %d saves, %d restores", vcpu->vcpuid,
	    (int)vcpu->runs, (int)vcpu->vtc.vtc_saves,
	    (int)vcpu->vtc.vtc_restores);
	vcpu_cleanup(vcpu);
}
