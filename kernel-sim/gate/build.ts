/**
 * How a real `uts` module of an illumos-gate tree is compiled for amd64 on i86pc: the include
 * path and the predefined macros, read from the tree's own makefiles (i86pc/Makefile.i86pc and
 * what it includes: {i86pc,intel,common}/Makefile.files, Makefile.uts, Makefile.workarounds), plus
 * the macros gcc itself predefines for that target. Only plain `VAR = value` / `VAR += value`
 * assignments and `include` lines are read; target-specific ones (`x.o := ...`) and
 * conditionals' own lines are skipped, `$(VAR)` references are expanded (unknown ones are empty), and the uts build's fixed
 * variables are set as its makefiles set them for a 64-bit i86pc debug build.
 */
import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fingerprint } from '../../core/fingerprint';
import { loadRecord, storeRecord, statSig, settledSig } from '../io/cache-store';
import { logicalLines, makefileText } from './makefile';
import { generatedRules, type GeneratedRule } from './generated';

export interface GateBuild {
  /** `-I` folders in order (absolute). */
  includeDirs: string[];
  /** `-D` in order: [name, value] ("1" when the flag has no value). */
  defines: Array<[string, string]>;
  /** `-U` names. */
  undefs: string[];
  /** The makefiles read (absolute), for messages. */
  makefiles: string[];
  /** The headers the build generates first (generated.ts), by their rules. */
  generated: GeneratedRule[];
}

/** The platform makefile an i86pc module's Makefile includes; it includes the others. */
const PLATFORM_MAKEFILE = 'usr/src/uts/i86pc/Makefile.i86pc';


type Vars = Map<string, string>;

function expand(v: string, vars: Vars, depth = 0): string {
  // Innermost references first, so that $(A_$(CLASS)) names A_64.
  for (let round = 0; round < 20 && depth < 20; round++) {
    const next = v.replace(/\$\(([A-Za-z0-9_]+)\)|\$\{([A-Za-z0-9_]+)\}/g, (_, a: string | undefined, b: string | undefined) =>
      expand(vars.get((a ?? b)!) ?? '', vars, depth + 1),
    );
    if (next === v) break;
    v = next;
  }
  return v;
}

/**
 * The assignments of one makefile and those it includes, in order (recursive variables kept
 * unexpanded, as make does). `include` lines are followed inside the tree only.
 */
function readMakefile(path: string, gate: string, vars: Vars, fixed: Map<string, string>, read: string[], tried: Set<string>, cwd: string): void {
  if (read.includes(path) || read.length > 64 || !path.startsWith(gate + '/')) return;
  tried.add(path);
  const text = makefileText(path);
  if (text === null) return;
  read.push(path);
  for (const { text: raw } of logicalLines(text)) {
    const line = raw.replace(/(^|[^\\])#.*$/, '$1');
    const inc = /^\s*-?include\s+(\S+)\s*$/.exec(line);
    if (inc) {
      // make's folder is the module's: `include ../Makefile.$(ARCHDIR)` is relative to it.
      readMakefile(resolve(cwd, expand(inc[1]!, vars)), gate, vars, fixed, read, tried, cwd);
      continue;
    }
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*(?:\$\([A-Za-z0-9_]+\)[A-Za-z0-9_]*)*)\s*(\+=|:=|\?=|=)\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = expand(m[1]!, vars);
    const op = m[2]!;
    const value = m[3]!.trim();
    if (op === '+=') vars.set(name, `${vars.get(name) ?? ''} ${value}`.trim());
    else if (op === '?=') { if (!vars.has(name)) vars.set(name, value); }
    else if (op === ':=') vars.set(name, expand(value, vars));
    else vars.set(name, value);
    // The build's own choices (class, platform, build type) are not the makefiles' defaults.
    const keep = fixed.get(name);
    if (keep !== undefined) vars.set(name, keep);
  }
}

const cache = new Map<string, GateBuild>();
const stats = { read: 0, kept: 0 };

/** Builds read from the makefiles, and taken as an earlier process kept them (tests). */
export function gateBuildStats(): { read: number; kept: number } {
  return { ...stats };
}

/** Forgets the builds of this process (tests: the next is as in a new process). */
export function clearGateBuilds(): void {
  cache.clear();
}

