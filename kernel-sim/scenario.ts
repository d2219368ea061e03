/**
 * The scenario format (`*.ksim.json`): which kernel era, how many CPUs, which driver sources,
 * which threads. Validated with errors that name the file, the line, the key and what was
 * expected. JSON with comments is accepted (jsonc-parser keeps the positions).
 */
import { parseTree, findNodeAtLocation, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ERA_IDS, type EraId } from './abi/eras';
import { notAGate, gateRoot, gateEra } from './gate/tree';
import { moduleDir } from './gate/build';
import type { FreebsdScenario, FreebsdModuleSpec } from './freebsd/state';
import { FileRefused, outsideRoots, readTextBounded } from './io/files';

export interface ScenarioThread {
  name: string;
  /** `builtin:NAME` or a `void f(void *)` function of the sources. */
  entry: string;
  arg: number;
  lwp: boolean;
  pri: number;
  schedctl: boolean;
}

export interface Scenario {
  kernel: EraId;
  /** The era whose headers the driver was compiled against (default: the running kernel). */
  builtFor: EraId;
  cpus: number;
  seed: number;
  sources: string[];
  defines: Record<string, string | number | boolean>;
  threads: ScenarioThread[];
  quantum: number;
  tickCycles: number;
  slice: number;
  memoryPressure?: { every: number; ticks: number };
  /** The machine's physical memory in bytes (`"memory": "256M"` or a number); default 256 MB. */
  memory?: number;
  /** A DEBUG kernel (ASSERTs in the kernel are live). Default true. */
  kernelDebug: boolean;
  description?: string;
  /** Directory the sources are relative to. */
  baseDir: string;
  /** The file it came from (for messages), or '<inline>'. */
  file: string;
  /** An illumos-gate checkout (absolute): its headers, include path, macros and layouts. */
  gate?: string;
  /** The folder of the uts module's own Makefile (`"module"`), whose flags and include folders the build adds. */
  module?: string;
  /** Folders searched for `#include` before the gate's (absolute, `${env:NAME}`/`${gate}` expanded). */
  includePaths: string[];
  /** Undefined symbols: `auto` stubs, and the user's own C stubs (absolute paths). */
  stubs: { auto: boolean; files: string[] };
  /** Kernel functions the sources may replace with their own definitions. */
  replaces: string[];
  /** `"kernel": "freebsd-14"`: the FreeBSD personality (then `kernel` is the machine's base era). */
  freebsd?: FreebsdScenario;
}

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
  }
}

/** Every top-level scenario key (an inline launch configuration passes exactly these through). */
export const SCENARIO_KEYS: ReadonlySet<string> = new Set([
  'kernel', 'builtFor', 'cpus', 'seed', 'sources', 'defines', 'threads', 'quantum', 'tickCycles', 'slice',
  'memoryPressure', 'memory', 'kernelDebug', 'description', '$schema', 'gate', 'module', 'includePaths', 'stubs', 'replaces',
  // freebsd-14 only:
  'options', 'built', 'modules', 'jails', 'matrix', 'teardown',
]);
const THREAD_KEYS = new Set(['name', 'entry', 'arg', 'lwp', 'pri', 'schedctl', 'vnet']);
const FREEBSD_KEYS = ['options', 'built', 'modules', 'jails', 'matrix', 'teardown'];
const KERNEL_OPTIONS = ['VIMAGE', 'INVARIANTS', 'VNET_DEBUG'];
const BUILD_OPTIONS = ['VIMAGE', 'INVARIANTS', 'VNET_DEBUG', 'DEBUG'];

function lineCol(text: string, offset: number): [number, number] {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return [line, offset - last];
}

/** Reads and validates a scenario file. */
/** Command-line settings that take the place of the scenario's own (`--gate`, `--stubs auto`). */
export interface ScenarioOverrides {
  gate?: string;
  /** A gate for scenarios that name none (the `kctx.gate` setting). */
  defaultGate?: string;
  stubs?: 'auto';
}

