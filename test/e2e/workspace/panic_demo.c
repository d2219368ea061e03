/*
 * A driver with a ctxop bug for the kctx editor tests: the save hook forgets to mark the guest
 * state unloaded, so the restore hook's VERIFY fails at the first switch back in.
 */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>
#include <sys/debug.h>

typedef struct pd_vcpu {
	int	pv_loaded;
	int	pv_saves;
} pd_vcpu_t;

static void
pd_savectx(void *arg)
{
	pd_vcpu_t *pv = arg;

	pv->pv_saves++;
}

static void
pd_restorectx(void *arg)
{
	pd_vcpu_t *pv = arg;

	VERIFY0(pv->pv_loaded);
	pv->pv_loaded = 1;
}

static const struct ctxop_template pd_ctxop_tpl = {
	.ct_rev		= CTXOP_TPL_REV,
	.ct_save	= pd_savectx,
	.ct_restore	= pd_restorectx,
};

void
pd_thread(void *arg)
{
	pd_vcpu_t *pv = kmem_zalloc(sizeof (pd_vcpu_t), KM_SLEEP);
	ctxop_t *ctx = ctxop_allocate(&pd_ctxop_tpl, pv);
	int i;

	kpreempt_disable();
	ctxop_attach(curthread, ctx);
	pv->pv_loaded = 1;
	kpreempt_enable();
	for (i = 0; i < 4; i++)
		delay(1);
	ctxop_detach(curthread, ctx);
	ctxop_free(ctx);
	kmem_free(pv, sizeof (pd_vcpu_t));
}
