/*
 * vmm.h: the vCPU state of the example bhyve-like driver.
 */
#ifndef _VMM_H
#define	_VMM_H

#include <sys/types.h>

/* vtc_status bits */
#define	VTCS_FPU_RESTORED	0x1	/* guest FPU state is loaded */
#define	VTCS_FPU_CTX_CRITICAL	0x2	/* in the FPU-critical part of VM_RUN */

#ifndef VMM_RUNS
#define	VMM_RUNS	3
#endif

/* The template revision this module was built with. */
#ifndef VMM_TPL_REV
#define	VMM_TPL_REV	CTXOP_TPL_REV
#endif

struct vcpu;

typedef struct vm_thread_ctx {
	struct vcpu	*vtc_vcpu;
	uint_t		vtc_status;
	uint64_t	vtc_saves;
	uint64_t	vtc_restores;
} vm_thread_ctx_t;

struct vcpu {
	int		vcpuid;
	struct ctxop	*ctxop;		/* allocated once, attached per VM_RUN */
	vm_thread_ctx_t	vtc;
	uint64_t	guest_fpu_saves;
	uint64_t	runs;
};

#endif	/* _VMM_H */
