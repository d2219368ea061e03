/**
 * The FreeBSD 14 kernel headers kctx ships to the C interpreter. Every known header resolves to
 * one generated text. What the module was built with (`"built": ["VIMAGE", "INVARIANTS"]`)
 * arrives as preprocessor definitions, as FreeBSD's generated `opt_global.h` does, so the same
 * text gives the two ABIs of net/vnet.h (reference §A.2):
 *
 * - with VIMAGE: `VNET_NAME(n)` is `vnet_entry_n`, `V_x` is an access through
 *   `curvnet->vnet_data_base`, VNET_SYSINIT registers through `vnet_register_sysinit()`,
 *   CURVNET_SET/RESTORE switch `curthread->td_vnet` (checked under INVARIANTS or VNET_DEBUG);
 * - without: `VNET_NAME(n)` is `n`, `V_x` is the plain global, VNET_SYSINIT is a plain SYSINIT,
 *   CURVNET_* are empty and `curvnet` is NULL.
 *
 * Two simulator-only calls stand in for inline code: `__kctx_vnet_ref()` returns its address
 * argument unchanged and records which instance an access resolved to (the trace diff and
 * ::whatis read it), and `__kctx_curvnet_set()`/`__kctx_curvnet_restore()` do the context
 * switch with the VNET_ASSERT checks (the caller's function name comes from its stack frame,
 * as `__func__` would). Each virtualized variable also gets a typedef `__kctx_vt_NAME` because
 * the interpreter has no `__typeof`.
 */
import { cDeclaration } from '../machine/layout';
import { VNET, TD, SYSINIT, VNET_SYSINIT, MTX, SI, VNET_MAGIC_N } from './layout';
import { VNET_MACROS, VNET_SETNAME, VNET_SYMPREFIX } from '../../core/vnet-abi';

/** The kernel symbols a VNET macro links against with VIMAGE (core/vnet-abi.ts). */
const sym = (macro: string): readonly string[] => VNET_MACROS.get(macro)!.vimage;
import { FREEBSD_KAPI_PROTOS as FREEBSD_KAPI } from './kapi';

export const FREEBSD_HEADERS = [
  'sys/param.h', 'sys/types.h', 'sys/systm.h', 'sys/kernel.h', 'sys/module.h', 'sys/malloc.h', 'sys/lock.h',
  'sys/mutex.h', 'sys/proc.h', 'sys/jail.h', 'sys/socket.h', 'sys/sysctl.h', 'sys/callout.h', 'sys/taskqueue.h',
  'sys/kthread.h', 'sys/errno.h', 'sys/queue.h', 'sys/linker_set.h', 'sys/pcpu.h', 'net/vnet.h', 'net/if.h',
  'net/if_var.h', 'netinet/in.h', 'netinet/ip_var.h', 'assert.h',
];

const HEADER_PATH = '<kctx>/freebsd/kctx_freebsd.h';

export function resolveFreebsdHeader(name: string): { path: string; text: string } | string {
  if (FREEBSD_HEADERS.includes(name)) return { path: HEADER_PATH, text: freebsdHeader() };
  return `<${name}> is not shipped by kctx for freebsd-14 (known: ${FREEBSD_HEADERS.map((h) => `<${h}>`).join(', ')})`;
}

let cached: string | null = null;

