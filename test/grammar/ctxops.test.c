// SYNTAX TEST "source.c" "ctxop API injection"

    installctx(t, v, vmm_savectx, vmm_restorectx, NULL, NULL, NULL, NULL, NULL);
//  ^^^^^^^^^^ support.function.ctxop.legacy.kctx

    ctx = ctxop_allocate(&vmm_ctxop_tpl, vcpu);
//        ^^^^^^^^^^^^^^ support.function.ctxop.kctx
    ctxop_attach(curthread, ctx);
//  ^^^^^^^^^^^^ support.function.ctxop.kctx

    kpreempt_disable();
//  ^^^^^^^^^^^^^^^^ support.function.kpreempt.kctx
    buf = kmem_alloc(64, KM_SLEEP);
//                       ^^^^^^^^ constant.language.kmflag.sleep.kctx
    buf = kmem_alloc(64, KM_NOSLEEP);
//                       ^^^^^^^^^^ constant.language.kmflag.kctx
    kpreempt_enable();
//  ^^^^^^^^^^^^^^^ support.function.kpreempt.kctx

static const struct ctxop_template vmm_ctxop_tpl = {
//                  ^^^^^^^^^^^^^^ support.type.ctxop.kctx
    .ct_rev = CTXOP_TPL_REV,
//   ^^^^^^ variable.other.member.ctxop.kctx
//            ^^^^^^^^^^^^^ constant.language.ctxop.kctx
};

    /* installctx() is gone: KM_SLEEP here is just a word */
//     ^^^^^^^^^^ - support.function.ctxop.legacy.kctx
//                           ^^^^^^^^ - constant.language.kmflag.sleep.kctx
    msg = "kpreempt_disable() KM_SLEEP";
//         ^^^^^^^^^^^^^^^^ - support.function.kpreempt.kctx
//                            ^^^^^^^^ - constant.language.kmflag.sleep.kctx
    my_installctx(x);
//  ^^^^^^^^^^^^^ - support.function.ctxop.legacy.kctx
