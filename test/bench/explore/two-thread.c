/* The explore benchmark's driver: two threads with a context op each, about 4,000 steps in all. */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>

typedef struct bench {
	uint64_t	b_saves;
	uint64_t	b_acc[4];
	struct ctxop	*b_ctx;
} bench_t;

static void
bench_save(void *arg)
{
	bench_t *b = arg;

	b->b_saves++;
}

static void
bench_restore(void *arg)
{
	bench_t *b = arg;

	b->b_acc[0] ^= b->b_saves;
}

static const struct ctxop_template bench_tpl = {
	.ct_rev		= CTXOP_TPL_REV,
	.ct_save	= bench_save,
	.ct_restore	= bench_restore,
};

void
bench_thread(void *arg)
{
	bench_t *b = kmem_zalloc(sizeof (*b), KM_SLEEP);
	int i;

	b->b_ctx = ctxop_allocate(&bench_tpl, b);
	ctxop_attach(curthread, b->b_ctx);
	for (i = 0; i < 980; i++)
		b->b_acc[i & 3] += i;
	kpreempt_disable();
	ctxop_detach(curthread, b->b_ctx);
	kpreempt_enable();
	ctxop_free(b->b_ctx);
	kmem_free(b, sizeof (*b));
}