/** The largest scenario file read. */
export const MAX_SCENARIO_BYTES = 1_000_000;

/** The rule sources, includes and stubs are held to (named in every refusal). */
export const CONFINEMENT_RULE = "the scenario's folder and its declared gate and includePaths";

/** The folders a scenario's sources, includes and stubs may be read from. */
export function scenarioRoots(s: { baseDir: string; gate?: string; includePaths?: readonly string[] }): string[] {
  return [s.baseDir, ...(s.gate ? [s.gate] : []), ...(s.includePaths ?? [])];
}

export function loadScenarioFile(path: string, overrides: ScenarioOverrides = {}): Scenario {
  let text: string;
  try {
    // Checked before it is read: /dev/zero, a FIFO or a folder is refused at once.
    text = readTextBounded(path, MAX_SCENARIO_BYTES);
  } catch (e) {
    if (!(e instanceof FileRefused)) throw e;
    const why = e.reason === 'a folder, not a file' ? 'a folder, not a scenario file' : e.reason;
    throw new ScenarioError(path, 1, 1, `cannot read the scenario: ${why}`);
  }
  return parseScenario(text, path, dirname(resolve(path)), overrides);
}

/** jsonc-parser's error code (`ValueExpected`) in words. */
const JSON_PROBLEMS: Record<string, string> = {
  ValueExpected: 'expected a value', ColonExpected: "expected ':'", CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'", CloseBracketExpected: "expected ']'", PropertyNameExpected: 'expected a quoted key',
  EndOfFileExpected: 'text after the end of the scenario', InvalidSymbol: 'not JSON here', InvalidNumberFormat: 'malformed number',
  UnexpectedEndOfString: 'unterminated string', UnexpectedEndOfComment: 'unterminated comment', InvalidEscapeCharacter: 'invalid escape in a string',
  InvalidCharacter: 'invalid character in a string', InvalidUnicode: 'invalid \\u escape',
};
function jsonProblem(code: string): string {
  return JSON_PROBLEMS[code] ?? code;
}

/** Validates a scenario given as JSON text. */
export function parseScenario(text: string, file: string, baseDir: string, overrides: ScenarioOverrides = {}): Scenario {
  if (text.length > MAX_SCENARIO_BYTES) throw new ScenarioError(file, 1, 1, `scenario is ${text.length} bytes: not a scenario (limit 1 MB)`);
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length || !root) {
    const e = errors[0];
    const [l, c] = lineCol(text, e?.offset ?? 0);
    throw new ScenarioError(file, l, c, `invalid JSON: ${e ? jsonProblem(printParseErrorCode(e.error)) : 'empty document'}`);
  }
  return validate(root, text, file, baseDir, overrides);
}

/** Validates a scenario given as an object (an inline launch configuration). */
export function scenarioFromObject(obj: unknown, file: string, baseDir: string, overrides: ScenarioOverrides = {}): Scenario {
  const text = JSON.stringify(obj, null, 2) ?? 'null';
  return parseScenario(text, file, baseDir, overrides);
}

