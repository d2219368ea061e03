/*
 * bsf: the Minix VFS lessons as a small module.
 *
 * check_bsf_lock() is Minix's e35c4f78 bug: the trylock lives inside assert(), so a build
 * without asserts (NDEBUG, or no DEBUG) never takes the lock and unlock_bsf() unlocks a mutex
 * nobody holds. Run it with and without asserts: kctx diff bsf.ksim.json --no-asserts.
 *
 * vfs_worker() and gc_worker() take the vmnt and vnode locks in opposite orders at different
 * times: nothing hangs in this run, but the lock-order graph reports the potential deadlock.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <assert.h>
#include "minix_compat.h"

static mutex_t bsf_lock;
static mutex_t vmnt_lock;
static mutex_t vnode_lock;

static void
unlock_bsf(void)
{
	if (mutex_unlock(&bsf_lock) != 0)
		panic("failed to unlock block special file lock");
}

#define check_bsf_lock() do { assert(mutex_trylock(&bsf_lock) == 0); unlock_bsf(); } while (0)

void
bsf_worker(void *arg)
{
	mtx_init(&bsf_lock, "bsf_lock", NULL, MTX_DEF);
	mtx_init(&vmnt_lock, "vmnt_lock", NULL, MTX_DEF);
	mtx_init(&vnode_lock, "vnode_lock", NULL, MTX_DEF);
	check_bsf_lock();
	printf("bsf: block special file lock is free\n");
}

void
vfs_worker(void *arg)
{
	mtx_lock(&vmnt_lock);
	mtx_lock(&vnode_lock);
	mtx_unlock(&vnode_lock);
	mtx_unlock(&vmnt_lock);
}

void
gc_worker(void *arg)
{
	mtx_lock(&vnode_lock);
	mtx_lock(&vmnt_lock);
	mtx_unlock(&vmnt_lock);
	mtx_unlock(&vnode_lock);
}
