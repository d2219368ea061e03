/**
 * `"stubs": "auto"`: what the kernel's loader would refuse (an undefined symbol) becomes a stub.
 * A function returns 0 (or nothing), counts the call and emits a `stub:call` probe (a flow-trace
 * line, the debugger's `stub` filter); an extern variable gets zeroed storage of its declared
 * type. The stubs called are listed when the run ends and counted in `--stats`.
 */
import type { Machine } from '../machine/machine';
import { sizeOf, alignOf, type CType } from './types';

export interface StubTable {
  /** Functions stubbed, in link order. */
  functions: string[];
  /** Data symbols given zeroed storage, in link order. */
  data: string[];
  /** Calls per stubbed function, in first-call order. */
  calls: Map<string, number>;
}

const tables = new WeakMap<Machine, StubTable>();

/** The stubs of the module loaded into `m` (null when "stubs" is not "auto"). */
export function stubsOf(m: Machine): StubTable | null {
  return tables.get(m) ?? null;
}

/** The compiler's hooks that make the stubs of a module. */
export function autoStubs(m: Machine, module: string): { fn(name: string): number; data(name: string, t: CType): number } {
  const table: StubTable = { functions: [], data: [], calls: new Map() };
  tables.set(m, table);
  return {
    fn(name) {
      const have = m.sym.lookup(name);
      if (have) return have.addr;
      table.functions.push(name);
      return m.native(name, (mm, t) => {
        table.calls.set(name, (table.calls.get(name) ?? 0) + 1);
        if (mm.sink) mm.probe(t, 'stub:call', `${name}() returns 0 (stub)`);
        // The debugger's `stub` filter: the stop comes right after the call (as a watchpoint's).
        if (mm.policy && mm.checkStop({ kind: 'stub', name, thread: t, cpu: t.cpu, message: `${name}() is a stub: it returned 0` })) mm.dataStop = true;
        return 0;
      }, module);
    },
    data(name, t) {
      const have = m.sym.data.get(name);
      if (have) return have.addr;
      table.data.push(name);
      const size = Math.max(1, sizeOf(t));
      const addr = m.mem.map(size, Math.max(8, alignOf(t)));
      m.dataRoots.push([addr, size]);
      m.sym.defineData(name, addr, size, module);
      return addr;
    },
  };
}

/** The end-of-run lines: which stubs were called, how often. */
export function stubsCalledLines(m: Machine): string[] {
  const t = stubsOf(m);
  if (!t) return [];
  if (!t.calls.size) return [`kctx: no stub was called (${t.functions.length} functions stubbed)`];
  const list = [...t.calls].map(([n, c]) => `${n} (${c})`).join(', ');
  return [`kctx: stubs called: ${list}`];
}
