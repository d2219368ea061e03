/*
 * Written for kernels before illumos#13917: the positional installctx() API, which a 13917
 * kernel no longer has (the workspace sets kctx.kernelEra to 13917).
 */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/ctxop.h>

static void
fpu_demo_save(void *arg)
{
}

static void
fpu_demo_restore(void *arg)
{
}

void
fpu_demo_attach(kthread_t *t, void *arg)
{
	installctx(t, arg, fpu_demo_save, fpu_demo_restore, NULL, NULL, NULL, NULL);
}
