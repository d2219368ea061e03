/**
 * The kernel linker for modules (link_elf_obj.c, reference §A.3 and §A.10): compiles the module's
 * C sources with the FreeBSD headers and the module's build options, relocates its `set_vnet`
 * section into the kernel's module space on a VIMAGE kernel only (copying the initial values into
 * every existing vnet happens at kldload time), resolves its symbols against the kernel, and on a
 * failure prints `link_elf_obj: symbol NAME undefined` and leaves nothing behind: no memory, no
 * symbols, no module space, no sysinits.
 */
import { readTextBounded } from '../io/files';
import { MAX_SOURCE_BYTES } from '../cinterp/preprocess';
import { resolve } from 'node:path';
import type { Machine } from '../machine/machine';
import type { Scenario } from '../scenario';
import type { Compiler } from '../cinterp/compile';
import { loadDriver, type LoadHooks, type LoadedProgram } from '../cinterp/index';
import { SYSINIT } from './layout';
import { resolveFreebsdHeader } from './headers';
import { internString } from './vnet';
import type { Freebsd, FreebsdModuleSpec, LoadedModule, SysinitRec, VnetVar } from './state';
import { kldUndefined, VNET_SYMPREFIX } from '../../core/vnet-abi';

class KldError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

/** Names given to VNET_DEFINE/VNET_DEFINE_STATIC in the module's own sources. */
function vnetDefinedNames(baseDir: string, sources: string[]): string[] {
  const out: string[] = [];
  for (const src of sources) {
    let text = '';
    try {
      text = readTextBounded(resolve(baseDir, src), MAX_SOURCE_BYTES);
    } catch {
      continue;
    }
    for (const mt of text.matchAll(/\bVNET_DEFINE(?:_STATIC)?\s*\(([^;]*?),\s*(\w+)\s*\)/g)) if (!out.includes(mt[2]!)) out.push(mt[2]!);
  }
  return out;
}

interface Undo {
  mem: ReturnType<Machine['mem']['snapshot']>;
  data: Set<string>;
  text: number;
  roots: number;
}

function mark(m: Machine): Undo {
  return { mem: m.mem.snapshot(), data: new Set(m.sym.data.keys()), text: m.sym.all().length, roots: m.dataRoots.length };
}

/** Takes back everything a failed load put into the kernel. */
function rollback(m: Machine, u: Undo): void {
  m.mem.restore(u.mem);
  for (const k of [...m.sym.data.keys()]) if (!u.data.has(k)) m.sym.data.delete(k);
  m.sym.truncate(u.text);
  m.dataRoots.length = u.roots;
}

