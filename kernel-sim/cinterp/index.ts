/**
 * The C interpreter's entry point: loads a scenario's driver sources into a machine.
 *
 * Preprocess each source (a translation unit) with the headers of the era the driver was built
 * for, parse it with tree-sitter, compile every function to JavaScript, lay out globals, string
 * literals and statics in simulated memory, resolve calls against the running kernel's symbols
 * (a missing one fails the load as illumos's module loader does), and register the 'c' frame
 * kind through which the machine runs the driver's functions on simulated threads.
 */
import { fingerprint } from '../../core/fingerprint';
import { basename, resolve, relative } from 'node:path';
import type { Node as TSNode } from 'web-tree-sitter';
import { plainTree, type CNode as SyntaxNode } from './ctree';
import { splitParse } from './split-parse';
import { syntaxErrors } from './syntax-errors';
import { ScenarioError, type Scenario } from '../scenario';
import { registerFrameKind, KernelPanic, type Machine, type StackEntry, type Frame } from '../machine/machine';
import type { KThread } from '../machine/thread';
import type { TextSymbol } from '../machine/symbols';
import type { DriverProgram } from '../program';
import { createCParser, cParserNow, type Parser } from '../../core/cparser';
import { Preprocessor, type PreprocessResult } from './preprocess';
import { resolveSystemHeader } from '../abi/headers';
import { searchRoots } from '../gate/tree';
import { KAPI_VARARGS, KAPI_BARRIERS } from '../abi/kapi';
import { COMPAT_ATOMICS } from '../abi/compat-atomics';
import { COMPAT_CPUFUNC } from '../abi/compat-cpufunc';
import { KAPI_STRINGS } from '../abi/kstring';
import { KAPI_SOFTSTATE } from '../abi/ksoftstate';
import { cFrame } from './runtime';
import { Compiler, YIELD, type CFrame, type CFunc, type TU, type Scope } from './compile';
import { originIn } from './program';
import { intConverter, typeName, type IntType, type Val } from './types';
import { createDebug } from './debug';
import { cachedUnit, type CachedUnit } from './unit-cache';
import { preprocessOnce, generatedText, loadNeeds, storeNeeds, diskCacheOn } from './disk-cache';
import { neededOf, neededCode, parseNeeded, declareRestLate, notePartial, skipped, neededTree, keepNeededTree } from './needed';
import { MODELLED } from '../machine/layout';
import { autoStubs } from './stubs';
import { bindTreeLayoutsOf } from './tree-layouts';
import { compiled, noteBody, replayCompiled, storeCompiled, watchCompile } from './compiled';

/** Functions of a tree header that could not be compiled: why, for the panic if one is called. */
const unrunnable = new WeakMap<TextSymbol, string>();

// ---------------------------------------------------------------- the 'c' frame kind

registerFrameKind('c', {
  preemptible: true,
  step(m, t, f0, budget) {
    // The function's generated step function (codegen.ts).
    return (f0 as CFrame).fn.run(m, t, f0 as CFrame, budget);
  },
  describe(_m, _t, f0, i): StackEntry[] {
    const fr = f0 as CFrame;
    const fn = fr.fn;
    const pc = Math.min(fr.pc, fn.loc.length - 1);
    const p = fn.loc[pc] ?? { file: fn.file, line: fn.line, col: fn.col };
    return [{ name: fn.name, offset: Math.min(0xfc, 8 + pc * 4), args: fr.args, kind: 'c', file: p.file, line: p.line, column: p.col, frameIndex: i }];
  },
  roots(f0) {
    const fr = f0 as CFrame;
    const out: number[] = [];
    for (const v of fr.tmp) if (typeof v === 'number' && v >= 0x10000) out.push(v);
    return out;
  },
  clone(f0): Frame {
    const fr = f0 as CFrame;
    return { ...fr, tmp: fr.tmp.length ? fr.tmp.slice() : fr.tmp } as CFrame;
  },
});

/** Delivers a native callee's pushed return value into the C frame below (see compile.ts). */
registerFrameKind('cret', {
  preemptible: false,
  step(m, t, f) {
    const below = t.stack[t.stack.length - 2] as CFrame;
    const conv = f.conv as IntType | null;
    const v = t.retval as Val;
    below.tmp[f.slot as number] = conv ? intConverter(conv)(typeof v === 'number' && !Number.isInteger(v) ? Math.trunc(v) : v) : v;
    m.ret(t, t.retval);
    return 1;
  },
  describe() {
    return [];
  },
});