/**
 * The flags of a 64-bit i86pc module build of the gate at `gate` (the checkout's root).
 * `debug`: a DEBUG build (`-DDEBUG`, as `BUILD_TYPE=DBG64`). `module`: the folder of the module's
 * own Makefile (`usr/src/uts/intel/zfs`, from `moduleDir`); without one, the platform's makefile
 * alone (what every i86pc module shares).
 */
export function gateBuild(gate: string, debug: boolean, module?: string): GateBuild {
  const key = `${gate}\0${debug}\0${module ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // Kept on disk for the next process (disk-cache.ts), used while every makefile it tried to
  // read has the stat it had, settled (a file changed just before is read again).
  codePrint ??= fingerprint(...[readMakefile, expand, buildOf, generatedRules].map(String));
  const diskKey = `gate-build ${codePrint} ${key}`;
  const kept = loadRecord(diskKey) as { build: GateBuild; seen: Array<[string, string | null]> } | null;
  if (kept && Array.isArray(kept.seen) && kept.seen.every(([p, sig]) => statSig(p) === sig)) {
    stats.kept++;
    cache.set(key, kept.build);
    return kept.build;
  }
  const tried = new Set<string>();
  const r = buildOf(gate, debug, tried, module);
  stats.read++;
  const now = BigInt(Date.now()) * 1_000_000n;
  const seen = [...tried].map((p): [string, string | null] => [p, statSig(p)]);
  if (seen.every(([, sig]) => sig === null || settledSig(sig, now))) storeRecord(diskKey, { build: r, seen });
  cache.set(key, r);
  return r;
}

/** The platforms whose module folders a bare module name is looked up in, in this order. */
const MODULE_PLATFORMS = ['i86pc', 'intel'];

/**
 * The folder of a uts module's Makefile: `name` is `intel/zfs` (a folder under usr/src/uts) or a
 * bare `zfs` (looked up under i86pc, then intel). What is wrong, in words, when there is none.
 */
export function moduleDir(gate: string, name: string): { dir: string } | { why: string } {
  const uts = join(gate, 'usr/src/uts');
  const has = (d: string): boolean => {
    try {
      return statSync(join(d, 'Makefile')).isFile();
    } catch {
      return false;
    }
  };
  if (!/^[A-Za-z0-9_.+-]+(\/[A-Za-z0-9_.+-]+)*$/.test(name) || name.split('/').includes('..')) return { why: `expected a module folder under usr/src/uts such as "intel/zfs", or a module name such as "zfs", got ${JSON.stringify(name)}` };
  if (name.includes('/')) {
    const d = join(uts, name);
    return has(d) ? { dir: d } : { why: `no module makefile ${join(d, 'Makefile')}` };
  }
  const found = MODULE_PLATFORMS.map((p) => join(uts, p, name)).filter(has);
  if (found.length === 1) return { dir: found[0]! };
  if (found.length > 1) return { why: `module "${name}" has a makefile in ${found.map((d) => d.slice(uts.length + 1)).join(' and ')}: name one` };
  return { why: `no module makefile for "${name}" (looked for ${MODULE_PLATFORMS.map((p) => join(uts, p, name, 'Makefile')).join(', ')})` };
}

let codePrint: string | undefined;

/** A word as the shell that runs make's recipe passes it on: `"\\"7.10.4\\""` is `"7.10.4"`. */
function shellWord(w: string): string {
  let out = '';
  for (let i = 0; i < w.length; i++) {
    const c = w[i]!;
    if (c === '\\' && i + 1 < w.length) out += w[++i];
    else if (c === "'") {
      const end = w.indexOf("'", i + 1);
      if (end < 0) return w;
      out += w.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < w.length && w[j] !== '"'; j++) out += w[j] === '\\' && (w[j + 1] === '"' || w[j + 1] === '\\' || w[j + 1] === '$') ? w[++j] : w[j];
      if (j >= w.length) return w;
      i = j;
    } else out += c;
  }
  return out;
}

/** gateBuild's answer, read from the makefiles (`tried`: every makefile it tried to read). */
function buildOf(gate: string, debug: boolean, tried: Set<string>, module?: string): GateBuild {
  const src = join(gate, 'usr/src');
  const uts = join(src, 'uts');
  const start = module ? join(module, 'Makefile') : join(gate, PLATFORM_MAKEFILE);
  // make runs in the module's folder; without a module, as if in one beside the platform's.
  const cwd = module ?? join(uts, 'i86pc', 'module');
  const vars: Vars = new Map([
    ['SRC', src], ['UTSBASE', uts], ['CLASS', '64'], ['MACH', 'i386'], ['MACH64', 'amd64'], ['PLATFORM', 'i86pc'],
    ['BUILD_TYPE', debug ? 'DBG64' : 'OBJ64'], ['OBJS_DIR', debug ? 'debug64' : 'obj64'], ['CCYFLAG', '-I'],
    // A module's `ARCHDIR:sh = cd ..; basename \`pwd\`` (shell assignments are not run).
    ['ARCHDIR', module ? basename(dirname(module)) : 'i86pc'],
  ]);
  const fixed = new Map(vars);
  const makefiles: string[] = [];
  readMakefile(start, gate, vars, fixed, makefiles, tried, cwd);
  const words = (name: string): string[] => expand(vars.get(name) ?? '', vars).split(/\s+/).filter(Boolean);
  // gcc's command line is `$(CC) $(CFLAGS) $(CPPFLAGS) -c` (Makefile.master COMPILE.c); the uts
  // CPPFLAGS is ALWAYS_DEFS ALL_DEFS CONFIG_DEFS INCLUDE_PATH (PRE_INC_PATH INC_PATH uts/common),
  // and a module adds to any of them. -I, -D and -U are taken in that order.
  const flags = [...words('CFLAGS'), ...words('CPPFLAGS')];
  const includeDirs: string[] = [];
  const defines: Array<[string, string]> = [];
  const undefs: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const w = flags[i]!;
    if (w === '-I' || (w.startsWith('-I') && w.length > 2)) {
      const dir = w === '-I' ? flags[++i] : w.slice(2);
      if (!dir) continue;
      const abs = resolve(cwd, dir);
      if (!includeDirs.includes(abs)) includeDirs.push(abs);
      continue;
    }
    const d = /^-D([A-Za-z_]\w*)(?:=(.*))?$/.exec(w);
    if (d) {
      const at = defines.findIndex(([n]) => n === d[1]);
      if (at >= 0) defines.splice(at, 1);
      defines.push([d[1]!, d[2] === undefined ? '1' : shellWord(d[2])]);
      continue;
    }
    const u = /^-U([A-Za-z_]\w*)$/.exec(w);
    if (u) undefs.push(u[1]!);
  }
  const common = join(uts, 'common');
  if (!includeDirs.includes(common)) includeDirs.push(common);
  const generated = generatedRules(gate, (v) => expand(v, vars), tried);
  return { includeDirs, defines, undefs, makefiles, generated };
}

