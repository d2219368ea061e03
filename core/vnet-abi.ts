/**
 * FreeBSD's VNET link ABI (reference: freebsd-vnet-minix.md): what the macros of `net/vnet.h`
 * link against with `options VIMAGE` and without. The simulator's generated `<net/vnet.h>`
 * (kernel-sim/freebsd/headers.ts) spells its macros from this table, the kernel and the module
 * loader name `set_vnet` symbols with it, and the linter's `kctx lint --vnet-abi` report
 * (language-server/vnet-abi.ts) reads it.
 */

/** The linker set a VIMAGE module's VNET variables live in. */
export const VNET_SETNAME = 'set_vnet';
/** With VIMAGE, `VNET_NAME(n)` is this prefix and n; without, it is n. */
export const VNET_SYMPREFIX = 'vnet_entry_';

/** The symbol a VNET variable n links as. */
export function vnetSymbol(n: string, vimage: boolean): string {
  return vimage ? VNET_SYMPREFIX + n : n;
}

/** A VNET macro that references kernel symbols only when built with VIMAGE (none without). */
export interface VnetMacro {
  /** How the report names the construct, from the macro's arguments. */
  construct: (args: string[]) => string;
  /** The kernel symbols it references with VIMAGE. */
  vimage: readonly string[];
  why: string;
}

export const VNET_MACROS: ReadonlyMap<string, VnetMacro> = new Map<string, VnetMacro>([
  ['VNET_SYSINIT', { construct: (a) => `VNET_SYSINIT(${a[0] ?? ''})`, vimage: ['vnet_register_sysinit', 'vnet_deregister_sysinit'], why: 'per-vnet constructor registry' }],
  ['VNET_SYSUNINIT', { construct: (a) => `VNET_SYSUNINIT(${a[0] ?? ''})`, vimage: ['vnet_register_sysuninit', 'vnet_deregister_sysuninit'], why: 'per-vnet destructor registry' }],
  ['IS_DEFAULT_VNET', { construct: () => 'IS_DEFAULT_VNET()', vimage: ['vnet0'], why: 'compares with vnet0' }],
  ['VNET_FOREACH', { construct: () => 'VNET_FOREACH()', vimage: ['vnet_head'], why: 'walks the vnet list' }],
  ['VNET_LIST_RLOCK', { construct: () => 'VNET_LIST_RLOCK()', vimage: ['vnet_sxlock'], why: 'vnet list lock' }],
  ['VNET_LIST_RUNLOCK', { construct: () => 'VNET_LIST_RUNLOCK()', vimage: ['vnet_sxlock'], why: 'vnet list lock' }],
  ['VNET_LIST_RLOCK_NOSLEEP', { construct: () => 'VNET_LIST_RLOCK_NOSLEEP()', vimage: ['vnet_rwlock'], why: 'vnet list lock' }],
  ['VNET_LIST_RUNLOCK_NOSLEEP', { construct: () => 'VNET_LIST_RUNLOCK_NOSLEEP()', vimage: ['vnet_rwlock'], why: 'vnet list lock' }],
]);

/** The macros that name a VNET variable, and which argument is the variable. */
export const VNET_VAR_MACROS: ReadonlyMap<string, number> = new Map([['VNET_NAME', 0], ['VNET', 0], ['VNET_PTR', 0], ['VNET_VNET', 1], ['VNET_VNET_PTR', 1]]);

/** What the module loader prints for a symbol the kernel does not have. */
export function kldUndefined(symbol: string): string {
  return `link_elf_obj: symbol ${symbol} undefined`;
}
