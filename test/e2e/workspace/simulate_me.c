/* No scenario beside this file: "Simulate this driver" writes one. */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/ctxop.h>

static void
counter_save(void *arg)
{
}

static void
counter_restore(void *arg)
{
}

static const struct ctxop_template counter_tpl = {
	.ct_rev		= CTXOP_TPL_REV,
	.ct_save	= counter_save,
	.ct_restore	= counter_restore,
};

void
counter_worker(void *arg)
{
	ctxop_t *ctx = ctxop_allocate(&counter_tpl, arg);

	ctxop_attach(curthread, ctx);
	ctxop_detach(curthread, ctx);
	ctxop_free(ctx);
}
