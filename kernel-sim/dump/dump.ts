/**
 * Crash dumps: the machine's state in a file, and a post-mortem machine read back from one.
 *
 * A dump holds what mdb reads: the memory in use (the arena up to its top), kmem's caches and
 * bufctls, the kernel text and data symbols, the threads with each frame as it describes itself
 * (names, offsets, arguments, source lines, frame pointers, the pointers it holds), the CPUs and
 * every field `machine/state.ts` declares. It is JSON, gzip-compressed (node:zlib), with a format
 * name and a version. The post-mortem machine runs no code: its frames only describe themselves,
 * so `$c`, `::stacks`, `::findleaks`, `::ctxops`, `::status`, `::msgbuf` and `::panicinfo` print
 * what they printed on the live machine at the dump's point.
 */
import { writeFileSync } from 'node:fs';
import { Machine, registerFrameKind, frameKind, type MachineConfig, type StackEntry, type Frame } from '../machine/machine';
import { KThread } from '../machine/thread';
import { copyState, putState } from '../machine/state';
import { readBoundedBytes } from '../files';

export const DUMP_FORMAT = 'kctx-dump';
export const DUMP_VERSION = 1;
/** Largest dump file read, and largest it may expand to. */
/** node:zlib, loaded on the first dump written or read (a run that writes none does not pay for it). */
const zlib = (): typeof import('node:zlib') => require('node:zlib') as typeof import('node:zlib');

const MAX_DUMP_FILE = 256 << 20;
const MAX_DUMP_JSON = 1 << 30;

export class DumpError extends Error {}

interface DumpedFrame {
  pc: number;
  /** The frame's own entries (innermost first), as describe() gave them on the live machine. */
  entries: StackEntry[];
  fp?: number;
  bp?: number;
  roots: number[];
}

interface DumpedThread {
  addr: number; tid: number; name: string; role: KThread['role'];
  retval: number; cpu: number; quantumLeft: number; blockedOn: KThread['blockedOn']; pil: number; freed: boolean;
  lwp: number; stackBase: number; stackSize: number; sp: number; deferredNoted: boolean; dispTick: number;
  frames: DumpedFrame[];
}

interface DumpFile {
  format: typeof DUMP_FORMAT;
  version: number;
  /** What was dumped: the scenario file and why (a panic, the end of a run, ...). */
  scenario: string;
  cfg: MachineConfig;
  mem: { top: number; bytes: string };
  kmem: unknown;
  rng: number;
  text: Array<{ name: string; addr: number; size: number; kind: 'native' | 'c'; module: string }>;
  data: Array<[string, { addr: number; size: number; module: string }]>;
  dataRoots: Array<[number, number]>;
  allthreadsVar: number;
  names: Array<[number, string]>;
  threads: DumpedThread[];
  cpus: Array<{ addr: number; thread: number; idle: number; runq: number[] }>;
  state: Record<string, unknown>;
  panicInfo: Machine['panicInfo'];
  stopPoint: { kind: string; name?: string; thread: number } | null;
}

/** The dump of a machine, as the bytes of a file. */
export function dumpBytes(m: Machine, scenario: string): Buffer {
  const mem = m.mem.snapshot();
  const d: DumpFile = {
    format: DUMP_FORMAT,
    version: DUMP_VERSION,
    scenario,
    cfg: m.cfg,
    mem: { top: mem.top, bytes: Buffer.from(mem.bytes.buffer, mem.bytes.byteOffset, mem.bytes.byteLength).toString('base64') },
    kmem: m.kmem.snapshot(),
    rng: m.rng.state,
    text: m.sym.all().map((s) => ({ name: s.name, addr: s.addr, size: s.size, kind: s.kind, module: s.module })),
    data: [...m.sym.data],
    dataRoots: m.dataRoots.map(([a, n]) => [a, n] as [number, number]),
    allthreadsVar: m.allthreadsVar,
    names: [...m.names],
    threads: m.threads.map((t) => dumpThread(m, t)),
    cpus: m.cpus.map((c) => ({ addr: c.addr, thread: c.thread.addr, idle: c.idle.addr, runq: c.runq.map((x) => x.addr) })),
    state: copyState(m),
    panicInfo: m.panicInfo,
    stopPoint: m.stopPoint ? { kind: m.stopPoint.kind, name: m.stopPoint.name, thread: m.stopPoint.thread.addr } : null,
  };
  return zlib().gzipSync(Buffer.from(JSON.stringify(d)), { level: 6 });
}