/** A kernel function that panicked while called from C (only ever on a dead machine's stack). */
registerFrameKind('cnative', {
  preemptible: false,
  step() {
    throw new KernelPanic('cnative frame stepped');
  },
  describe(_m, _t, f, i): StackEntry[] {
    return [{ name: f.name as string, offset: 0x4a, args: f.args as number[], kind: 'kernel', frameIndex: i }];
  },
});

/** The machine's hook: a frame that runs C function `sym` with `args` on thread t. */
export function callC(m: Machine, t: KThread, sym: TextSymbol, args: number[]): Frame {
  const fn = sym.cfunc as CFunc | undefined;
  if (!fn) throw new KernelPanic(unrunnable.get(sym) ?? `BAD TRAP: call to ${sym.name}, which has no code`);
  return cFrame(m, t, compiled(fn), args, true);
}

// ---------------------------------------------------------------- loading

export interface LoadedProgram extends DriverProgram {
  compiler: Compiler;
  funcs: Map<string, CFunc>;
}

function loadError(lines: string[]): Error {
  const e = new Error(lines.join('\n'));
  (e as Error & { kctxLoadError: boolean }).kctxLoadError = true;
  return e;
}

function findDeclName(n: SyntaxNode | null): string | undefined {
  while (n) {
    if (n.type === 'identifier') return n.text;
    n = n.childForFieldName('declarator') ?? n.namedChildren.find((c) => c && (c.type === 'identifier' || c.type.endsWith('declarator'))) ?? null;
  }
  return undefined;
}


/**
 * Optional steps of a load for another kernel personality (kernel-sim/freebsd): its own headers,
 * a relocation pass after the globals are laid out (before their initializers and the function
 * bodies, which fold global addresses into constants), and its own wording for undefined symbols
 * (`names` in relocation order: text references first, then data).
 */
export interface LoadHooks {
  resolveHeader?: (name: string) => { path: string; text: string } | string;
  relocate?: (c: Compiler) => void;
  undefinedSymbols?: (module: string, names: string[]) => Error;
  /** Module name (default: the first source's base name). */
  module?: string;
  /**
   * Called as each phase of the load ends, with its name (benches time them): per unit
   * 'preprocess', 'parse', 'tree copy'; then 'declare', 'initialisers', 'compile'.
   */
  phase?: (name: string) => void;
}

/** Most errors a load reports (then a count), as a compiler does. */
export const MAX_LOAD_ERRORS = 50;

/**
 * Every error of a load, compiler style. One error is thrown as it is (a ScenarioError with its
 * position); several become one error whose message lists them, `file:line:col: error: ...`.
 */
class LoadErrors {
  readonly list: ScenarioError[] = [];
  /** Errors inside headers of a kernel tree, by the names the failed declaration declares. */
  readonly deferred = new Map<string, ScenarioError>();
  add(e: unknown): void {
    if (!(e instanceof ScenarioError)) throw e;
    if (this.list.some((x) => x.message === e.message)) return;
    this.list.push(e);
  }
  /** Runs `f`; a ScenarioError it throws is recorded (or deferred by `defer`), anything else rethrown. */
  guard(f: () => void, defer?: (e: ScenarioError) => boolean): void {
    try {
      f();
    } catch (e) {
      if (e instanceof ScenarioError && defer?.(e)) return;
      this.add(e);
    }
  }
  throwIfAny(): void {
    if (!this.list.length) return;
    if (this.list.length === 1) throw this.annotate(this.list[0]!);
    const shown = this.list.slice(0, MAX_LOAD_ERRORS).map((e) => this.annotate(e));
    const lines = shown.map((e) => `${e.file}:${e.line}:${e.column}: error: ${e.reason}`);
    const n = this.list.length;
    lines.push(`${n} error${n === 1 ? '' : 's'}${n > MAX_LOAD_ERRORS ? ` (the first ${MAX_LOAD_ERRORS} shown)` : ''}`);
    const first = this.list[0]!;
    const e = new ScenarioError(first.file, first.line, first.column, first.reason);
    e.message = lines.join('\n');
    throw e;
  }
  /** A driver error that names something whose declaration in a tree header failed says why. */
  private annotate(e: ScenarioError): ScenarioError {
    let d: ScenarioError | undefined;
    for (const m of e.reason.matchAll(/'(?:(?:struct|union|enum) )?([A-Za-z_]\w*)'/g)) d ??= this.deferred.get(m[1]!);
    if (!d) return e;
    return new ScenarioError(e.file, e.line, e.column, `${e.reason} (its declaration at ${d.file}:${d.line}:${d.column} was not understood: ${d.reason})`);
  }
}

