/*
 * A small vmm-like driver for the kctx editor tests: each vCPU thread attaches a ctxop that
 * saves and restores its guest state around context switches (as bhyve's vm_run() does).
 */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>

typedef struct vcpu {
	int	vc_id;
	int	vc_loaded;
	int	vc_saves;
	int	vc_restores;
} vcpu_t;

static void
vmm_savectx(void *arg)
{
	vcpu_t *vc = arg;

	vc->vc_loaded = 0;
	vc->vc_saves++;
}

static void
vmm_restorectx(void *arg)
{
	vcpu_t *vc = arg;

	vc->vc_loaded = 1;
	vc->vc_restores++;
}

static void
vmm_freectx(void *arg, int isexec)
{
	kmem_free(arg, sizeof (vcpu_t));
}

static const struct ctxop_template vmm_ctxop_tpl = {
	.ct_rev		= CTXOP_TPL_REV,
	.ct_save	= vmm_savectx,
	.ct_restore	= vmm_restorectx,
	.ct_free	= vmm_freectx,
};

void
vcpu_thread(void *arg)
{
	vcpu_t *vc = kmem_zalloc(sizeof (vcpu_t), KM_SLEEP);
	ctxop_t *ctx;
	int i;

	vc->vc_id = (int)(uintptr_t)arg;
	ctx = ctxop_allocate(&vmm_ctxop_tpl, vc);
	kpreempt_disable();
	ctxop_attach(curthread, ctx);
	vc->vc_loaded = 1;
	kpreempt_enable();

	for (i = 0; i < 3; i++) {
		/* Enter the guest with its state loaded: no preemption here. */
		kpreempt_disable();
		vc->vc_loaded = 1;
		drv_usecwait(500);
		kpreempt_enable();
		/* The guest runs (preemptible), then the vCPU waits for work. */
		drv_usecwait(3000);
		delay(1);
	}

	ctxop_detach(curthread, ctx);
	ctxop_free(ctx);
}