function validate(root: JsonNode, text: string, file: string, baseDir: string, overrides: ScenarioOverrides): Scenario {
  const fail = (node: JsonNode | undefined, reason: string): never => {
    const [l, c] = lineCol(text, node?.offset ?? 0);
    throw new ScenarioError(file, l, c, reason);
  };
  if (root.type !== 'object') fail(root, `expected an object with "kernel" and "threads", got ${root.type}`);
  const at = (path: (string | number)[]) => findNodeAtLocation(root, path);
  for (const p of root.children ?? []) {
    const key = p.children?.[0]?.value as string;
    if (!SCENARIO_KEYS.has(key)) fail(p, `unknown key "${key}" (known: ${[...SCENARIO_KEYS].filter((k) => k !== '$schema').join(', ')})`);
  }
  const str = (path: (string | number)[], name: string, required: boolean): string | undefined => {
    const n = at(path);
    if (!n) return required ? fail(root, `missing key "${name}"`) : undefined;
    if (n.type !== 'string') fail(n, `"${name}": expected a string, got ${n.type === 'number' ? n.value : n.type}`);
    return n.value as string;
  };
  const int = (path: (string | number)[], name: string, dflt: number, min: number, max: number): number => {
    const n = at(path);
    if (!n) return dflt;
    if (n.type !== 'number' || !Number.isInteger(n.value) || n.value < min || n.value > max) {
      fail(n, `"${name}": expected an integer from ${min} to ${max}, got ${JSON.stringify(n.value ?? n.type)}`);
    }
    return n.value as number;
  };
  const bool = (path: (string | number)[], name: string, dflt: boolean): boolean => {
    const n = at(path);
    if (!n) return dflt;
    if (n.type !== 'boolean') fail(n, `"${name}": expected true or false, got ${JSON.stringify(n.value ?? n.type)}`);
    return n.value as boolean;
  };
  const era = (path: string, dflt?: EraId): EraId => {
    const v = str([path], path, dflt === undefined);
    if (v === undefined) return dflt!;
    if (!ERA_IDS.includes(v as EraId)) fail(at([path]), `"${path}": unknown kernel "${v}" (one of ${ERA_IDS.join(', ')})`);
    return v as EraId;
  };
  const isFreebsd = at(['kernel'])?.value === 'freebsd-14';
  if (!isFreebsd) {
    for (const k of FREEBSD_KEYS) if (at([k])) fail(at([k])!.parent, `"${k}" is a key of "kernel": "freebsd-14" scenarios`);
  }
  const kernel = isFreebsd ? 'illumos-13917' : era('kernel');
  let builtFor = isFreebsd ? kernel : era('builtFor', kernel);
  const cpus = int(['cpus'], 'cpus', 1, 1, 64);
  const seed = int(['seed'], 'seed', 1, 0, 2 ** 32 - 1);
  const quantum = int(['quantum'], 'quantum', 2, 1, 1000);
  const tickCycles = int(['tickCycles'], 'tickCycles', 100, 1, 100000);
  const slice = int(['slice'], 'slice', Math.min(10, tickCycles), 1, 100000);
  const kernelDebug = bool(['kernelDebug'], 'kernelDebug', true);
  const description = str(['description'], 'description', false);

  /** Paths checked against the allowed folders once the gate and includePaths are known. */
  const toConfine: Array<[JsonNode, string]> = [];
  const sources: string[] = [];
  const sn = at(['sources']);
  if (sn) {
    if (sn.type !== 'array') fail(sn, `"sources": expected an array of C file paths, got ${sn.type}`);
    sn.children!.forEach((c, i) => {
      if (c.type !== 'string' || !/\.[ch]$/.test(c.value as string)) fail(c, `"sources[${i}]": expected a path to a .c or .h file, got ${JSON.stringify(c.value ?? c.type)}`);
      toConfine.push([c, `sources[${i}]`]);
      sources.push(c.value as string);
    });
  }
  const defines: Scenario['defines'] = {};
  const dn = at(['defines']);
  if (dn) {
    if (dn.type !== 'object') fail(dn, `"defines": expected an object like {"DEBUG": 1}, got ${dn.type}`);
    for (const p of dn.children ?? []) {
      const k = p.children![0]!.value as string;
      const v = p.children![1]!;
      if (!/^[A-Za-z_]\w*$/.test(k)) fail(p, `"defines": "${k}" is not a C macro name`);
      if (!['string', 'number', 'boolean'].includes(v.type)) fail(v, `"defines.${k}": expected a number, string or boolean`);
      defines[k] = v.value as string | number | boolean;
    }
  }
  let memoryPressure: Scenario['memoryPressure'];
  const mp = at(['memoryPressure']);
  if (mp) {
    if (mp.type !== 'object') fail(mp, `"memoryPressure": expected {"every": N, "ticks": M}`);
    memoryPressure = {
      every: int(['memoryPressure', 'every'], 'memoryPressure.every', 1, 1, 1_000_000),
      ticks: int(['memoryPressure', 'ticks'], 'memoryPressure.ticks', 1, 1, 100_000),
    };
  }

  let memory: number | undefined;
  const memn = at(['memory']);
  if (memn) {
    const v = memn.value as unknown;
    const mm = typeof v === 'string' ? /^(\d+)\s*([KMG]?)B?$/i.exec(v) : null;
    const bytes = typeof v === 'number' ? v : mm ? Number(mm[1]) * ({ '': 1, K: 1024, M: 1048576, G: 1073741824 } as Record<string, number>)[mm[2]!.toUpperCase()]! : NaN;
    if (!Number.isInteger(bytes) || bytes < 16 * 1048576 || bytes > 2 * 1073741824) {
      fail(memn, `"memory": expected the machine's physical memory from 16M to 2G (bytes, or a string such as "512M"), got ${JSON.stringify(v ?? memn.type)}`);
    }
    memory = bytes;
  }

  const tn = at(['threads']);
  if (!tn) fail(root, 'missing key "threads": an array of {"name", "entry", "arg", "lwp"}');
  if (tn!.type !== 'array' || !tn!.children!.length) fail(tn, '"threads": expected a non-empty array of threads');
  const names = new Set<string>();
  const threads: ScenarioThread[] = tn!.children!.map((c, i) => {
    const p = `threads[${i}]`;
    if (c.type !== 'object') fail(c, `"${p}": expected an object with "name" and "entry"`);
    for (const kv of c.children ?? []) {
      const key = kv.children?.[0]?.value as string;
      if (!THREAD_KEYS.has(key)) fail(kv, `"${p}": unknown key "${key}" (known: ${[...THREAD_KEYS].join(', ')})`);
    }
    const name = str(['threads', i, 'name'], `${p}.name`, true)!;
    if (!/^[\w./-]{1,31}$/.test(name)) fail(at(['threads', i, 'name']), `"${p}.name": "${name}" must be 1-31 characters of letters, digits, _ . / -`);
    if (names.has(name)) fail(at(['threads', i, 'name']), `"${p}.name": duplicate thread name "${name}"`);
    names.add(name);
    const entry = str(['threads', i, 'entry'], `${p}.entry`, true)!;
    if (!/^(builtin:[a-z-]+|[A-Za-z_]\w*)$/.test(entry)) fail(at(['threads', i, 'entry']), `"${p}.entry": expected "builtin:NAME" or a C function name, got "${entry}"`);
    if (isFreebsd && entry.startsWith('builtin:')) fail(at(['threads', i, 'entry']), `"${p}.entry": built-in workloads are illumos threads; a freebsd-14 thread runs a module's C function`);
    if (at(['threads', i, 'vnet']) && !isFreebsd) fail(at(['threads', i, 'vnet'])!.parent, `"${p}.vnet" is a key of "kernel": "freebsd-14" scenarios`);
    if (!entry.startsWith('builtin:') && sources.length === 0 && !(isFreebsd && at(['modules']))) fail(at(['threads', i, 'entry']), `"${p}.entry": "${entry}" is a C function but the scenario has no "sources"`);
    return {
      name, entry,
      arg: int(['threads', i, 'arg'], `${p}.arg`, 0, -(2 ** 31), 2 ** 32 - 1),
      lwp: bool(['threads', i, 'lwp'], `${p}.lwp`, false),
      pri: int(['threads', i, 'pri'], `${p}.pri`, 60, 0, 169),
      schedctl: bool(['threads', i, 'schedctl'], `${p}.schedctl`, false),
    };
  });
  const freebsd = isFreebsd ? freebsdPart(at, fail, sources, threads.length, toConfine) : undefined;
  const tree = kernelTree(at, fail, root, baseDir, overrides, isFreebsd);
  // Sources and stubs (symlinks resolved) lie inside the scenario's folder, the gate or an include path.
  const roots = scenarioRoots({ baseDir, gate: tree.gate, includePaths: tree.includePaths });
  (at(['stubs'])?.type === 'array' ? at(['stubs'])!.children! : []).forEach((c, i) => toConfine.push([c, `stubs[${i}]`]));
  for (const [n, name] of toConfine) {
    const x = expandVars(n.value as string, tree.gate);
    const out = outsideRoots(resolve(baseDir, 'path' in x ? x.path : (n.value as string)), roots, CONFINEMENT_RULE);
    if (out) fail(n, `"${name}": '${n.value}' is ${out}`);
  }
  if (tree.gate && !isFreebsd) {
    const g = gateEra(tree.gate);
    if (at(['builtFor']) && builtFor !== g.era) {
      fail(at(['builtFor']), `"builtFor": "${builtFor}" contradicts the gate's headers: ${g.evidence} (${g.era}); a driver built against this tree was built for ${g.era}`);
    }
    builtFor = g.era;
  }
  return { ...tree, kernel, builtFor, cpus, seed, sources: freebsd ? [] : sources, defines, threads, quantum, tickCycles, slice, memoryPressure, ...(memory ? { memory } : {}), kernelDebug, description, baseDir, file, ...(freebsd ? { freebsd } : {}) };
}