/** Names a top-level construct declares (for errors deferred in tree headers). */
function declaredNames(n: SyntaxNode): string[] {
  const out: string[] = [];
  const walk = (x: SyntaxNode | null, depth: number) => {
    if (!x || depth > 6) return;
    if (x.type === 'identifier' || x.type === 'type_identifier') {
      out.push(x.text);
      return;
    }
    if (x.type === 'compound_statement' || x.type === 'field_declaration_list' || x.type === 'parameter_list' || x.type === 'initializer_list') return;
    for (const c of x.namedChildren) walk(c, depth + 1);
  };
  if (n.type === 'function_definition') walk(n.childForFieldName('declarator'), 0);
  else for (const c of n.namedChildren) walk(c, 0);
  return out;
}

/**
 * The first token of a syntax error, quoted, and nothing more of the file: a file that is not C
 * (a password file named .c) must not be echoed. Long or unprintable tokens are cut and escaped.
 */
export function offendingToken(bad: TSNode): string {
  let n = bad;
  while (n.childCount > 0 && n.child(0)) n = n.child(0)!;
  const t = n.text.split(/\s/)[0] || n.text.slice(0, 1);
  const cut = t.length > 24 ? t.slice(0, 24) + '...' : t;
  return `'${cut.replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}

let parserOnDemand = false;

/**
 * `kctx run`: the C parser (tree-sitter's WebAssembly, about 40 ms of CPU to load) is loaded only
 * when a load must parse. A load whose units' syntax trees are revived from the disk cache
 * (needed.ts) parses nothing; the debugger's expressions and late names then need
 * `createCParser()` awaited first (`kctx run --mdb` does). Off (the default), a load has the
 * parser when it returns.
 */
export function setParserOnDemand(on: boolean): void {
  parserOnDemand = on;
}

/** Thrown where a load must parse while the parser is not loaded: the load awaits it and makes its units again. */
const PARSER_NEEDED = new Error('kctx: the C parser is not loaded');

export async function loadDriver(m: Machine, s: Scenario, hooks: LoadHooks = {}): Promise<LoadedProgram> {
  let parser: Parser | undefined = parserOnDemand ? cParserNow() : await createCParser();
  const parse = (): Parser => {
    parser ??= cParserNow();
    if (!parser) throw PARSER_NEEDED;
    return parser;
  };
  const module = hooks.module ?? basename(s.sources[0] ?? 'driver').replace(/\.[ch]$/, '');
  const tus: TU[] = [];
  let lastPre: Preprocessor | null = null;
  const roots = searchRoots(s);
  const inc = { includeDirs: roots.includeDirs, roots: roots.roots, ...(s.gate ? { gate: { defines: roots.defines, undefs: roots.undefs, generated: roots.generated, ...(s.module ? { module: s.module } : {}) } } : {}) };
  let errors = new LoadErrors();
  const optionsKey = JSON.stringify([s.baseDir, s.file, s.builtFor, s.defines, inc]);
  const newPreprocessor = () => new Preprocessor(s.baseDir, s.file, hooks.resolveHeader ?? ((name) => resolveSystemHeader(name, s.builtFor)), s.defines, inc);
  const stubFiles = s.stubs?.files ?? [];
  // With a kernel tree and one translation unit, a load declares only the header constructs the
  // driver needs (needed.ts), and keeps what they are for the next load: in this process
  // (unit-cache.ts) and others (disk-cache.ts). Not with the cache off: then every load
  // declares the whole unit.
  const sources = [...s.sources, ...stubFiles];
  const needing = !!s.gate && !hooks.resolveHeader && sources.length === 1 && diskCacheOn();
  const needsKey = needing ? needsCode(s, module) : '';
  const unitOf = new Map<TU, CachedUnit>();
  // Units preprocessed before a parse found the parser not loaded (made again once it is).
  const preprocessed = new Map<string, { pre: Preprocessor; pp: PreprocessResult; idx: number; id?: string }>();
  const makeUnits = (): void => {
    for (const src of sources) {
      const path = resolve(s.baseDir, src);
      errors.guard(() => {
        // The personalities with their own headers (hooks.resolveHeader) are not cached.
        const key = JSON.stringify([path, src, optionsKey]);
        const make = (): CachedUnit => {
          let early = preprocessed.get(key);
          if (!early) {
            const pre = newPreprocessor();
            // A unit preprocessed by an earlier process, if every file it read is unchanged (disk-cache.ts).
            const { pp, main: idx, id } = preprocessOnce(hooks.resolveHeader ? null : key, pre, generatedText(pre, s.builtFor), () => {
              const main = pre.addSource(path, relative(s.baseDir, path) || src);
              pre.processFile(main);
              return main;
            });
            preprocessed.set(key, (early = { pre, pp, idx, id }));
            hooks.phase?.('preprocess');
          }
          const { pre, pp, idx, id } = early;
          // What an earlier process found this load needs of the unit: only that is parsed.
          const needs = needing && id ? loadNeeds(id, needsKey) : null;
          // Their syntax tree, as an earlier process kept it: nothing is parsed.
          const kept = needs ? neededTree(id!, needsKey, pp.text, needs) : null;
          if (kept) {
            hooks.phase?.('parse');
            hooks.phase?.('tree copy');
            return { pre, pp, tree: null, root: kept, main: idx, id, needs: needs!, needsFor: needsKey, partial: true };
          }
          const part = needs ? parseNeeded(parse(), pp.text, needs) : null;
          if (part) {
            hooks.phase?.('parse');
            const root = plainTree(part, pp.text);
            hooks.phase?.('tree copy');
            keepNeededTree(id!, needsKey, root, needs!, false);
            return { pre, pp, tree: part, root, main: idx, id, needs: needs!, needsFor: needsKey, partial: true };
          }
          // A big unit in two parts on two threads (split-parse.ts), when its tree is not needed whole.
          const split = needing ? null : splitParse(parse(), pp.text);
          if (split) {
            hooks.phase?.('parse');
            hooks.phase?.('tree copy');
            return { pre, pp, tree: null, root: split, main: idx, id };
          }
          const tree = parse().parse(pp.text);
          if (!tree) throw new ScenarioError(path, 1, 1, 'the C parser gave no tree');
          hooks.phase?.('parse');
          const root = plainTree(tree, pp.text);
          hooks.phase?.('tree copy');
          return { pre, pp, tree, root, main: idx, id };
        };
        const u = hooks.resolveHeader ? make() : cachedUnit(key, make);
        // Needs found for another kernel or module, or a load that declares the whole unit (the
        // cache off): the whole tree.
        const fits = needing && u.needs !== undefined && u.needsFor === needsKey;
        if (u.partial && !fits) {
          const tree = parse().parse(u.pp.text);
          if (!tree) throw new ScenarioError(path, 1, 1, 'the C parser gave no tree');
          u.tree = tree;
          u.root = plainTree(tree, u.pp.text);
          u.partial = undefined;
        }
        if (needing && !fits) u.needs = u.needsFor = undefined;
        const { pre, pp, tree, root, main: idx } = u;
        lastPre = pre;
        const tu: TU = { pp, root, main: idx };
        unitOf.set(tu, u);
        // Syntax errors are looked for in web-tree-sitter's own nodes: their hasError also counts
        // errors the parser recovered from inside nodes a tree walk does not show.
        const bad: TSNode[] = [];
        if (tree?.rootNode.hasError) syntaxErrors(tree.rootNode, bad, MAX_LOAD_ERRORS + 1);
        if (bad.length) {
          const c = new Compiler(m, module, new Map());
          c.tu = tu;
          for (const b of bad) {
            const what = b.isMissing ? `expected '${b.type}'` : `unexpected ${offendingToken(b)}`;
            errors.guard(() => c.fail(b, `syntax error: ${what}`));
          }
          return;
        }
        tus.push(tu);
      });
    }
  };
  try {
    makeUnits();
  } catch (e) {
    if (e !== PARSER_NEEDED) throw e;
    // A unit must be parsed: the parser is loaded and the units made again (their preprocessing kept).
    parser = await createCParser();
    errors = new LoadErrors();
    tus.length = 0;
    unitOf.clear();
    lastPre = null;
    makeUnits();
  }
  errors.throwIfAny();
  // With a kernel tree, a header's declaration kctx cannot take stops nothing unless the driver
  // uses what it declares (then the driver's error says why). The driver's own files are the
  // scenario's sources and every C file (`.c`) they include, wherever it is found (a harness
  // that includes the unmodified kvm.c or vmm.c): their errors are the load's errors.
  const inTreeHeader = (tu: TU, n: SyntaxNode): boolean => {
    if (!s.gate) return false;
    const c = new Compiler(m, module, new Map());
    c.tu = tu;
    const o = c.origin(n);
    return o.file !== tu.main && !isDriverFile(tu.pp.files[o.file]!.path);
  };
  // illumos kernel functions mapped on first use (not the other personalities' kernels).
  const lazyNatives = hooks.resolveHeader ? null : new Map([...KAPI_VARARGS, ...KAPI_BARRIERS, ...KAPI_STRINGS, ...KAPI_SOFTSTATE, ...COMPAT_ATOMICS, ...COMPAT_CPUFUNC].map((k) => [k.name, k.impl]));
  const replaces = new Set(s.replaces ?? []);
  for (const r of replaces) {
    if (!m.sym.lookup(r) && !lazyNatives?.has(r)) errors.add(new ScenarioError(s.file, 1, 1, `"replaces": '${r}' is not a function of the ${s.kernel} kernel`));
  }
  // A header's own definition of a function the kernel has (threadp() behind curthread, an
  // inline-asm helper): the kernel's is the one that runs (an intrinsic). Definitions that
  // failed here are not compiled either.
  const intrinsic = new Set<SyntaxNode>();
  // Pass 0: the driver's functions get kernel text addresses.
  const defined = new Map<string, TextSymbol>();
  for (const tu of tus) {
    for (const n of tu.root.namedChildren) {
      if (!n || n.type !== 'function_definition') continue;
      const name = findDeclName(n.childForFieldName('declarator'));
      if (!name) continue;
      const c = new Compiler(m, module, defined);
      c.tu = tu;
      const existing = m.sym.lookup(name);
      const kernelOwn = (existing && existing.kind === 'native' && (existing.module === 'genunix' || existing.module === 'unix')) || (!existing && lazyNatives?.has(name));
      if (kernelOwn && inTreeHeader(tu, n)) {
        intrinsic.add(n);
        continue;
      }
      if (defined.has(name)) {
        // A static inline function of a header included by two sources is one function here.
        if (inTreeHeader(tu, n)) {
          intrinsic.add(n);
          continue;
        }
        errors.guard(() => c.fail(n, `redefinition of '${name}'`));
        intrinsic.add(n);
        continue;
      }
      if (kernelOwn && !replaces.has(name)) {
        errors.guard(() => c.fail(n, `'${name}' is already defined by the kernel (${existing?.module ?? 'genunix'}); a module cannot redefine it (list it in "replaces" to test your own version)`));
        intrinsic.add(n);
        continue;
      }
      let sym: TextSymbol;
      if (existing) {
        // A driver function replaces kctx's built-in model of it (vmm_savectx, kvm_ctx_save, ...).
        existing.kind = 'c';
        existing.impl = undefined;
        existing.module = module;
        sym = existing;
      } else if (!existing && lazyNatives?.has(name)) {
        sym = m.sym.define(name, 'c', module);
      } else sym = m.sym.define(name, 'c', module);
      defined.set(name, sym);
    }
  }
  // Kernel variables a driver may reference.
  m.ensureP0();
  if (!m.sym.data.has('hz')) {
    const a = m.mem.map(8, 8);
    m.mem.writeI32(a, 100);
    m.sym.defineData('hz', a, 4, 'genunix');
  }
  const c = new Compiler(m, module, defined);
  c.lazyNatives = lazyNatives;
  c.opaqueFloats = s.gate !== undefined;
  if (s.stubs?.auto) c.autoStub = autoStubs(m, module);
  const bodies: Array<{ tu: TU; node: SyntaxNode; scope: Scope }> = [];
  const inits: Array<() => void> = [];
  let partial: { tu: TU; u: CachedUnit } | null = null;
  const deferTo = (tu: TU, n: SyntaxNode, e: ScenarioError, into: Map<string, ScenarioError>): boolean => {
    if (!inTreeHeader(tu, n)) return false;
    for (const name of declaredNames(n)) if (!into.has(name)) into.set(name, e);
    return true;
  };
  for (const tu of tus) {
    const u = unitOf.get(tu)!;
    if (needing && !u.needs) {
      // The first load of this unit: what it needs, from its syntax, kept for the next loads.
      // (a unit split-parsed by a load that did not need the whole tree is parsed whole now)
      u.tree ??= (parser ??= await createCParser()).parse(tu.pp.text);
      u.needs = neededOf(u.tree!, tu.pp.text, (n) => {
        const o = originIn(tu, n);
        return o.file === tu.main || isDriverFile(tu.pp.files[o.file]!.path);
      }, MODELLED.flatMap((x) => x.names));
      u.needsFor = needsKey;
      if (u.id) {
        storeNeeds(u.id, needsKey, u.needs);
        keepNeededTree(u.id, needsKey, u.root, u.needs, true);
      }
    }
    // Only the constructs the load needs are declared (a partial tree holds only them).
    const skip = needing && u.needs && !u.partial ? skipped(u.needs) : null;
    if (needing && u.needs) {
      partial = { tu, u };
      notePartial(u.partial === true);
    }
    c.declareTU(tu, bodies, inits, (n, f) => {
      if (skip?.has(n.startIndex)) return;
      errors.guard(f, (e) => deferTo(tu, n, e, errors.deferred));
    });
  }
  // With a kernel tree, kctx's kernel lays its structures out as the tree does (before any of
  // them is placed: the CPUs are laid out again, the threads are made at boot).
  if (s.gate && !hooks.resolveHeader) {
    let layoutErrors: ScenarioError[];
    try {
      layoutErrors = bindTreeLayoutsOf(m, s, c, parse, newPreprocessor, module, optionsKey);
    } catch (e) {
      // It parses (the tree's layouts were not revived) before it binds anything.
      if (e !== PARSER_NEEDED) throw e;
      parser = await createCParser();
      layoutErrors = bindTreeLayoutsOf(m, s, c, parse, newPreprocessor, module, optionsKey);
    }
    for (const e of layoutErrors) errors.add(e);
  }
  hooks.relocate?.(c);
  c.resolveExterns();
  hooks.phase?.('declare');
  for (const f of inits) errors.guard(f);
  hooks.phase?.('initialisers');
  const dataRefs = [...c.unresolved];
  // A warm load compiles each function on first need, as the cold load's record allows (compiled.ts).
  const compiledKey = partial && partial.u.id && errors.list.length === 0 ? `${partial.u.id} ${needsKey} ${JSON.stringify([!!s.stubs?.auto, [...replaces]])}` : null;
  const live = bodies.filter((b) => !intrinsic.has(b.node));
  const named = compiledKey ? live.map((b) => {
    const name = findDeclName(b.node.childForFieldName('declarator')) ?? '';
    return { b, name, sym: defined.get(name)! };
  }) : [];
  const warm = compiledKey !== null && named.every((x) => x.sym) && replayCompiled(m, c, compiledKey, named, (sym, why) => unrunnable.set(sym, why));
  const watch = compiledKey && !warm ? watchCompile(m, c, compiledKey) : null;
  for (const b of warm ? [] : live) {
    let ok = false;
    noteBody(watch, c, findDeclName(b.node.childForFieldName('declarator')) ?? '', () => {
      errors.guard(() => {
        const fn = c.compileFunction(b.node, b.scope, b.tu);
        fn.sym.cfunc = fn;
        c.funcs.set(fn.name, fn);
        ok = true;
      }, (e) => {
        if (!inTreeHeader(b.tu, b.node)) return false;
        // A tree header's function kctx cannot compile (inline assembly, ...) panics if called.
        const name = findDeclName(b.node.childForFieldName('declarator'));
        const sym = name ? defined.get(name) : undefined;
        if (sym) unrunnable.set(sym, `${name}() at ${e.file}:${e.line} cannot run in kctx: ${e.reason}`);
        return true;
      });
      return ok;
    }, () => {
      const name = findDeclName(b.node.childForFieldName('declarator'));
      const sym = name ? defined.get(name) : undefined;
      return sym ? unrunnable.get(sym) : undefined;
    });
  }
  hooks.phase?.('compile');
  if (errors.list.length && partial) {
    // A driver error recalls the header declaration that failed as a load of the whole unit
    // finds it: the whole unit is declared again, in a compiler of its own (the load fails).
    const { tu, u } = partial;
    parser ??= await createCParser();
    const whole: TU = u.partial ? { ...tu, root: plainTree(parser.parse(tu.pp.text)!, tu.pp.text) } : tu;
    const again = new Compiler(m, module, defined);
    again.lazyNatives = c.lazyNatives;
    again.opaqueFloats = c.opaqueFloats;
    errors.deferred.clear();
    again.declareTU(whole, [], [], (n, f) => {
      try {
        f();
      } catch (e) {
        if (!(e instanceof ScenarioError)) throw e;
        deferTo(whole, n, e, errors.deferred);
      }
    });
  }
  errors.throwIfAny();
  if (c.unresolved.size && hooks.undefinedSymbols) {
    const text = [...c.unresolved].filter((n) => !dataRefs.includes(n));
    throw hooks.undefinedSymbols(module, [...text, ...dataRefs]);
  }
  if (c.unresolved.size) {
    const names = [...c.unresolved].sort();
    throw loadError([...names.map((n) => `/kernel/drv/amd64/${module}: undefined symbol '${n}'`), `WARNING: mod_load: cannot load module '${module}'`, `(kctx: "stubs": "auto" or --stubs auto makes stubs of them)`]);
  }
  if (watch && !errors.list.length) storeCompiled(m, c, watch, new Set(lazyNatives?.keys() ?? []));
  m.hooks.callC = callC;
  const program: LoadedProgram = {
    compiler: c,
    funcs: c.funcs,
    functionAddr(name) {
      return c.funcs.get(name)?.sym.addr;
    },
    checkEntry(name) {
      const f = c.funcs.get(name);
      if (!f) return `no function '${name}' is defined in the sources (${s.sources.join(', ')})`;
      const ps = f.type.params ?? [];
      const ok = f.type.ret.k === 'void' && (ps.length === 0 || (ps.length === 1 && (ps[0]!.k === 'ptr' || ps[0]!.k === 'int')));
      if (!ok) return `'${name}' is '${typeName(f.type)}'; a thread entry must be 'void ${name}(void *)'`;
      return null;
    },
  };
  // The header types the load did not declare, for the debugger, when first asked for.
  if (!parserOnDemand) parser ??= await createCParser();
  // The debugger's parser: loaded by now unless on demand (then `createCParser()` is awaited first).
  const parserNow = (): Parser | undefined => (parser ??= cParserNow());
  if (partial) {
    declareRestLate(c, () => new Compiler(m, module, new Map()), () => {
      const p = parserNow();
      if (!p) throw new Error('the C parser is not loaded (kctx: createCParser() first)');
      return p;
    }, partial.tu);
  }
  m.program = createDebug(m, c, s, lastPre, parserNow);
  return program;
}

/**
 * What a unit's needs depend on besides its text: the compiler's code (a construct that fails
 * with one version may not with another), the running kernel and the module's name.
 */
let compilerPrint: string | undefined;
function needsCode(s: Scenario, module: string): string {
  if (!compilerPrint) {
    const parts: string[] = [String(loadDriver), neededCode()];
    for (let k: unknown = Compiler; typeof k === 'function' && k !== Function.prototype; k = Object.getPrototypeOf(k)) parts.push(String(k));
    compilerPrint = fingerprint(...parts);
  }
  return `${compilerPrint} ${JSON.stringify([s.kernel, module])}`;
}

/** A file of the driver's own code (not a header): its errors are load errors, never deferred. */
export function isDriverFile(path: string): boolean {
  return !path.startsWith('<') && path.endsWith('.c');
}

export { YIELD };
