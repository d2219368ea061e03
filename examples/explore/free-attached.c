/*
 * A free while the context op is still attached.
 *
 * The vcpu thread runs, then marks itself done and only then detaches its context op. The
 * teardown thread waits for "done" and frees the vcpu. If the vcpu thread is preempted between
 * the store of v_done and ctxop_detach(), the teardown thread frees the vcpu while its op is
 * still on the vcpu thread's ring: when the vcpu thread comes back, vcpu_restore() reads freed
 * memory (0xdeadbeef...) as the save-area pointer and faults. The right order is detach first,
 * then publish done. Ordinary runs switch only when a quantum expires, never in that window.
 */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>
#include <sys/ddi.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

typedef struct vcpu {
	uint64_t	*v_fpu;
	uint64_t	v_regs[2];
	struct ctxop	*v_ctx;
	volatile int	v_done;
} vcpu_t;

static vcpu_t *vcpu;
static uint64_t vcpu_fpu[2];

static void
vcpu_save(void *arg)
{
	vcpu_t *v = arg;

	v->v_fpu[0] = v->v_regs[0];
}

static void
vcpu_restore(void *arg)
{
	vcpu_t *v = arg;

	v->v_regs[0] = v->v_fpu[0];
}

static const struct ctxop_template vcpu_tpl = {
	.ct_rev		= CTXOP_TPL_REV,
	.ct_save	= vcpu_save,
	.ct_restore	= vcpu_restore,
};

void
vcpu_thread(void *arg)
{
	vcpu_t *v = vcpu;
	struct ctxop *ctx;
	int i;

	ctx = ctxop_allocate(&vcpu_tpl, v);
	v->v_ctx = ctx;
	ctxop_attach(curthread, ctx);
	for (i = 0; i < 120; i++)
		v->v_regs[i & 1] += i;
	/* BUG: published before the op is detached; the teardown may free v now. */
	v->v_done = 1;
	ctxop_detach(curthread, ctx);
	ctxop_free(ctx);
}

void
teardown_thread(void *arg)
{
	while (vcpu->v_done == 0)
		delay(1);
	kmem_free(vcpu, sizeof (vcpu_t));
	vcpu = NULL;
}

void
setup_thread(void *arg)
{
	vcpu = kmem_zalloc(sizeof (vcpu_t), KM_SLEEP);
	vcpu->v_fpu = vcpu_fpu;
	(void) thread_create(NULL, 0, vcpu_thread, NULL, 0, &p0, TS_RUN, minclsyspri);
	(void) thread_create(NULL, 0, teardown_thread, NULL, 0, &p0, TS_RUN, minclsyspri);
}