/** `${env:NAME}` and `${gate}` in a path; what is wrong, or the expanded path. */
function expandVars(v: string, gate: string | undefined): { path: string } | { why: string } {
  let why: string | null = null;
  const path = v.replace(/\$\{([^}]*)\}/g, (all, name: string) => {
    if (name === 'gate') {
      if (gate === undefined) why ??= '${gate} is used but the scenario has no "gate"';
      return gate ?? '';
    }
    const m = /^env:([A-Za-z_]\w*)$/.exec(name);
    if (!m) {
      why ??= `unknown variable ${all} (known: \${env:NAME}, \${gate})`;
      return '';
    }
    const e = process.env[m[1]!];
    if (e === undefined || e === '') why ??= `environment variable ${m[1]} is not set`;
    return e ?? '';
  });
  return why ? { why } : { path };
}

/** `gate`, `module`, `includePaths`, `stubs`, `replaces`. */
function kernelTree(
  at: (path: (string | number)[]) => JsonNode | undefined,
  fail: (node: JsonNode | undefined, reason: string) => never,
  root: JsonNode,
  baseDir: string,
  overrides: ScenarioOverrides,
  isFreebsd: boolean,
): Pick<Scenario, 'gate' | 'module' | 'includePaths' | 'stubs' | 'replaces'> {
  let gate: string | undefined;
  const gn = at(['gate']);
  if (isFreebsd && gn) fail(gn.parent, '"gate" is an illumos-gate checkout; a freebsd-14 scenario cannot use one');
  const gateFrom = (v: string, node: JsonNode | undefined, what: string): string => {
    const x = expandVars(v, undefined);
    if ('why' in x) return fail(node, `${what}: ${x.why}`);
    const dir = gateRoot(resolve(baseDir, x.path));
    const bad = notAGate(dir);
    if (bad) fail(node, `${what}: ${dir}: ${bad}`);
    return dir;
  };
  if (overrides.gate !== undefined) gate = gateFrom(overrides.gate, root, '--gate');
  else if (gn) {
    if (gn.type !== 'string' || !gn.value) fail(gn, `"gate": expected the path of an illumos-gate checkout, got ${JSON.stringify(gn.value ?? gn.type)}`);
    gate = gateFrom(gn.value as string, gn, '"gate"');
  } else if (overrides.defaultGate && !isFreebsd) gate = gateFrom(overrides.defaultGate, root, 'the kctx.gate setting');
  let module: string | undefined;
  const mn = at(['module']);
  if (mn) {
    if (mn.type !== 'string' || !mn.value) fail(mn, `"module": expected a uts module such as "intel/zfs" or "zfs", got ${JSON.stringify(mn.value ?? mn.type)}`);
    if (!gate) fail(mn, '"module" names a module of a kernel tree: the scenario needs a "gate"');
    const d = moduleDir(gate, mn.value as string);
    if ('why' in d) fail(mn, `"module": ${d.why}`);
    module = d.dir;
  }
  const paths = (key: string, check: (p: string, node: JsonNode, name: string) => void): string[] => {
    const n = at([key]);
    if (!n) return [];
    if (n.type !== 'array') fail(n, `"${key}": expected an array of paths, got ${n.type}`);
    return n.children!.map((c, i) => {
      if (c.type !== 'string' || !c.value) fail(c, `"${key}[${i}]": expected a path, got ${JSON.stringify(c.value ?? c.type)}`);
      const x = expandVars(c.value as string, gate);
      if ('why' in x) return fail(c, `"${key}[${i}]": ${x.why}`);
      const p = resolve(baseDir, x.path);
      check(p, c, `${key}[${i}]`);
      return p;
    });
  };
  const includePaths = paths('includePaths', (p, node, name) => {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      fail(node, `"${name}": ${p}: no such folder`);
    }
    if (!dir) fail(node, `"${name}": ${p}: not a folder`);
  });
  const stubs = { auto: false, files: [] as string[] };
  const sn = at(['stubs']);
  if (sn) {
    if (sn.type === 'string') {
      if (sn.value !== 'auto') fail(sn, `"stubs": expected "auto" or an array of C files, got ${JSON.stringify(sn.value)}`);
      stubs.auto = true;
    } else if (sn.type === 'array') {
      stubs.files = paths('stubs', (p, node, name) => {
        if (!/\.c$/.test(p)) fail(node, `"${name}": expected a C file (.c), got ${JSON.stringify(node.value)}`);
      });
    } else fail(sn, `"stubs": expected "auto" or an array of C files, got ${sn.type}`);
  }
  if (overrides.stubs === 'auto') stubs.auto = true;
  const replaces: string[] = [];
  const rn = at(['replaces']);
  if (rn) {
    if (rn.type !== 'array') fail(rn, `"replaces": expected an array of kernel function names, got ${rn.type}`);
    rn.children!.forEach((c, i) => {
      if (c.type !== 'string' || !/^[A-Za-z_]\w*$/.test(c.value as string)) fail(c, `"replaces[${i}]": expected a C function name, got ${JSON.stringify(c.value ?? c.type)}`);
      replaces.push(c.value as string);
    });
  }
  return { ...(gate ? { gate } : {}), ...(module ? { module } : {}), includePaths, stubs, replaces };
}

