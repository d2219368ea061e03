/*
 * The illumos-kvm vcpu_load()/vcpu_put() after illumos#13915 (OS-8288): the struct ctxop is
 * preallocated with installctx_preallocate() while preemption is still enabled, and handed
 * to the 9-argument installctx() inside kpreempt_disable(), which then does not allocate.
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
	struct ctxop *ctx;

	mutex_enter(&vcpu->mutex);
	ctx = installctx_preallocate();
	kpreempt_disable();
	installctx(curthread, vcpu, kvm_ctx_save, kvm_ctx_restore, NULL, NULL,
	    NULL, NULL, ctx);
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