/** Loads one module at boot. Never throws for a link failure: the result says why it failed. */
export async function kldLoad(m: Machine, f: Freebsd, s: Scenario, spec: FreebsdModuleSpec): Promise<{ mod: LoadedModule; program?: LoadedProgram }> {
  const file = `${spec.name}.ko`;
  const builtVimage = spec.built.includes('VIMAGE');
  const defines: Scenario['defines'] = { _KERNEL: 1, KLD_MODULE: 1 };
  for (const o of spec.built) defines[o] = 1;
  Object.assign(defines, s.defines, spec.defines);
  const ms: Scenario = { ...s, sources: spec.sources, defines };
  const mod: LoadedModule = {
    spec, file, builtVimage, ok: false, error: [], sysinits: [], sysuninits: [], vnetVars: [], modspace: [0, 0], functions: [],
  };
  const undo = mark(m);
  let slots: VnetVar[] = [];
  const hooks: LoadHooks = {
    module: spec.name,
    resolveHeader: resolveFreebsdHeader,
    relocate: (c) => {
      slots = relocateSetVnet(m, f, c, file);
    },
    undefinedSymbols: (_module, names) => new KldError([kldUndefined(names[0]!), `kldload: can't load ${file}: No such file or directory`]),
  };
  let program: LoadedProgram;
  try {
    program = await loadDriver(m, ms, hooks);
  } catch (e) {
    if (e instanceof KldError) {
      rollback(m, undo);
      mod.error = e.lines;
      return { mod };
    }
    throw e;
  }
  mod.ok = true;
  mod.functions = [...program.funcs.keys()];
  for (const name of mod.functions) internString(m, f, name);
  const c = program.compiler;
  // Linker sets: SYSINIT/SYSUNINIT records, in declaration order (sorted at kldload).
  for (const g of c.globals) {
    const which = g.name.endsWith('_sys_init') ? mod.sysinits : g.name.endsWith('_sys_uninit') ? mod.sysuninits : null;
    if (!which) continue;
    const O = SYSINIT.offsets;
    const rec: SysinitRec = {
      addr: g.addr, name: g.name, subsystem: m.mem.readU32(g.addr + O.subsystem), order: m.mem.readU32(g.addr + O.order),
      func: m.mem.readPtr(g.addr + O.func), udata: m.mem.readPtr(g.addr + O.udata),
    };
    which.push(rec);
  }
  if (builtVimage) {
    mod.vnetVars = slots.length ? slots : c.globals
      .filter((g) => g.name.startsWith(VNET_SYMPREFIX))
      .map((g) => ({ name: g.name.slice(VNET_SYMPREFIX.length), symbol: g.name, addr: g.addr, size: sizeOfGlobal(m, g.name), virtualized: false }));
  } else {
    for (const name of vnetDefinedNames(s.baseDir, spec.sources)) {
      const g = c.globals.find((x) => x.name === name);
      if (g) mod.vnetVars.push({ name, symbol: name, addr: g.addr, size: sizeOfGlobal(m, name), virtualized: false });
    }
  }
  if (slots.length) {
    const start = Math.min(...slots.map((v) => v.addr));
    const end = Math.max(...slots.map((v) => v.addr + v.size));
    mod.modspace = [start, end - start];
  }
  return { mod, program };
}

function sizeOfGlobal(m: Machine, name: string): number {
  return m.sym.data.get(name)?.size ?? 0;
}

/**
 * link_elf_obj's `set_vnet` handling, on a VIMAGE kernel: the module's VNET_DEFINEd variables
 * (`vnet_entry_*`) move into module space, so their addresses are offsets that every vnet's
 * vnet_data_base turns into that vnet's instance. Without VIMAGE the section stays ordinary data.
 */
function relocateSetVnet(m: Machine, f: Freebsd, c: Compiler, file: string): VnetVar[] {
  if (!f.vimage) return [];
  const vars = c.globals.filter((g) => g.name.startsWith(VNET_SYMPREFIX));
  if (!vars.length) return [];
  let need = 0;
  const place: number[] = [];
  for (const g of vars) {
    const size = Math.max(1, m.sym.data.get(g.name)?.size ?? 8);
    need = Math.ceil(need / 8) * 8;
    place.push(need);
    need += size;
  }
  need = Math.ceil(need / 8) * 8;
  const used = m.mem.readU64n(f.modspaceUsedVar);
  if (used + need > f.setVnet.modspaceSize) {
    throw new KldError([
      `link_elf_load_file: vnet module space is out of space; cannot allocate 0x${need.toString(16)} for ${file}`,
      `kldload: can't load ${file}: Exec format error`,
    ]);
  }
  m.mem.writeU64n(f.modspaceUsedVar, used + need);
  const base = f.setVnet.modspace + used;
  const out: VnetVar[] = [];
  const scopes = [c.globalScope, ...c.tus.map((tu) => c.fileScopeOf(tu))];
  vars.forEach((g, i) => {
    const from = g.addr;
    const to = base + place[i]!;
    const size = Math.max(1, m.sym.data.get(g.name)?.size ?? 8);
    g.addr = to;
    for (const sc of scopes) {
      const e = sc.names.get(g.name);
      if (e && e.k === 'var' && e.addr === from) e.addr = to;
    }
    const d = m.sym.data.get(g.name);
    if (d && d.addr === from) m.sym.defineData(g.name, to, d.size, d.module);
    for (const r of m.dataRoots) if (r[0] === from) r[0] = to;
    out.push({ name: g.name.slice(VNET_SYMPREFIX.length), symbol: g.name, addr: to, size, virtualized: true });
  });
  return out;
}
