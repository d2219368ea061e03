/**
 * core/vnet-abi.ts is the one VNET link ABI: the simulator's <net/vnet.h> macros link against its
 * symbols, and the linter's --vnet-abi report names the same ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VNET_MACROS, VNET_SYMPREFIX, vnetSymbol } from '../../../core/vnet-abi';
import { freebsdHeader } from '../../../kernel-sim/freebsd/headers';
import { vnetAbiReport } from '../../../language-server/vnet-abi';

/** The VIMAGE branch of the generated header: from `#ifdef VIMAGE` to the other branch's curvnet. */
function vimageBranch(): string {
  const h = freebsdHeader();
  const from = h.indexOf('#ifdef VIMAGE');
  assert.ok(from >= 0, 'the header has a VIMAGE branch');
  return h.slice(from, h.indexOf('#define curvnet ((struct vnet *)NULL)', from));
}

test('the simulated <net/vnet.h> spells VNET_NAME, VNET_SYSINIT/SYSUNINIT and IS_DEFAULT_VNET from the table', () => {
  const v = vimageBranch();
  assert.match(v, new RegExp(`#define VNET_NAME\\(n\\) ${VNET_SYMPREFIX}##n`));
  for (const macro of ['VNET_SYSINIT', 'VNET_SYSUNINIT', 'IS_DEFAULT_VNET']) {
    for (const s of VNET_MACROS.get(macro)!.vimage) assert.ok(new RegExp(`\\b${s}\\b`).test(v), `${macro}: ${s} in the VIMAGE header`);
  }
});

test('the --vnet-abi report names the table symbols for each macro and the prefixed variable', () => {
  const src = '#include <net/vnet.h>\nVNET_DEFINE_STATIC(int, pc_count);\nstatic void f(void) { VNET_FOREACH(v) {} if (IS_DEFAULT_VNET(curvnet)) {} }\nVNET_SYSINIT(pc_init, SI_SUB_PROTO_DOMAIN, SI_ORDER_ANY, pc_vnet_init, NULL);\nint g(void) { return VNET(tcp_mss); }\n';
  const r = vnetAbiReport(src, 'pc.c');
  const by = new Map(r.items.map((i) => [i.construct, i]));
  assert.deepEqual(by.get('VNET_FOREACH()')!.vimage, VNET_MACROS.get('VNET_FOREACH')!.vimage);
  assert.deepEqual(by.get('IS_DEFAULT_VNET()')!.vimage, VNET_MACROS.get('IS_DEFAULT_VNET')!.vimage);
  assert.deepEqual(by.get('VNET_SYSINIT(pc_init)')!.vimage, VNET_MACROS.get('VNET_SYSINIT')!.vimage);
  assert.deepEqual(by.get('VNET_DEFINE_STATIC(pc_count)')!.defines, { vimage: vnetSymbol('pc_count', true), novimage: 'pc_count', section: 'set_vnet' });
  assert.deepEqual(by.get('VNET(tcp_mss)')!.vimage, ['vnet_entry_tcp_mss']);
  assert.equal(r.onNonVimageKernel[0]!.message, 'link_elf_obj: symbol vnet_head undefined');
});
