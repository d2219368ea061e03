/**
 * The kernel headers kctx ships to the C interpreter. `#include <sys/...>` of any known kernel
 * header resolves to one generated header for the era the driver was compiled against
 * (`builtFor`): the integer typedefs of the kernel, the structures of layout.ts (so the
 * interpreter computes the same offsets as the simulator), the KAPI prototypes, the era's
 * context-op prototypes (8-argument installctx/removectx before 13915, the 9-argument
 * installctx and installctx_preallocate in 13915, the ctxop_* family and struct ctxop_template
 * in 13917) and the usual macros (curthread, CPU, ASSERT/VERIFY family, KM_*, CE_*, ...).
 * `<sys/varargs.h>` and `<stdarg.h>` resolve to a second, era-independent header: `va_list` and
 * the va_* macros (cinterp/varargs.ts); the kernel header has `__va_list` and the v* functions
 * of sys/cmn_err.h (vcmn_err, vpanic, vsnprintf, vsprintf), as illumos's does, and the memory and
 * string functions of sys/systm.h and sys/sunddi.h (abi/kstring.ts).
 */
import { ERAS, type EraId } from './eras';
import { KAPI, KAPI_VARARGS } from './kapi';
import { KAPI_STRINGS } from './kstring';
import { KAPI_SOFTSTATE } from './ksoftstate';
import { KTHREAD, CPU, KLWP, PROC, PID, USER, CTXOP_TEMPLATE, MUTEX_LAYOUT, CONDVAR_LAYOUT, SC_SHARED, cDeclaration, TS_FREE, TS_SLEEP, TS_RUN, TS_ONPROC, TS_ZOMB, TS_STOPPED, TS_WAIT, T_KFPU } from '../machine/layout';
import { CTXOP_TPL_REV } from './ctxops';

/** Kernel headers a driver may include; all resolve to the generated header. */
export const KERNEL_HEADERS = [
  'sys/types.h', 'sys/param.h', 'sys/thread.h', 'sys/proc.h', 'sys/disp.h', 'sys/kmem.h', 'sys/ddi.h', 'sys/sunddi.h',
  'sys/cmn_err.h', 'sys/debug.h', 'sys/systm.h', 'sys/cpuvar.h', 'sys/klwp.h', 'sys/mutex.h', 'sys/ksynch.h',
  'sys/condvar.h', 'sys/time.h', 'sys/conf.h', 'sys/modctl.h', 'sys/errno.h', 'sys/sysmacros.h', 'sys/inttypes.h',
  'sys/int_types.h', 'sys/stdbool.h', 'sys/stddef.h', 'sys/sdt.h', 'sys/atomic.h', 'sys/cpu.h', 'sys/lwp.h',
  'sys/schedctl.h', 'sys/fp.h', 'sys/archsystm.h', 'sys/stat.h', 'sys/file.h', 'sys/open.h', 'sys/cred.h',
  'sys/note.h', 'sys/ccompile.h', 'sys/kstat.h', 'sys/policy.h', 'sys/va_list.h',
];

/** Headers that give `va_list` and the va_* macros (illumos drivers use <sys/varargs.h>). */
export const VARARGS_HEADERS = ['sys/varargs.h', 'stdarg.h'];

const HEADER_PATH = '<kctx>/sys/kctx_kernel.h';
const VARARGS_PATH = '<kctx>/sys/varargs.h';

/**
 * <sys/varargs.h> as illumos has it (through <sys/va_impl.h>), over the interpreter's builtins
 * (cinterp/varargs.ts). va_arg's type goes into a cast so that every type name parses as C.
 */
export const VARARGS_HEADER = [
  '/* kctx <sys/varargs.h> (generated) */',
  '#ifndef _SYS_VARARGS_H',
  '#define _SYS_VARARGS_H',
  'typedef __builtin_va_list va_list;',
  '#define __va_start(list, name) __builtin_va_start(list, name)',
  '#define __va_arg(list, type) __builtin_va_arg(list, type)',
  '#define __va_copy(to, from) __builtin_va_copy(to, from)',
  '#define __va_end(list) __builtin_va_end(list)',
  '#define va_start(list, name) __va_start(list, name)',
  '#define va_arg(list, type) __va_arg(list, type)',
  '#define va_copy(to, from) __va_copy(to, from)',
  '#define va_end(list) __va_end(list)',
  '#endif',
  '',
].join('\n');

