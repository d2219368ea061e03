/**
 * Headers a uts build generates before it compiles anything, so a checkout does not have them:
 * `uts/common/sys/Makefile`'s GENHDRS (`<sys/priv_names.h>` and `<sys/priv_const.h>` from
 * `os/priv_defs`, `<sys/usb/usbdevs.h>`, by awk scripts) and `uts/common/rpc/Makefile`'s
 * DERIVED_FILES (`<rpc/rpc_sztypes.h>` and others, by rpcgen from `.x` files). kctx reads each
 * one's rule from its makefile and, when an `#include` finds the header nowhere else, runs it as
 * make would, in the makefile's folder: the rule must be one `$(AWK)` command (words,
 * `< FILE`, `> $@`, `$@` as an argument), run with the host's awk directly, never through a
 * shell; an rpcgen rule runs the host's rpcgen the same way, its 64-bit type names spelt as
 * illumos' rpcgen spells them (RUNS). The header is written to a folder named by what went into it (kept in kctx's
 * cache folder, or a folder of this process removed at its exit when the cache is off), so the
 * same tree gives the same bytes.
 */
import { fingerprint as printOf } from '../../core/fingerprint';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { diskCacheDir, diskCacheOn } from '../io/cache-store';
import { logicalLines, makefileText } from './makefile';

/** One generated header's rule, as its makefile gives it (plain data: kept with the gate's build). */
export interface GeneratedRule {
  /** The `#include` name: `sys/priv_names.h`. */
  name: string;
  /** The program: `awk` or `rpcgen`. */
  tool: string;
  /** Its arguments; OUTPUT where the rule says `$@`. */
  args: string[];
  /** The file given on its standard input (`< FILE`), relative to `cwd` or absolute. */
  stdin?: string;
  /** `> $@`: its standard output is the header. */
  stdout: boolean;
  /** The makefile's folder, where make runs the rule. */
  cwd: string;
  /** Where the rule is (`.../uts/common/sys/Makefile:1337`), for messages. */
  at: string;
}

/** The makefiles whose generated headers a build makes first: the list variable, the include prefix. */
const GENERATOR_MAKEFILES: ReadonlyArray<{ makefile: string; list: string; prefix: string }> = [
  { makefile: 'usr/src/uts/common/sys/Makefile', list: 'GENHDRS', prefix: 'sys/' },
  { makefile: 'usr/src/uts/common/rpc/Makefile', list: 'DERIVED_FILES', prefix: 'rpc/' },
];

/** The make variables of the generators rules use, and the host program each names. */
const TOOLS: ReadonlyMap<string, string> = new Map([['$(AWK)', 'awk'], ['$(RPCGEN)', 'rpcgen']]);

/**
 * The programs kctx runs. awk runs the tree's own scripts (POSIX awk, as the build's nawk).
 * rpcgen is the host's (Debian's rpcsvc-proto), whose headers differ from illumos' rpcgen's in
 * how they spell XDR's 64-bit types: `unsigned hyper` is its `u_quad_t`, which the kernel's
 * headers do not declare, and `hyper` its `quad_t`, which in illumos is a two-int struct;
 * illumos' rpcgen writes `u_longlong_t` and `longlong_t` (cmd/rpcgen/rpc_parse.c). SPELLINGS
 * rewrites those in what the host's tool made, so the header declares what the tree's build
 * makes; an input on which the two tools differ more is not run (DIFFERS).
 */
const RUNS: ReadonlySet<string> = new Set(['awk', 'rpcgen']);
const SPELLINGS: ReadonlyMap<string, ReadonlyArray<readonly [RegExp, string]>> = new Map([
  ['rpcgen', [[/\bu_quad_t\b/g, 'u_longlong_t'], [/\bquad_t\b/g, 'longlong_t']]],
]);

/**
 * An input the host's tool does not make as the tree's does. The host's rpcgen writes every
 * XDR function's prototype at the end of the header, where illumos' writes each after its type;
 * in an XDR file that passes preprocessor lines through (`%#ifndef _KERNEL` in rpcb_prot.x, whose
 * kernel half declares `RPCB` but not `rpcb`), the host's prototypes then name types the kernel's
 * half does not declare.
 */
