/*
 * The illumos-kvm vcpu_load()/vcpu_put() as built before illumos#13915: the 8-argument
 * installctx(), called inside kpreempt_disable() (OS-7080 moved it there to protect the
 * list insertion). installctx() allocates its struct ctxop with KM_SLEEP: under memory
 * pressure that blocks with preemption disabled, the voluntary swtch() that 13915 fixed.
 * Built against a pre-13915 kernel, this module passes only 8 arguments: run on a 13915
 * kernel, installctx() takes whatever is in the 9th argument slot as a preallocated ctxop.
 */
#include "../kvm_common.h"

static struct kvm_vcpu *
kvm_vcpu_create(int id)
{
	struct kvm_vcpu *vcpu = kmem_zalloc(sizeof (struct kvm_vcpu), KM_SLEEP);

	vcpu->vcpu_id = id;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex, NULL, MUTEX_DRIVER, NULL);
	return (vcpu);
}

static void
vcpu_load(struct kvm_vcpu *vcpu)
{
	mutex_enter(&vcpu->mutex);
	kpreempt_disable();
	installctx(curthread, vcpu, kvm_ctx_save, kvm_ctx_restore, NULL, NULL,
	    NULL, NULL);
	kvm_arch_vcpu_load(vcpu, CPU->cpu_id);
	kpreempt_enable();
}

static void
vcpu_put(struct kvm_vcpu *vcpu)
{
	kpreempt_disable();
	kvm_arch_vcpu_put(vcpu);
	(void) removectx(curthread, vcpu, kvm_ctx_save, kvm_ctx_restore, NULL,
	    NULL, NULL, NULL);
	kpreempt_enable();
	mutex_exit(&vcpu->mutex);
}

static void
kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	mutex_destroy(&vcpu->mutex);
	kmem_free(vcpu, sizeof (struct kvm_vcpu));
}
