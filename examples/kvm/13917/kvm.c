/*
 * The illumos-kvm vcpu_load()/vcpu_put() on the illumos#13917 interface (OS-8347): one
 * struct ctxop per vCPU, allocated from a template at creation, attached in vcpu_load()
 * and detached in vcpu_put() with preemption disabled, freed at destruction.
 */
#include "../kvm_common.h"

static const struct ctxop_template kvm_ctxop_tpl = {
	.ct_rev		= CTXOP_TPL_REV,
	.ct_save	= kvm_ctx_save,
	.ct_restore	= kvm_ctx_restore,
};

static struct kvm_vcpu *
kvm_vcpu_create(int id)
{
	struct kvm_vcpu *vcpu = kmem_zalloc(sizeof (struct kvm_vcpu), KM_SLEEP);

	vcpu->vcpu_id = id;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex, NULL, MUTEX_DRIVER, NULL);
	vcpu->ctxop = ctxop_allocate(&kvm_ctxop_tpl, vcpu);
	return (vcpu);
}

static void
vcpu_load(struct kvm_vcpu *vcpu)
{
	mutex_enter(&vcpu->mutex);
	kpreempt_disable();
	ctxop_attach(curthread, vcpu->ctxop);
	kvm_arch_vcpu_load(vcpu, CPU->cpu_id);
	kpreempt_enable();
}

static void
vcpu_put(struct kvm_vcpu *vcpu)
{
	kpreempt_disable();
	kvm_arch_vcpu_put(vcpu);
	ctxop_detach(curthread, vcpu->ctxop);
	kpreempt_enable();
	mutex_exit(&vcpu->mutex);
}

static void
kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	ctxop_free(vcpu->ctxop);
	mutex_destroy(&vcpu->mutex);
	kmem_free(vcpu, sizeof (struct kvm_vcpu));
}