const DIFFERS: ReadonlyMap<string, { test: RegExp; why: string }> = new Map([
  ['rpcgen', { test: /^%[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b/m, why: "its XDR file passes preprocessor conditionals through (%#if...), and the host's rpcgen, unlike illumos', writes the XDR prototypes after them all" }],
]);

/** Where `$@` was, in GeneratedRule.args. */
const OUTPUT = '\0output';

/** Largest input file a rule names (its makefile is read through makefile.ts), largest header made. */
const MAX_INPUT_BYTES = 4 * 1024 * 1024;
const MAX_HEADER_BYTES = 8 * 1024 * 1024;
/** How long one generator run may take (one that does not finish is an error, not a hang). */
const GENERATOR_TIMEOUT_MS = 20_000;

/**
 * The generated headers' rules of `gate`'s generator makefiles. `expand` expands `$(VAR)` with
 * the build's variables (Makefile.uts names the scripts and their inputs). A rule kctx cannot run
 * as it is written is left out (its header then stays "not found").
 */
export function generatedRules(gate: string, expand: (v: string) => string, tried: Set<string>): GeneratedRule[] {
  const rules: GeneratedRule[] = [];
  for (const g of GENERATOR_MAKEFILES) {
    const file = join(gate, g.makefile);
    tried.add(file);
    const text = makefileText(file);
    if (text === null) continue;
    const lines = logicalLines(text);
    const listRe = new RegExp(`^${g.list}\\s*=`);
    const list = lines.find((l) => listRe.test(l.text));
    if (!list) continue;
    for (const target of list.text.replace(listRe, '').trim().split(/\s+/).filter(Boolean)) {
      const at = lines.findIndex((l) => l.text.startsWith(`${target}:`) && !l.text.startsWith(`${target}:=`));
      if (at < 0) continue;
      const recipe: Array<{ text: string; line: number }> = [];
      for (let i = at + 1; i < lines.length && lines[i]!.text.startsWith('\t'); i++) if (lines[i]!.text.trim()) recipe.push(lines[i]!);
      if (recipe.length !== 1) continue;
      const cmd = recipe[0]!.text.trim();
      const tool = [...TOOLS].find(([v]) => cmd.startsWith(`${v} `));
      if (!tool) continue;
      const words = expand(cmd.slice(tool[0].length)).split(/\s+/).filter(Boolean);
      const rule: GeneratedRule = { name: g.prefix + target, tool: tool[1], args: [], stdout: false, cwd: dirname(file), at: `${file}:${recipe[0]!.line}` };
      let ok = true;
      for (let i = 0; i < words.length && ok; i++) {
        const w = words[i]!;
        if (/["'`\\;&|*?$(){}<>]/.test(w.replace(/\$@/g, '')) && w !== '<' && w !== '>') ok = false;
        else if (w === '<') ok = (rule.stdin = words[++i]) !== undefined && !words[i]!.includes('$');
        else if (w === '>') ok = words[++i] === '$@' && (rule.stdout = true);
        else rule.args.push(w.replace(/\$@/g, OUTPUT));
      }
      if (ok) rules.push(rule);
    }
  }
  return rules;
}

let processDir: string | null = null;

function outputRoot(): string {
  const cache = diskCacheOn() ? diskCacheDir() : null;
  if (cache) return join(cache, 'gen');
  if (!processDir) {
    processDir = mkdtempSync(join(tmpdir(), 'kctx-gen-'));
    const dir = processDir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return processDir;
}

/** The rule's command as make would run it, its output called HEADER. */
function shown(rule: GeneratedRule): string {
  return [rule.tool, ...rule.args.map((a) => a.split(OUTPUT).join('HEADER')), ...(rule.stdout ? ['> HEADER'] : [])].join(' ');
}

/**
 * The files a rule reads, read once: its arguments that name files (not options or the output)
 * and its standard input; null when one cannot be read (a missing stdin, a folder, too large).
 */
function readInputs(rule: GeneratedRule): Array<{ path: string; bytes: Buffer }> | null {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const a of [...rule.args.filter((w) => !w.startsWith('-') && !w.includes(OUTPUT)), ...(rule.stdin ? [rule.stdin] : [])]) {
    const path = resolve(rule.cwd, a);
    let st;
    try {
      st = statSync(path);
    } catch {
      if (a === rule.stdin) return null;
      continue; // a word that is not a file
    }
    if (!st.isFile() || st.size > MAX_INPUT_BYTES) return null;
    out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

/** What went into a rule's output: the rule, kctx's rewrites of its tool's output, and its inputs' contents. */
function fingerprint(rule: GeneratedRule, inputs: ReadonlyArray<{ path: string; bytes: Buffer }>): string {
  const spell = (SPELLINGS.get(rule.tool) ?? []).map(([from, to]) => [String(from), to]);
  return printOf(JSON.stringify([rule.tool, rule.args, rule.stdin ?? null, rule.stdout, rule.cwd, rule.name, spell]), ...inputs.flatMap((x) => [x.path, x.bytes]));
}

/**
 * Makes the header of `rule` (once per inputs) and gives the folder to search for its `name`,
 * or why it could not be made, in words.
 */
export function generateHeader(rule: GeneratedRule): { dir: string } | { why: string } {
  if (!RUNS.has(rule.tool)) {
    return { why: `kctx runs only ${[...RUNS].join(' and ')} rules, not ${rule.tool}: make it with the tree's own tool (in ${rule.cwd}: ${shown(rule)}) into a folder listed in "includePaths"` };
  }
  const inputs = readInputs(rule);
  if (!inputs) return { why: `an input of the rule at ${rule.at} cannot be read` };
  const differs = DIFFERS.get(rule.tool);
  if (differs && inputs.some((x) => differs.test.test(x.bytes.toString('latin1')))) {
    return { why: `${differs.why}: make it with the tree's own tool (in ${rule.cwd}: ${shown(rule)}) into a folder listed in "includePaths"` };
  }
  const dir = join(outputRoot(), fingerprint(rule, inputs));
  const out = join(dir, rule.name);
  if (existsSync(out)) return { dir };
  // Made in a folder of its own, then moved in place: another process may be making it too.
  const work = `${dir}.${process.pid}.tmp`;
  const made = join(work, 'out');
  let input: number | undefined;
  try {
    mkdirSync(work, { recursive: true });
    if (rule.stdin) input = openSync(resolve(rule.cwd, rule.stdin), 'r');
    // child_process loads on first use (20 ms of a warm load's start otherwise).
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const r = spawnSync(rule.tool, rule.args.map((a) => a.split(OUTPUT).join(made)), {
      cwd: rule.cwd,
      stdio: [input ?? 'ignore', rule.stdout ? 'pipe' : 'ignore', 'pipe'],
      timeout: GENERATOR_TIMEOUT_MS,
      maxBuffer: MAX_HEADER_BYTES,
      encoding: 'buffer',
    });
    if (r.error) return { why: `${rule.tool}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}` };
    if (r.status !== 0) return { why: `${rule.tool} exited with ${r.status ?? r.signal}: ${String(r.stderr).trim().split('\n')[0] ?? ''}` };
    if (rule.stdout) writeFileSync(made, r.stdout);
    if (!existsSync(made)) return { why: `${rule.tool} did not write the header` };
    const spell = SPELLINGS.get(rule.tool);
    if (spell) writeFileSync(made, spell.reduce((t, [from, to]) => t.replace(from, to), readFileSync(made, 'latin1')), 'latin1');
    mkdirSync(dirname(out), { recursive: true });
    renameInto(made, out);
    return { dir };
  } catch (e) {
    return { why: (e as Error).message };
  } finally {
    if (input !== undefined) closeSync(input);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Moves the made header in place; another process that made it first wins (same bytes). */
function renameInto(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if (!existsSync(to)) throw e;
  }
}
