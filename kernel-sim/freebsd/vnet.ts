/**
 * The VIMAGE storage model (reference §A.3): the kernel's `set_vnet` linker set holds the master
 * copies (kernel variables, then module space); `vnet_alloc()` gives each vnet a copy of the
 * whole set and `vnet_data_base = data_mem - set_vnet start`, so `V_x` is
 * `*(curvnet->vnet_data_base + &vnet_entry_x)`. Threads carry `td_vnet`.
 */
import type { Machine } from '../machine/machine';
import type { KThread } from '../machine/thread';
import { formatAddr } from '../machine/memory';
import { VNET, TD, VNET_MAGIC_N, VNET_MAGIC_DEAD, VNET_SYSINIT } from './layout';
import { REGISTRY_SLOTS, type Freebsd, type VnetVar } from './state';

const V = VNET.offsets;

export function tdAddr(f: Freebsd, t: KThread): number {
  if (t.tid >= f.tdMax) throw new Error(`kctx: thread id ${t.tid} is beyond the FreeBSD thread table (${f.tdMax})`);
  return f.tdTable + t.tid * TD.size;
}

export function tdVnet(m: Machine, f: Freebsd, t: KThread): number {
  return m.mem.readPtr(tdAddr(f, t) + TD.offsets.td_vnet);
}

export function setTdVnet(m: Machine, f: Freebsd, t: KThread, vnet: number): void {
  m.mem.writePtr(tdAddr(f, t) + TD.offsets.td_vnet, vnet);
}

/** Every vnet on vnet_head, in list order (newest first, as LIST_INSERT_HEAD makes it). */
export function vnetList(m: Machine, f: Freebsd): number[] {
  const out: number[] = [];
  if (!f.vimage) return out;
  for (let v = m.mem.readPtr(f.vnetHeadVar); v !== 0 && out.length < 1024; v = m.mem.readPtr(v + V.vnet_le_next)) out.push(v);
  return out;
}

export function vnetId(m: Machine, v: number): number {
  return m.mem.readU32(v + V.kctx_vnet_id);
}

export function vnetJail(m: Machine, v: number): string {
  const p = m.mem.readPtr(v + V.kctx_jail);
  return p ? m.mem.readCString(p) : '';
}

export function vnetMagicOk(m: Machine, v: number): boolean {
  return m.mem.isMapped(v + V.vnet_magic_n, 4) && m.mem.readU32(v + V.vnet_magic_n) === VNET_MAGIC_N;
}

export function vnetDataMem(m: Machine, v: number): number {
  return m.mem.readPtr(v + V.vnet_data_mem);
}

/** Size of each vnet's data: the whole set_vnet rounded to a page (VNET_SIZE). */
export function vnetSize(f: Freebsd): number {
  return f.setVnet.size;
}

export function internString(m: Machine, f: Freebsd, s: string): number {
  const hit = f.strings.get(s);
  if (hit !== undefined) return hit;
  const a = m.mem.map(s.length + 1, 8);
  for (let i = 0; i < s.length; i++) m.mem.u8[a + i] = s.charCodeAt(i) & 0xff;
  f.strings.set(s, a);
  return a;
}

/**
 * vnet_alloc(): the struct vnet and its data (a copy of every master in set_vnet), inserted at
 * the head of vnet_head. The vnet's sysinits are run by the caller (with curvnet set to it).
 */
export function vnetAlloc(m: Machine, f: Freebsd, jail: string): number {
  const v = m.mem.map(VNET.size, 64);
  const size = vnetSize(f);
  const data = m.mem.map(size, 64);
  m.mem.copy(data, f.setVnet.start, size);
  m.mem.writeU32(v + V.vnet_magic_n, VNET_MAGIC_N);
  m.mem.writePtr(v + V.vnet_data_mem, data);
  m.mem.writeU64n(v + V.vnet_data_base, data - f.setVnet.start);
  const id = m.mem.readU32(f.nextVnetIdVar);
  m.mem.writeU32(f.nextVnetIdVar, id + 1);
  m.mem.writeU32(v + V.kctx_vnet_id, id);
  m.mem.writePtr(v + V.kctx_jail, internString(m, f, jail));
  const head = m.mem.readPtr(f.vnetHeadVar);
  m.mem.writePtr(v + V.vnet_le_next, head);
  m.mem.writePtr(v + V.vnet_le_prev, f.vnetHeadVar);
  if (head) m.mem.writePtr(head + V.vnet_le_prev, v + V.vnet_le_next);
  m.mem.writePtr(f.vnetHeadVar, v);
  return v;
}

