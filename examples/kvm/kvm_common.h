/*
 * kvm_common.h: the vCPU of the example illumos-kvm-like driver, shared by the three versions
 * (pre13915/, 13915/, 13917/). vcpu_load() puts the vCPU on the current CPU and registers
 * context ops so a context switch takes it off (kvm_ctx_save) and puts it back
 * (kvm_ctx_restore); vcpu_put() undoes both.
 */
#ifndef _KVM_COMMON_H
#define	_KVM_COMMON_H

#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>
#include <sys/ddi.h>
#include <sys/ksynch.h>
#include <sys/cmn_err.h>
#include <sys/debug.h>

#ifndef KVM_RUNS
#define	KVM_RUNS	3
#endif

struct kvm_vcpu {
	int		vcpu_id;
	int		cpu;		/* CPU the vCPU state is loaded on, or -1 */
	int		loaded;
	kmutex_t	mutex;
	struct ctxop	*ctxop;		/* 13917: allocated at vCPU creation */
	uint64_t	loads;
	uint64_t	puts;
	uint64_t	runs;
};

/* Load the vCPU's state (VMCS, MSRs) on this CPU. */
static void
kvm_arch_vcpu_load(struct kvm_vcpu *vcpu, int cpu)
{
	VERIFY(!vcpu->loaded);
	vcpu->loaded = 1;
	vcpu->cpu = cpu;
	vcpu->loads++;
}

/* Take the vCPU's state off the CPU. */
static void
kvm_arch_vcpu_put(struct kvm_vcpu *vcpu)
{
	VERIFY(vcpu->loaded);
	vcpu->loaded = 0;
	vcpu->cpu = -1;
	vcpu->puts++;
}

static void
kvm_ctx_save(void *arg)
{
	kvm_arch_vcpu_put(arg);
}

static void
kvm_ctx_restore(void *arg)
{
	kvm_arch_vcpu_load(arg, CPU->cpu_id);
}

static void vcpu_load(struct kvm_vcpu *);
static void vcpu_put(struct kvm_vcpu *);
static struct kvm_vcpu *kvm_vcpu_create(int);
static void kvm_vcpu_destroy(struct kvm_vcpu *);

/* The KVM_RUN ioctl loop of one vCPU thread. */
void
kvm_vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = kvm_vcpu_create((int)(uintptr_t)arg);
	int i;

	for (i = 0; i < KVM_RUNS; i++) {
		vcpu_load(vcpu);
		drv_usecwait(15000);	/* the guest runs */
		vcpu->runs++;
		vcpu_put(vcpu);
	}
	cmn_err(CE_NOTE, "kvm: vcpu%d: %d runs, %d loads, %d puts", vcpu->vcpu_id,
	    (int)vcpu->runs, (int)vcpu->loads, (int)vcpu->puts);
	kvm_vcpu_destroy(vcpu);
}

#endif	/* _KVM_COMMON_H */
