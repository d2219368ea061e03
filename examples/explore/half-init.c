/*
 * A context op whose hooks run on half-initialised state.
 *
 * vm_thread() attaches its context op before it has finished setting up the state the op's
 * handlers check: vm_magic is stored only after the page tables are built. A switch in between
 * runs vm_save() and then vm_restore() on a vm_t whose vm_magic is still 0, and the DEBUG
 * kernel's ASSERT3U in vm_restore() fails. The attach belongs after the initialisation.
 * Ordinary runs switch only when a quantum expires, which never falls in the set-up.
 */
#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>
#include <sys/ddi.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#define	VM_MAGIC	0x766d6d00
#define	VM_NPT		24

typedef struct vm {
	uint32_t	vm_magic;
	uint64_t	vm_switches;
	uint64_t	vm_pt[VM_NPT];
	struct ctxop	*vm_ctx;
} vm_t;

static void
vm_save(void *arg)
{
	vm_t *vm = arg;

	vm->vm_switches++;
}

static void
vm_restore(void *arg)
{
	vm_t *vm = arg;

	ASSERT3U(vm->vm_magic, ==, VM_MAGIC);
	vm->vm_switches++;
}

static const struct ctxop_template vm_tpl = {
	.ct_rev		= CTXOP_TPL_REV,
	.ct_save	= vm_save,
	.ct_restore	= vm_restore,
};

static void
vm_build_tables(vm_t *vm)
{
	int i;

	for (i = 0; i < VM_NPT; i++)
		vm->vm_pt[i] = (uint64_t)i << 12 | 0x3;
}

void
vm_thread(void *arg)
{
	vm_t *vm = kmem_zalloc(sizeof (*vm), KM_SLEEP);
	int i;

	vm->vm_ctx = ctxop_allocate(&vm_tpl, vm);
	/* BUG: the handlers can run from here on; vm_magic is set below. */
	ctxop_attach(curthread, vm->vm_ctx);
	vm_build_tables(vm);
	vm->vm_magic = VM_MAGIC;

	for (i = 0; i < 120; i++)
		vm->vm_pt[i % VM_NPT] ^= 0x20;

	kpreempt_disable();
	ctxop_detach(curthread, vm->vm_ctx);
	kpreempt_enable();
	ctxop_free(vm->vm_ctx);
	kmem_free(vm, sizeof (*vm));
}
