/*
 * A race between ctxop_attach() and the assignment the save op reads.
 *
 * vcpu_run() attaches its context op first and allocates the FPU save area after: from the
 * attach on, any switch away runs vcpu_save(), which stores through v_fpu. A preemption in
 * that window (an interrupt between the two statements) makes vcpu_save() store through NULL:
 * a page fault in the save path. The quantum never expires there in an ordinary run, so
 * `kctx run` ends cleanly; `kctx explore` finds the window.
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
	int		v_id;
	uint64_t	*v_fpu;		/* save area: set after the attach (the bug) */
	uint64_t	v_regs[4];
	struct ctxop	*v_ctx;
} vcpu_t;

static void
vcpu_save(void *arg)
{
	vcpu_t *v = arg;

	v->v_fpu[0] = v->v_regs[0];
	v->v_fpu[1] = v->v_regs[1];
}

static void
vcpu_restore(void *arg)
{
	vcpu_t *v = arg;

	v->v_regs[0] = v->v_fpu[0];
	v->v_regs[1] = v->v_fpu[1];
}

static const struct ctxop_template vcpu_tpl = {
	.ct_rev		= CTXOP_TPL_REV,
	.ct_save	= vcpu_save,
	.ct_restore	= vcpu_restore,
};

static void
vcpu_run(vcpu_t *v, int loops)
{
	int i;

	v->v_ctx = ctxop_allocate(&vcpu_tpl, v);
	ctxop_attach(curthread, v->v_ctx);
	/* BUG: vcpu_save() may run from here on; v_fpu is still NULL. */
	v->v_fpu = kmem_zalloc(4 * sizeof (uint64_t), KM_SLEEP);

	for (i = 0; i < loops; i++)
		v->v_regs[i & 3] += i;

	kpreempt_disable();
	ctxop_detach(curthread, v->v_ctx);
	kpreempt_enable();
	ctxop_free(v->v_ctx);
	kmem_free(v->v_fpu, 4 * sizeof (uint64_t));
}

void
vcpu_thread(void *arg)
{
	vcpu_t *v = kmem_zalloc(sizeof (*v), KM_SLEEP);

	v->v_id = (int)(uintptr_t)arg;
	vcpu_run(v, 150);
	kmem_free(v, sizeof (*v));
}
