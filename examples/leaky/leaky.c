/*
 * A driver that leaks its context ops: each session allocates a ctxop from a template,
 * attaches it, and on the way out only detaches it. ctxop_detach() neither calls the free
 * op nor frees the struct ctxop, so every session leaves a kmem_alloc_96 buffer (and the
 * session state it points to) behind. ::findleaks finds them, allocated by ctxop_allocate.
 */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>
#include <sys/ddi.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

typedef struct leaky_session {
	int		ls_id;
	uint64_t	ls_switches;
	struct ctxop	*ls_ctx;
} leaky_session_t;

static void
leaky_save(void *arg)
{
	leaky_session_t *ls = arg;

	ls->ls_switches++;
}

static void
leaky_restore(void *arg)
{
	leaky_session_t *ls = arg;

	ls->ls_switches++;
}

static void
leaky_free(void *arg, int isexec)
{
	leaky_session_t *ls = arg;

	kmem_free(ls, sizeof (*ls));
}

static const struct ctxop_template leaky_tpl = {
	.ct_rev		= CTXOP_TPL_REV,
	.ct_save	= leaky_save,
	.ct_restore	= leaky_restore,
	.ct_free	= leaky_free,
};

static void
leaky_session(int id)
{
	leaky_session_t *ls = kmem_zalloc(sizeof (*ls), KM_SLEEP);

	ls->ls_id = id;
	ls->ls_ctx = ctxop_allocate(&leaky_tpl, ls);
	ctxop_attach(curthread, ls->ls_ctx);
	drv_usecwait(25000);
	kpreempt_disable();
	ctxop_detach(curthread, ls->ls_ctx);
	kpreempt_enable();
	/* BUG: missing ctxop_free(ls->ls_ctx), which would call leaky_free(ls, 0). */
}

void
leaky_thread(void *arg)
{
	int i;

	for (i = 0; i < 2; i++)
		leaky_session((int)(uintptr_t)arg * 10 + i);
}