/**
 * The macros gcc predefines when it compiles an illumos amd64 kernel module (gcc 10 for
 * x86_64-pc-solaris2.11, `-m64 -std=gnu99 -O2 -mcmodel=kernel -mno-mmx -mno-sse`): the compiler
 * and target facts headers test (`__GNUC__`, `__x86_64__`, `_LP64`, type sizes and limits), the
 * Solaris target's own (`__sun`, `__SVR4`, `__unix`), no SSE/MMX.
 */
export const GCC_PREDEFINED: ReadonlyArray<readonly [string, string]> = [
  ['__GNUC__', '10'], ['__GNUC_MINOR__', '4'], ['__GNUC_PATCHLEVEL__', '0'], ['__VERSION__', '"10.4.0"'],
  ['__GNUC_STDC_INLINE__', '1'], ['__STDC__', '1'], ['__STDC_VERSION__', '199901L'], ['__STDC_HOSTED__', '1'],
  ['__OPTIMIZE__', '1'], ['__ELF__', '1'], ['__CHAR_BIT__', '8'],
  ['__x86_64__', '1'], ['__x86_64', '1'], ['__amd64__', '1'], ['__amd64', '1'], ['_LP64', '1'], ['__LP64__', '1'],
  ['__k8', '1'], ['__k8__', '1'], ['__code_model_kernel__', '1'],
  ['__sun', '1'], ['__sun__', '1'], ['sun', '1'], ['__svr4__', '1'], ['__SVR4', '1'], ['__unix', '1'], ['__unix__', '1'], ['unix', '1'],
  ['__PRAGMA_REDEFINE_EXTNAME', '1'],
  ['__SIZEOF_INT__', '4'], ['__SIZEOF_LONG__', '8'], ['__SIZEOF_LONG_LONG__', '8'], ['__SIZEOF_SHORT__', '2'],
  ['__SIZEOF_POINTER__', '8'], ['__SIZEOF_FLOAT__', '4'], ['__SIZEOF_DOUBLE__', '8'], ['__SIZEOF_LONG_DOUBLE__', '16'],
  ['__SIZEOF_SIZE_T__', '8'], ['__SIZEOF_WCHAR_T__', '4'], ['__SIZEOF_WINT_T__', '4'], ['__SIZEOF_PTRDIFF_T__', '8'],
  ['__SIZEOF_INT128__', '16'], ['__BIGGEST_ALIGNMENT__', '16'],
  ['__ORDER_LITTLE_ENDIAN__', '1234'], ['__ORDER_BIG_ENDIAN__', '4321'], ['__ORDER_PDP_ENDIAN__', '3412'],
  ['__BYTE_ORDER__', '__ORDER_LITTLE_ENDIAN__'], ['__FLOAT_WORD_ORDER__', '__ORDER_LITTLE_ENDIAN__'],
  ['__SCHAR_MAX__', '0x7f'], ['__SHRT_MAX__', '0x7fff'], ['__INT_MAX__', '0x7fffffff'],
  ['__LONG_MAX__', '0x7fffffffffffffffL'], ['__LONG_LONG_MAX__', '0x7fffffffffffffffLL'],
  ['__WCHAR_MAX__', '0x7fffffff'], ['__WCHAR_MIN__', '(-__WCHAR_MAX__ - 1)'],
  ['__SIZE_MAX__', '0xffffffffffffffffUL'], ['__PTRDIFF_MAX__', '0x7fffffffffffffffL'],
  ['__INTMAX_MAX__', '0x7fffffffffffffffL'], ['__UINTMAX_MAX__', '0xffffffffffffffffUL'],
  ['__INTPTR_MAX__', '0x7fffffffffffffffL'], ['__UINTPTR_MAX__', '0xffffffffffffffffUL'],
  ['__SIZE_TYPE__', 'long unsigned int'], ['__PTRDIFF_TYPE__', 'long int'], ['__WCHAR_TYPE__', 'int'],
  ['__WINT_TYPE__', 'int'], ['__INTMAX_TYPE__', 'long int'], ['__UINTMAX_TYPE__', 'long unsigned int'],
  ['__INTPTR_TYPE__', 'long int'], ['__UINTPTR_TYPE__', 'long unsigned int'],
  ['__INT8_TYPE__', 'signed char'], ['__INT16_TYPE__', 'short int'], ['__INT32_TYPE__', 'int'], ['__INT64_TYPE__', 'long int'],
  ['__UINT8_TYPE__', 'unsigned char'], ['__UINT16_TYPE__', 'short unsigned int'], ['__UINT32_TYPE__', 'unsigned int'],
  ['__UINT64_TYPE__', 'long unsigned int'],
  ['__GCC_HAVE_SYNC_COMPARE_AND_SWAP_1', '1'], ['__GCC_HAVE_SYNC_COMPARE_AND_SWAP_2', '1'],
  ['__GCC_HAVE_SYNC_COMPARE_AND_SWAP_4', '1'], ['__GCC_HAVE_SYNC_COMPARE_AND_SWAP_8', '1'],
  ['__GCC_ATOMIC_INT_LOCK_FREE', '2'], ['__GCC_ATOMIC_LONG_LOCK_FREE', '2'], ['__GCC_ATOMIC_POINTER_LOCK_FREE', '2'],
  ['__ATOMIC_RELAXED', '0'], ['__ATOMIC_CONSUME', '1'], ['__ATOMIC_ACQUIRE', '2'], ['__ATOMIC_RELEASE', '3'],
  ['__ATOMIC_ACQ_REL', '4'], ['__ATOMIC_SEQ_CST', '5'],
];