/** The end of vnet_destroy(): off the list, magic poisoned (the memory is not reused). */
export function vnetUnlink(m: Machine, f: Freebsd, v: number): void {
  const next = m.mem.readPtr(v + V.vnet_le_next);
  const prev = m.mem.readPtr(v + V.vnet_le_prev);
  m.mem.writePtr(prev, next);
  if (next) m.mem.writePtr(next + V.vnet_le_prev, prev);
  m.mem.writeU32(v + V.vnet_magic_n, VNET_MAGIC_DEAD);
  m.mem.writeU8(v + V.vnet_shutdown, 1);
}

/** vnet_data_copy(): a module's freshly loaded set_vnet into every existing vnet. */
export function vnetDataCopy(m: Machine, f: Freebsd, start: number, size: number): void {
  for (const v of vnetList(m, f)) {
    m.mem.copy(vnetDataMem(m, v) + (start - f.setVnet.start), start, size);
  }
}

// ---------------------------------------------------------------- the vnet sysinit registries

export function registry(m: Machine, table: number): number[] {
  const n = Number(m.mem.readU64n(table));
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(m.mem.readPtr(table + 8 + i * 8));
  return out;
}

function writeRegistry(m: Machine, table: number, list: number[]): void {
  if (list.length > REGISTRY_SLOTS) throw new Error(`kctx: more than ${REGISTRY_SLOTS} vnet sysinits`);
  m.mem.writeU64n(table, list.length);
  list.forEach((p, i) => m.mem.writePtr(table + 8 + i * 8, p));
}

/** Sorted insert by (subsystem, order), after equals: TAILQ order of vnet_register_sysinit(). */
export function registryInsert(m: Machine, table: number, vs: number): void {
  const key = (p: number) => [m.mem.readU32(p + VNET_SYSINIT.offsets.subsystem), m.mem.readU32(p + VNET_SYSINIT.offsets.order)] as const;
  const list = registry(m, table);
  const [s, o] = key(vs);
  let i = 0;
  while (i < list.length) {
    const [s2, o2] = key(list[i]!);
    if (s2 > s || (s2 === s && o2 > o)) break;
    i++;
  }
  list.splice(i, 0, vs);
  writeRegistry(m, table, list);
}

export function registryRemove(m: Machine, table: number, vs: number): void {
  writeRegistry(m, table, registry(m, table).filter((p) => p !== vs));
}

// ---------------------------------------------------------------- address provenance

export interface Provenance {
  kind: 'instance' | 'master' | 'global';
  vnet?: number;
  vnetId?: number;
  jail?: string;
  v: VnetVar;
  off: number;
}

function allVars(f: Freebsd): VnetVar[] {
  const out = f.kernelVnetVars.slice();
  for (const mod of f.modules) if (mod.ok) out.push(...mod.vnetVars);
  return out;
}

function varAt(f: Freebsd, a: number, virtualized: boolean): VnetVar | undefined {
  return allVars(f).find((v) => v.virtualized === virtualized && a >= v.addr && a < v.addr + Math.max(1, v.size));
}

/** What an address is in the VNET model: a vnet's instance, a master copy, or an ordinary global. */
export function provenance(m: Machine, f: Freebsd, a: number): Provenance | undefined {
  const sv = f.setVnet;
  if (f.vimage && a >= sv.start && a < sv.start + sv.size) {
    const v = varAt(f, a, true);
    if (v) return { kind: 'master', v, off: a - v.addr };
  }
  if (f.vimage) {
    for (const vn of vnetList(m, f).reverse()) {
      const d = vnetDataMem(m, vn);
      if (a >= d && a < d + vnetSize(f)) {
        const v = varAt(f, sv.start + (a - d), true);
        if (v) return { kind: 'instance', vnet: vn, vnetId: vnetId(m, vn), jail: vnetJail(m, vn), v, off: sv.start + (a - d) - v.addr };
      }
    }
  }
  const g = varAt(f, a, false);
  if (g) return { kind: 'global', v: g, off: a - g.addr };
  return undefined;
}

function plus(name: string, off: number): string {
  return off ? `${name}+${off.toString(16)}` : name;
}

/** The classification as the trace and ::whatis word it. */
export function describeProvenance(p: Provenance): string {
  switch (p.kind) {
    case 'instance': return `vnet ${p.vnetId} instance of ${plus(p.v.symbol, p.off)}`;
    case 'master': return `master copy of ${plus(p.v.symbol, p.off)}`;
    case 'global': return `ordinary global ${plus(p.v.symbol, p.off)}`;
  }
}

export function pfmt(a: number): string {
  return a === 0 ? '0' : `0x${formatAddr(a)}`;
}