function dumpThread(m: Machine, t: KThread): DumpedThread {
  const frames = t.stack.map((f, i): DumpedFrame => {
    const k = frameKind(f.kind);
    let roots: number[] = [];
    try {
      roots = (k.roots?.(f) ?? []).filter((r) => typeof r === 'number');
    } catch {
      roots = [];
    }
    const out: DumpedFrame = { pc: f.pc, entries: k.describe(m, t, f, i), roots };
    if (typeof f.fp === 'number') out.fp = f.fp;
    if (typeof f.bp === 'number') out.bp = f.bp;
    return out;
  });
  return {
    addr: t.addr, tid: t.tid, name: t.name, role: t.role, retval: t.retval, cpu: t.cpu, quantumLeft: t.quantumLeft,
    blockedOn: t.blockedOn, pil: t.pil, freed: t.freed, lwp: t.lwp, stackBase: t.stackBase, stackSize: t.stackSize, sp: t.sp,
    deferredNoted: t.deferredNoted, dispTick: t.dispTick, frames,
  };
}

/** Writes the machine's dump to `path`. */
export function writeDump(m: Machine, path: string, scenario = ''): void {
  writeFileSync(path, dumpBytes(m, scenario));
}

/** A frame read from a dump: it describes itself as it did on the live machine and never runs. */
registerFrameKind('dumped', {
  preemptible: false,
  step() {
    throw new Error('a post-mortem machine does not run');
  },
  describe(_m, _t, f) {
    return f.entries as StackEntry[];
  },
  roots: (f) => f.roots as number[],
});

/** True when the bytes look like a dump (gzip), so `kctx mdb FILE` knows a dump from a scenario. */
export function isDump(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The post-mortem machine of a dump file. */
export function readDump(path: string): { m: Machine; scenario: string } {
  let bytes: Buffer;
  try {
    bytes = readBoundedBytes(path, MAX_DUMP_FILE);
  } catch (e) {
    throw new DumpError((e as Error).message);
  }
  return loadDump(bytes, path);
}

export function loadDump(bytes: Buffer, path: string): { m: Machine; scenario: string } {
  if (!isDump(bytes)) throw new DumpError(`${path}: not a kctx crash dump (no gzip header)`);
  let d: DumpFile;
  try {
    d = JSON.parse(zlib().gunzipSync(bytes, { maxOutputLength: MAX_DUMP_JSON }).toString('utf8')) as DumpFile;
  } catch (e) {
    throw new DumpError(`${path}: a damaged crash dump: ${(e as Error).message}`);
  }
  if (!d || d.format !== DUMP_FORMAT) throw new DumpError(`${path}: not a kctx crash dump`);
  if (d.version !== DUMP_VERSION) throw new DumpError(`${path}: crash dump version ${d.version}; this kctx reads version ${DUMP_VERSION}`);
  const m = new Machine(d.cfg, { attachLwpCtxops: () => { throw new Error('a post-mortem machine does not run'); } });
  if (m.allthreadsVar !== d.allthreadsVar || m.cpus.some((c, i) => c.addr !== d.cpus[i]?.addr)) {
    throw new DumpError(`${path}: the dump's machine layout differs from this kctx's`);
  }
  const raw = Buffer.from(d.mem.bytes, 'base64');
  m.mem.restore({ top: d.mem.top, bytes: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) });
  m.kmem.restore(d.kmem);
  m.rng.state = d.rng;
  for (const s of d.text) m.sym.defineAt(s.name, s.addr, s.size, s.kind, s.module);
  m.sym.data.clear();
  for (const [name, v] of d.data) m.sym.data.set(name, v);
  m.dataRoots = d.dataRoots;
  m.names = new Map(d.names);
  const byAddr = new Map<number, KThread>();
  m.threads = d.threads.map((x) => {
    const t = new KThread(x.addr, x.tid, x.name, x.role);
    Object.assign(t, {
      retval: x.retval, cpu: x.cpu, quantumLeft: x.quantumLeft, blockedOn: x.blockedOn, pil: x.pil, freed: x.freed, lwp: x.lwp,
      stackBase: x.stackBase, stackSize: x.stackSize, sp: x.sp, deferredNoted: x.deferredNoted, dispTick: x.dispTick,
    });
    t.stack = x.frames.map((f): Frame => ({ kind: 'dumped', pc: f.pc, entries: f.entries, roots: f.roots, ...(f.fp !== undefined ? { fp: f.fp } : {}), ...(f.bp !== undefined ? { bp: f.bp } : {}) }));
    byAddr.set(t.addr, t);
    return t;
  });
  m.byAddr = byAddr;
  const get = (a: number): KThread => {
    const t = byAddr.get(a);
    if (!t) throw new DumpError(`${path}: a damaged crash dump: no thread at ${a}`);
    return t;
  };
  m.cpus.forEach((c, i) => {
    const dc = d.cpus[i]!;
    c.thread = get(dc.thread);
    c.idle = get(dc.idle);
    c.runq = dc.runq.map(get);
  });
  m.reaper = m.threads.find((t) => t.role === 'reaper') ?? null;
  putState(m, d.state, get);
  m.panicInfo = d.panicInfo;
  if (d.stopPoint) {
    const t = byAddr.get(d.stopPoint.thread);
    if (t) m.stopPoint = { kind: d.stopPoint.kind as never, name: d.stopPoint.name, thread: t, cpu: t.cpu };
  }
  return { m, scenario: d.scenario };
}