export function freebsdHeader(): string {
  if (cached) return cached;
  const L: string[] = [];
  L.push('/* kctx FreeBSD 14 kernel header (generated) */', '#ifndef _KCTX_FREEBSD_H', '#define _KCTX_FREEBSD_H');
  L.push(
    'typedef signed char int8_t;', 'typedef unsigned char uint8_t;', 'typedef short int16_t;', 'typedef unsigned short uint16_t;',
    'typedef int int32_t;', 'typedef unsigned int uint32_t;', 'typedef long int64_t;', 'typedef unsigned long uint64_t;',
    'typedef long intptr_t;', 'typedef unsigned long uintptr_t;', 'typedef long intmax_t;', 'typedef unsigned long uintmax_t;',
    'typedef unsigned char u_char;', 'typedef unsigned short u_short;', 'typedef unsigned int u_int;', 'typedef unsigned long u_long;',
    'typedef unsigned char u_int8_t;', 'typedef unsigned short u_int16_t;', 'typedef unsigned int u_int32_t;', 'typedef unsigned long u_int64_t;',
    'typedef unsigned long size_t;', 'typedef long ssize_t;', 'typedef long off_t;', 'typedef int lwpid_t;', 'typedef char *caddr_t;',
    'typedef unsigned char bool;', 'typedef void (*sysinit_cfunc_t)(const void *);', 'typedef void (*sysinit_nfunc_t)(void *);',
    '#define NULL ((void *)0)', '#define true 1', '#define false 0',
    '#define __unused', '#define __used', '#define __predict_false(x) (x)', '#define __predict_true(x) (x)',
    '#define EPERM 1', '#define ENOENT 2', '#define EINTR 4', '#define EIO 5', '#define ENXIO 6', '#define ENOMEM 12',
    '#define EFAULT 14', '#define EBUSY 16', '#define EEXIST 17', '#define ENODEV 19', '#define EINVAL 22', '#define ENOSPC 28',
    '#define EAGAIN 35', '#define EOPNOTSUPP 45',
  );
  L.push(cDeclaration(VNET), cDeclaration(TD), cDeclaration(SYSINIT), cDeclaration(VNET_SYSINIT), cDeclaration(MTX));
  L.push(`#define VNET_MAGIC_N 0x${VNET_MAGIC_N.toString(16)}`);
  for (const [k, v] of Object.entries(SI)) L.push(`#define ${k} 0x${v.toString(16)}`);
  for (const p of FREEBSD_KAPI) L.push(`extern ${p}`);
  L.push(
    'extern struct thread *__kctx_curthread(void);',
    '#define curthread (__kctx_curthread())',
    '#define MTX_DEF 0x0', '#define MTX_SPIN 0x1', '#define MTX_RECURSE 0x4',
    '#define MA_OWNED 0x1', '#define MA_NOTOWNED 0x0',
    '#ifdef INVARIANTS',
    '#define KASSERT(exp, msg) do { if (__predict_false(!(exp))) kassert_panic msg; } while (0)',
    '#define mtx_assert(m, what) __kctx_mtx_assert((m), (what), __FILE__, __LINE__)',
    '#else',
    '#define KASSERT(exp, msg) do { } while (0)',
    '#define mtx_assert(m, what) do { } while (0)',
    '#endif',
    '#define MPASS(ex) KASSERT((ex), ("Assertion %s failed at %s:%d", #ex, __FILE__, __LINE__))',
    '#define CTASSERT(x) typedef char __kctx_ctassert[(x) ? 1 : -1]',
    // <assert.h> for Minix-style code: live on DEBUG/INVARIANTS builds, gone with NDEBUG or without them.
    '#if !defined(NDEBUG) && (defined(DEBUG) || defined(INVARIANTS))',
    '#define assert(e) ((e) ? (void)0 : __assert(__func__, __FILE__, __LINE__, #e))',
    '#else',
    '#define assert(e) ((void)0)',
    '#endif',
    '#define __func__ __kctx_func()',
    // Linker sets: SYSINIT/SYSUNINIT records the kernel linker finds by name.
    '#define SYSINIT(uniq, subsystem, order, func, ident) \\',
    '\tstatic struct sysinit uniq##_sys_init = { subsystem, order, (void (*)(void *))(func), (const void *)(ident) }',
    '#define SYSUNINIT(uniq, subsystem, order, func, ident) \\',
    '\tstatic struct sysinit uniq##_sys_uninit = { subsystem, order, (void (*)(void *))(func), (const void *)(ident) }',
    '#define MODULE_VERSION(module, version) static int __kctx_modver_##module = version',
    '#define MODULE_DEPEND(a, b, c, d, e)',
    '#define MALLOC_DEFINE(type, shortdesc, longdesc) static const char *type = shortdesc',
    '#define MALLOC_DECLARE(type)',
    '#define M_NOWAIT 0x0001', '#define M_WAITOK 0x0002', '#define M_ZERO 0x0100',
  );
  // net/vnet.h, both ABIs (reference §A.2).
  L.push(
    `#define VNET_SETNAME "${VNET_SETNAME}"`, `#define VNET_SYMPREFIX "${VNET_SYMPREFIX}"`,
    '#ifdef VIMAGE',
    '#define curvnet (curthread->td_vnet)',
    `#define VNET_NAME(n) ${VNET_SYMPREFIX}##n`,
    '#define VNET_DECLARE(t, n) typedef t __kctx_vt_##n; extern t VNET_NAME(n)',
    '#define VNET_DEFINE(t, n) struct _hack; typedef t __kctx_vt_##n; t VNET_NAME(n)',
    '#define VNET_DEFINE_STATIC(t, n) typedef t __kctx_vt_##n; static t VNET_NAME(n)',
    '#define VNET_VNET_PTR(vnet, n) ((__kctx_vt_##n *)__kctx_vnet_ref((void *)((vnet)->vnet_data_base + (uintptr_t)&VNET_NAME(n)), #n))',
    '#define VNET_VNET(vnet, n) (*VNET_VNET_PTR((vnet), n))',
    '#define VNET_PTR(n) VNET_VNET_PTR(curvnet, n)',
    '#define VNET(n) VNET_VNET(curvnet, n)',
    'extern struct vnet *vnet0;',
    `#define IS_DEFAULT_VNET(arg) ((arg) == ${sym('IS_DEFAULT_VNET')[0]})`,
    '#if defined(INVARIANTS) || defined(VNET_DEBUG)',
    '#define VNET_ASSERT(exp, msg) do { if (!(exp)) panic msg; } while (0)',
    '#define __KCTX_VNET_CHECKS 1',
    '#else',
    '#define VNET_ASSERT(exp, msg) do { } while (0)',
    '#define __KCTX_VNET_CHECKS 0',
    '#endif',
    '#ifdef VNET_DEBUG',
    '#define __KCTX_VNET_VERBOSE 2',
    'extern void vnet_log_recursion(struct vnet *, const char *, int);',
    '#else',
    '#define __KCTX_VNET_VERBOSE 0',
    '#endif',
    '#define CURVNET_SET_QUIET(arg) struct vnet *saved_vnet = __kctx_curvnet_set((arg), __FILE__, __LINE__, __KCTX_VNET_CHECKS)',
    '#define CURVNET_SET_VERBOSE(arg) struct vnet *saved_vnet = __kctx_curvnet_set((arg), __FILE__, __LINE__, __KCTX_VNET_CHECKS | __KCTX_VNET_VERBOSE)',
    '#define CURVNET_SET(arg) CURVNET_SET_VERBOSE(arg)',
    '#define CURVNET_RESTORE() __kctx_curvnet_restore(saved_vnet, __FILE__, __LINE__, __KCTX_VNET_CHECKS)',
    '#define CURVNET_ASSERT_SET() VNET_ASSERT(curvnet != NULL, ("vnet is not set at %s:%d %s()", __FILE__, __LINE__, __func__))',
    '#define VNET_ITERATOR_DECL(arg) struct vnet *arg',
    '#define VNET_FOREACH(arg) for ((arg) = __kctx_vnet_first(); (arg) != NULL; (arg) = (arg)->vnet_le_next)',
    '#define VNET_LIST_RLOCK()', '#define VNET_LIST_RUNLOCK()', '#define VNET_LIST_RLOCK_NOSLEEP()', '#define VNET_LIST_RUNLOCK_NOSLEEP()',
    'extern struct vnet *__kctx_vnet_first(void);',
    ...[...sym('VNET_SYSINIT'), ...sym('VNET_SYSUNINIT')].map((f) => `extern void ${f}(void *);`),
    '#define VNET_SYSINIT(ident, subsystem, order, func, arg) \\',
    '\tCTASSERT((subsystem) > SI_SUB_VNET && (subsystem) <= SI_SUB_VNET_DONE); \\',
    '\tstatic struct vnet_sysinit ident##_vnet_init = { subsystem, order, (void (*)(const void *))(func), (arg) }; \\',
    `\tSYSINIT(vnet_init_##ident, subsystem, order, ${sym('VNET_SYSINIT')[0]}, &ident##_vnet_init); \\`,
    `\tSYSUNINIT(vnet_init_##ident, subsystem, order, ${sym('VNET_SYSINIT')[1]}, &ident##_vnet_init)`,
    '#define VNET_SYSUNINIT(ident, subsystem, order, func, arg) \\',
    '\tCTASSERT((subsystem) > SI_SUB_VNET && (subsystem) <= SI_SUB_VNET_DONE); \\',
    '\tstatic struct vnet_sysinit ident##_vnet_uninit = { subsystem, order, (void (*)(const void *))(func), (arg) }; \\',
    `\tSYSINIT(vnet_uninit_##ident, subsystem, order, ${sym('VNET_SYSUNINIT')[0]}, &ident##_vnet_uninit); \\`,
    `\tSYSUNINIT(vnet_uninit_##ident, subsystem, order, ${sym('VNET_SYSUNINIT')[1]}, &ident##_vnet_uninit)`,
    '#else',
    '#define curvnet ((struct vnet *)NULL)',
    '#define VNET_NAME(n) n',
    '#define VNET_DECLARE(t, n) typedef t __kctx_vt_##n; extern t n',
    '#define VNET_DEFINE(t, n) struct _hack; typedef t __kctx_vt_##n; t n',
    '#define VNET_DEFINE_STATIC(t, n) typedef t __kctx_vt_##n; static t n',
    '#define VNET_VNET_PTR(vnet, n) ((__kctx_vt_##n *)__kctx_vnet_ref((void *)&(n), #n))',
    '#define VNET_VNET(vnet, n) (*VNET_VNET_PTR((vnet), n))',
    '#define VNET_PTR(n) VNET_VNET_PTR(NULL, n)',
    '#define VNET(n) VNET_VNET(NULL, n)',
    '#define IS_DEFAULT_VNET(arg) 1',
    '#define VNET_ASSERT(exp, msg)',
    '#define CURVNET_SET(arg)', '#define CURVNET_SET_QUIET(arg)', '#define CURVNET_SET_VERBOSE(arg)',
    '#define CURVNET_RESTORE()', '#define CURVNET_ASSERT_SET()',
    '#define VNET_ITERATOR_DECL(arg)',
    '#define VNET_FOREACH(arg) for (int _vn = 0; _vn == 0; _vn++)',
    '#define VNET_LIST_RLOCK()', '#define VNET_LIST_RUNLOCK()', '#define VNET_LIST_RLOCK_NOSLEEP()', '#define VNET_LIST_RUNLOCK_NOSLEEP()',
    '#define VNET_SYSINIT(ident, subsystem, order, func, arg) SYSINIT(ident, subsystem, order, func, arg)',
    '#define VNET_SYSUNINIT(ident, subsystem, order, func, arg) SYSUNINIT(ident, subsystem, order, func, arg)',
    '#endif',
    // A kernel virtualized variable (netinet/ip_var.h) and a kernel function that needs curvnet (net/if.h).
    'VNET_DECLARE(int, ip_defttl);', '#define V_ip_defttl VNET(ip_defttl)',
    'struct ifnet;', 'extern struct ifnet *ifunit(const char *);',
  );
  L.push('#endif');
  cached = L.join('\n') + '\n';
  return cached;
}