/** Resolves `<name>`: the generated header for the era, or why not. */
export function resolveSystemHeader(name: string, builtFor: EraId): { path: string; text: string } | string {
  if (KERNEL_HEADERS.includes(name)) return { path: HEADER_PATH, text: kernelHeader(builtFor) };
  if (VARARGS_HEADERS.includes(name)) return { path: VARARGS_PATH, text: VARARGS_HEADER };
  if (name.startsWith('sys/')) {
    return `kernel header <${name}> is not shipped by kctx (known: ${[...KERNEL_HEADERS, 'sys/varargs.h'].map((h) => `<${h}>`).join(', ')}); set "gate" to an illumos-gate checkout to build with its real headers`;
  }
  return `<${name}> is not a kernel header: driver code runs in the kernel and may include only <sys/...> headers, <stdarg.h> and its own`;
}

/** The text of a shipped header by its path (`<kctx>/...`), as resolveSystemHeader gives it; undefined for other paths. */
export function shippedHeaderText(path: string, builtFor: EraId): string | undefined {
  if (path === HEADER_PATH) return kernelHeader(builtFor);
  if (path === VARARGS_PATH) return VARARGS_HEADER;
  return undefined;
}

const cache = new Map<EraId, string>();

export function kernelHeader(eraId: EraId): string {
  const hit = cache.get(eraId);
  if (hit) return hit;
  const era = ERAS[eraId];
  const L: string[] = [];
  L.push(`/* kctx kernel header for ${eraId} (generated) */`);
  L.push('#ifndef _KCTX_KERNEL_H', '#define _KCTX_KERNEL_H');
  L.push(
    'typedef signed char int8_t;', 'typedef unsigned char uint8_t;', 'typedef short int16_t;', 'typedef unsigned short uint16_t;',
    'typedef int int32_t;', 'typedef unsigned int uint32_t;', 'typedef long int64_t;', 'typedef unsigned long uint64_t;',
    'typedef long intptr_t;', 'typedef unsigned long uintptr_t;', 'typedef long intmax_t;', 'typedef unsigned long uintmax_t;',
    'typedef unsigned char uchar_t;', 'typedef unsigned short ushort_t;', 'typedef unsigned int uint_t;', 'typedef unsigned long ulong_t;',
    'typedef unsigned char u_char;', 'typedef unsigned short u_short;', 'typedef unsigned int u_int;', 'typedef unsigned long u_long;',
    'typedef long long longlong_t;', 'typedef unsigned long long u_longlong_t;',
    'typedef unsigned long size_t;', 'typedef long ssize_t;', 'typedef long ptrdiff_t;', 'typedef long off_t;',
    'typedef longlong_t hrtime_t;', 'typedef long clock_t;', 'typedef long time_t;', 'typedef int id_t;', 'typedef int pid_t;',
    'typedef int processorid_t;', 'typedef short pri_t;', 'typedef char *caddr_t;', 'typedef unsigned long dev_t;',
    'typedef unsigned int major_t;', 'typedef unsigned int minor_t;', 'typedef unsigned int uid_t;', 'typedef unsigned int gid_t;',
    'typedef int ddi_attach_cmd_t;', 'typedef void *dev_info_t_ptr;', 'typedef unsigned char bool;',
    // sys/va_list.h: the type of the v* functions' last argument (va_list itself: sys/varargs.h).
    'typedef __builtin_va_list __va_list;',
    'typedef enum { B_FALSE = 0, B_TRUE = 1 } boolean_t;',
    'typedef enum { MUTEX_ADAPTIVE = 0, MUTEX_SPIN = 1, MUTEX_DRIVER = 4, MUTEX_DEFAULT = 6 } kmutex_type_t;',
    'typedef enum { CV_DEFAULT = 0, CV_DRIVER = 1 } kcv_type_t;',
    'struct proc;', 'struct cred;', 'typedef struct cred cred_t;',
    'struct dev_info;', 'typedef struct dev_info dev_info_t;',
    'struct _kthread;', 'struct cpu;', 'struct _klwp;',
  );
  L.push(cDeclaration(MUTEX_LAYOUT), cDeclaration(CONDVAR_LAYOUT));
  L.push(cDeclaration(era.ctxopLayout));
  L.push(cDeclaration(KTHREAD), 'typedef kthread_t *kthread_id_t;', cDeclaration(CPU), cDeclaration(KLWP), cDeclaration(SC_SHARED));
  L.push(cDeclaration(USER), cDeclaration(PID), cDeclaration(PROC));
  if (era.hasTemplates) L.push(`#define CTXOP_TPL_REV ${CTXOP_TPL_REV}`, cDeclaration(CTXOP_TEMPLATE));
  L.push('extern proc_t p0;', 'extern int hz;');
  for (const k of KAPI) L.push(`extern ${k.proto}`);
  for (const k of KAPI_VARARGS) L.push(`extern ${k.proto}`);
  for (const k of KAPI_STRINGS) L.push(`extern ${k.proto}`);
  for (const k of KAPI_SOFTSTATE) L.push(`extern ${k.proto}`);
  // The era's context-op interface (reference §3; Era A/B/C use unprototyped handler pointers).
  if (era.installctxArity === 8) {
    L.push('extern void installctx(kthread_t *, void *, void (*)(), void (*)(), void (*)(), void (*)(), void (*)(), void (*)());');
  } else if (era.installctxArity === 9) {
    L.push('extern struct ctxop *installctx_preallocate(void);');
    L.push('extern void installctx(kthread_t *, void *, void (*)(), void (*)(), void (*)(), void (*)(), void (*)(), void (*)(), struct ctxop *);');
  }
  if (era.installctxArity) {
    L.push('extern int removectx(kthread_t *, void *, void (*)(), void (*)(), void (*)(), void (*)(), void (*)(), void (*)());');
  }
  if (era.hasTemplates) {
    L.push(
      'extern struct ctxop *ctxop_allocate(const struct ctxop_template *, void *);',
      'extern void ctxop_free(struct ctxop *);',
      'extern void ctxop_attach(kthread_t *, struct ctxop *);',
      'extern void ctxop_detach(kthread_t *, struct ctxop *);',
      'extern void ctxop_install(kthread_t *, const struct ctxop_template *, void *);',
      'extern int ctxop_remove(kthread_t *, const struct ctxop_template *, void *);',
    );
  }
  L.push(
    'extern void savectx(kthread_t *);', 'extern void restorectx(kthread_t *);', 'extern void forkctx(kthread_t *, kthread_t *);',
    'extern void lwp_createctx(kthread_t *, kthread_t *);', 'extern void exitctx(kthread_t *);', 'extern void freectx(kthread_t *, int);',
  );
  L.push(
    '#define NULL ((void *)0)',
    '#define curthread (threadp())',
    '#define CPU (curcpup())',
    '#define curproc (threadp()->t_procp)',
    '#define ttolwp(t) ((t)->t_lwp)',
    '#define lwptot(lwp) ((lwp)->lwp_thread)',
    '#define KM_SLEEP 0x0000', '#define KM_NOSLEEP 0x0001', '#define KM_PANIC 0x0002', '#define KM_PUSHPAGE 0x0004', '#define KM_NORMALPRI 0x0008',
    '#define CE_CONT 0', '#define CE_NOTE 1', '#define CE_WARN 2', '#define CE_PANIC 3', '#define CE_IGNORE 4',
    `#define TS_FREE ${TS_FREE}`, `#define TS_SLEEP ${TS_SLEEP}`, `#define TS_RUN ${TS_RUN}`, `#define TS_ONPROC ${TS_ONPROC}`,
    `#define TS_ZOMB ${TS_ZOMB}`, `#define TS_STOPPED ${TS_STOPPED}`, `#define TS_WAIT ${TS_WAIT}`, `#define T_KFPU 0x${T_KFPU.toString(16)}`,
    '#define minclsyspri 60', '#define maxclsyspri 99', '#define HZ 100',
    '#define NANOSEC 1000000000LL', '#define MICROSEC 1000000LL', '#define MILLISEC 1000',
    '#define drv_usectohz(us) ((clock_t)(((us) + 9999) / 10000))', '#define drv_hztousec(t) ((clock_t)(t) * 10000)',
    '#define MSEC_TO_TICK(ms) ((clock_t)(((ms) + 9) / 10))', '#define SEC_TO_TICK(s) ((clock_t)(s) * 100)',
    '#define MIN(a, b) ((a) < (b) ? (a) : (b))', '#define MAX(a, b) ((a) < (b) ? (b) : (a))',
    '#define ARRAY_SIZE(x) (sizeof (x) / sizeof ((x)[0]))',
    '#define P2ROUNDUP(x, align) (-(-(x) & -(align)))', '#define IS_P2ALIGNED(v, a) ((((uintptr_t)(v)) & ((uintptr_t)(a) - 1)) == 0)',
    '#define __unused', '#define __NORETURN', '#define __GNU_INLINE inline', '#define _NOTE(x)', '#define NOTE(x)',
    '#define __KPRINTFLIKE(n)', '#define __KVPRINTFLIKE(n)', '#define __PRINTFLIKE(n)', '#define __VPRINTFLIKE(n)',
    '#define DTRACE_PROBE(n)', '#define DTRACE_PROBE1(n, t1, a1)', '#define DTRACE_PROBE2(n, t1, a1, t2, a2)',
    '#define DTRACE_PROBE3(n, t1, a1, t2, a2, t3, a3)',
    '#define EPERM 1', '#define ENOENT 2', '#define EINTR 4', '#define EIO 5', '#define ENXIO 6', '#define EAGAIN 11',
    '#define ENOMEM 12', '#define EFAULT 14', '#define EBUSY 16', '#define EEXIST 17', '#define ENODEV 19', '#define EINVAL 22',
    '#define ENOTSUP 48', '#define FKIOCTL 0x80000000', '#define DDI_SUCCESS 0', '#define DDI_FAILURE (-1)',
    '#define true 1', '#define false 0',
  );
  // sys/debug.h: VERIFY always; ASSERT only on DEBUG. Messages go through assfail/assfail3.
  L.push(
    '#define VERIFY(EX) ((void)((EX) || assfail(#EX, __FILE__, __LINE__)))',
    '#define VERIFY3_IMPL(LEFT, OP, RIGHT, TYPE) do { \\',
    '\tconst TYPE __left = (TYPE)(LEFT); \\',
    '\tconst TYPE __right = (TYPE)(RIGHT); \\',
    '\tif (!(__left OP __right)) \\',
    '\t\tassfail3(#LEFT " " #OP " " #RIGHT, (uintmax_t)__left, #OP, (uintmax_t)__right, __FILE__, __LINE__); \\',
    '} while (0)',
    '#define VERIFY3S(x, y, z) VERIFY3_IMPL(x, y, z, int64_t)',
    '#define VERIFY3U(x, y, z) VERIFY3_IMPL(x, y, z, uint64_t)',
    '#define VERIFY3P(x, y, z) VERIFY3_IMPL(x, y, z, uintptr_t)',
    '#define VERIFY0(x) VERIFY3_IMPL(x, ==, 0, uintmax_t)',
    '#ifdef DEBUG',
    '#define ASSERT(EX) ((void)((EX) || assfail(#EX, __FILE__, __LINE__)))',
    '#define ASSERT3S(x, y, z) VERIFY3_IMPL(x, y, z, int64_t)',
    '#define ASSERT3U(x, y, z) VERIFY3_IMPL(x, y, z, uint64_t)',
    '#define ASSERT3P(x, y, z) VERIFY3_IMPL(x, y, z, uintptr_t)',
    '#define ASSERT0(x) VERIFY3_IMPL(x, ==, 0, uintmax_t)',
    '#else',
    '#define ASSERT(x) ((void)0)',
    '#define ASSERT3S(x, y, z) ((void)0)',
    '#define ASSERT3U(x, y, z) ((void)0)',
    '#define ASSERT3P(x, y, z) ((void)0)',
    '#define ASSERT0(x) ((void)0)',
    '#endif',
    '#define IMPLY(A, B) ASSERT(!(A) || (B))',
    '#define EQUIV(A, B) ASSERT(!!(A) == !!(B))',
    '#define CTASSERT(x) typedef char __kctx_ctassert[(x) ? 1 : -1]',
  );
  L.push('#endif');
  const text = L.join('\n') + '\n';
  cache.set(eraId, text);
  return text;
}