/** The freebsd-14 keys: kernel options, modules and how they were built, jails, thread vnets. */
function freebsdPart(
  at: (path: (string | number)[]) => JsonNode | undefined,
  fail: (node: JsonNode | undefined, reason: string) => never,
  sources: string[],
  nthreads: number,
  toConfine: Array<[JsonNode, string]>,
): FreebsdScenario {
  const words = (path: (string | number)[], name: string, allowed: string[]): string[] => {
    const n = at(path);
    if (!n) return [];
    if (n.type !== 'array') fail(n, `"${name}": expected an array such as ["VIMAGE"], got ${n.type}`);
    return n.children!.map((c) => {
      if (c.type !== 'string' || !allowed.includes(c.value as string)) fail(c, `"${name}": unknown option ${JSON.stringify(c.value ?? c.type)} (known: ${allowed.join(', ')})`);
      return c.value as string;
    });
  };
  const flag = (key: string, dflt: boolean): boolean => {
    const n = at([key]);
    if (!n) return dflt;
    if (n.type !== 'boolean') fail(n, `"${key}": expected true or false, got ${JSON.stringify(n.value ?? n.type)}`);
    return n.value as boolean;
  };
  const options = words(['options'], 'options', KERNEL_OPTIONS);
  const modules: FreebsdModuleSpec[] = [];
  const mn = at(['modules']);
  if (mn && sources.length) fail(mn, '"modules": give the module sources either in "modules" or in "sources", not both');
  if (at(['built']) && mn) fail(at(['built'])!.parent, '"built": with "modules", say how each module was built in its own "built"');
  if (mn) {
    if (mn.type !== 'array' || !mn.children!.length) fail(mn, '"modules": expected a non-empty array of {"name", "sources", "built"}');
    mn.children!.forEach((c, i) => {
      const p = `modules[${i}]`;
      if (c.type !== 'object') fail(c, `"${p}": expected an object with "sources"`);
      for (const kv of c.children ?? []) {
        const key = kv.children?.[0]?.value as string;
        if (!['name', 'sources', 'built', 'defines'].includes(key)) fail(kv, `"${p}": unknown key "${key}" (known: name, sources, built, defines)`);
      }
      const sn = at(['modules', i, 'sources']);
      if (!sn || sn.type !== 'array' || !sn.children!.length) fail(sn ?? c, `"${p}.sources": expected a non-empty array of C file paths`);
      const srcs = sn!.children!.map((x, k) => {
        if (x.type !== 'string' || !/\.[ch]$/.test(x.value as string)) fail(x, `"${p}.sources[${k}]": expected a path to a .c or .h file`);
        toConfine.push([x, `${p}.sources[${k}]`]);
        return x.value as string;
      });
      const nn = at(['modules', i, 'name']);
      if (nn && (nn.type !== 'string' || !/^[\w-]{1,31}$/.test(nn.value as string))) fail(nn, `"${p}.name": expected a module name (letters, digits, _ and -)`);
      const defines: Record<string, string | number | boolean> = {};
      const dn = at(['modules', i, 'defines']);
      if (dn) {
        if (dn.type !== 'object') fail(dn, `"${p}.defines": expected an object like {"DEBUG": 1}`);
        for (const kv of dn.children ?? []) defines[kv.children![0]!.value as string] = kv.children![1]!.value as string | number | boolean;
      }
      modules.push({
        name: (nn?.value as string | undefined) ?? srcs[0]!.replace(/^.*\//, '').replace(/\.[ch]$/, ''),
        sources: srcs, built: words(['modules', i, 'built'], `${p}.built`, BUILD_OPTIONS), defines,
      });
    });
  } else if (sources.length) {
    modules.push({ name: sources[0]!.replace(/^.*\//, '').replace(/\.[ch]$/, ''), sources, built: words(['built'], 'built', BUILD_OPTIONS), defines: {} });
  }
  const jails: FreebsdScenario['jails'] = [];
  const jn = at(['jails']);
  if (jn) {
    if (jn.type !== 'array') fail(jn, '"jails": expected an array of {"name", "vnet"}');
    jn.children!.forEach((c, i) => {
      const nn = at(['jails', i, 'name']);
      if (c.type !== 'object' || !nn || nn.type !== 'string' || !/^[\w-]{1,31}$/.test(nn.value as string) || nn.value === 'vnet0') {
        fail(nn ?? c, `"jails[${i}].name": expected a jail name (letters, digits, _ and -; not vnet0)`);
      }
      if (jails.some((j) => j.name === nn!.value)) fail(nn, `"jails[${i}].name": duplicate jail "${nn!.value}"`);
      const vn = at(['jails', i, 'vnet']);
      if (vn && vn.type !== 'boolean') fail(vn, `"jails[${i}].vnet": expected true or false`);
      jails.push({ name: nn!.value as string, vnet: vn ? (vn.value as boolean) : true });
    });
  }
  const threadVnets: Array<string | null> = [];
  for (let i = 0; i < nthreads; i++) {
    const n = at(['threads', i, 'vnet']);
    if (!n) { threadVnets.push(null); continue; }
    if (n.type !== 'string' || (n.value !== 'vnet0' && !jails.some((j) => j.name === n.value))) {
      fail(n, `"threads[${i}].vnet": expected "vnet0" or the name of a jail (${['vnet0', ...jails.map((j) => j.name)].join(', ')})`);
    }
    threadVnets.push(n.value as string);
  }
  return { options, modules, jails, threadVnets, teardown: flag('teardown', true), matrix: flag('matrix', false) };
}
