/**
 * Headers a uts build generates before it compiles anything: `uts/common/sys/Makefile`'s
 * GENHDRS (`<sys/priv_names.h>` and `<sys/priv_const.h>` from `os/priv_defs`, `<sys/usb/usbdevs.h>`
 * from `io/usb/usbdevs`). A checkout does not have them. kctx reads each one's rule from that
 * makefile and, when an `#include` finds the header nowhere else, runs it as make would: the
 * rule must be one `$(AWK)` command (`-f SCRIPT`, `-v NAME=VALUE`, input files, `< FILE`,
 * `> $@`), run with the host's awk directly, never through a shell. The header is written to a
 * folder named by what went into it (kept in kctx's cache folder, or a folder of this process
 * removed at its exit when the cache is off), so the same tree gives the same bytes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { diskCacheDir, diskCacheOn } from '../io/cache-store';

/** One generated header's rule, as the makefile gives it (plain data: kept with the gate's build). */
export interface GeneratedRule {
  /** The `#include` name: `sys/priv_names.h`. */
  name: string;
  /** awk's arguments, `$@` replaced by the target relative to the makefile's folder. */
  args: string[];
  /** The file given on awk's standard input (`< FILE`), absolute. */
  stdin?: string;
  /** `> $@`: awk's standard output is the header. */
  stdout: boolean;
  /** The target as the makefile names it (`priv_names.h`, `usb/usbdevs.h`), relative to `sys/`. */
  target: string;
  /** Where the rule is (`.../uts/common/sys/Makefile:1337`), for messages. */
  at: string;
}

/** The makefile whose GENHDRS the build makes first, and the folder its targets are in. */
export const GENERATED_MAKEFILE = 'usr/src/uts/common/sys/Makefile';
const INCLUDE_PREFIX = 'sys/';

/** Largest makefile read, largest header made. */
const MAX_MAKEFILE_BYTES = 4 * 1024 * 1024;
const MAX_HEADER_BYTES = 8 * 1024 * 1024;
/** How long one awk run may take (a generator that does not finish is an error, not a hang). */
const GENERATOR_TIMEOUT_MS = 20_000;

/**
 * The generated headers' rules in `gate`'s GENERATED_MAKEFILE. `expand` expands `$(VAR)` with the
 * variables of the build (Makefile.uts names the scripts and their inputs). A rule kctx cannot
 * run as it is written is left out (the header then stays "not found").
 */
export function generatedRules(gate: string, expand: (v: string) => string, tried: Set<string>): GeneratedRule[] {
  const file = join(gate, GENERATED_MAKEFILE);
  tried.add(file);
  let text: string;
  try {
    if (statSync(file).size > MAX_MAKEFILE_BYTES) return [];
    text = readFileSync(file, 'latin1');
  } catch {
    return [];
  }
  // Logical lines (backslash-newlines joined), each with the number of its first physical line.
  const lines: Array<{ text: string; line: number }> = [];
  text.split('\n').forEach((raw, i) => {
    const last = lines[lines.length - 1];
    if (last && /\\\r?$/.test(last.text)) last.text = last.text.replace(/\\\r?$/, ' ') + raw;
    else lines.push({ text: raw, line: i + 1 });
  });
  const gen = lines.find((l) => /^GENHDRS\s*=/.test(l.text));
  if (!gen) return [];
  const targets = gen.text.replace(/^GENHDRS\s*=/, '').trim().split(/\s+/).filter(Boolean);
  const rules: GeneratedRule[] = [];
  for (const target of targets) {
    const at = lines.findIndex((l) => l.text.startsWith(`${target}:`) && !l.text.startsWith(`${target}:=`));
    if (at < 0) continue;
    const recipe: Array<{ text: string; line: number }> = [];
    for (let i = at + 1; i < lines.length && lines[i]!.text.startsWith('\t'); i++) if (lines[i]!.text.trim()) recipe.push(lines[i]!);
    if (recipe.length !== 1 || !recipe[0]!.text.trim().startsWith('$(AWK)')) continue;
    const words = expand(recipe[0]!.text.trim().slice('$(AWK)'.length)).split(/\s+/).filter(Boolean);
    const rule: GeneratedRule = { name: INCLUDE_PREFIX + target, args: [], stdout: false, target, at: `${file}:${recipe[0]!.line}` };
    let ok = true;
    for (let i = 0; i < words.length && ok; i++) {
      const w = words[i]!;
      if (/["'`\\;&|*?$(){}]/.test(w.replace(/\$@/g, ''))) ok = false;
      else if (w === '<') rule.stdin = words[++i];
      else if (w === '>') ok = words[++i] === '$@' && (rule.stdout = true);
      else rule.args.push(w.replace(/\$@/g, target));
    }
    if (ok && (rule.stdin === undefined || rule.stdin.startsWith('/'))) rules.push(rule);
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

/** What went into a rule's output: its words and its input files' contents. */
function fingerprint(rule: GeneratedRule): string | null {
  const h = createHash('sha256').update(JSON.stringify([rule.args, rule.stdin ?? null, rule.stdout, rule.target]));
  for (const f of [...rule.args.filter((a) => a.startsWith('/')), ...(rule.stdin ? [rule.stdin] : [])]) {
    try {
      if (statSync(f).size > MAX_MAKEFILE_BYTES) return null;
      h.update(readFileSync(f));
    } catch {
      return null;
    }
  }
  return h.digest('hex').slice(0, 32);
}

/**
 * Makes the header of `rule` (once per inputs) and gives the folder to search for its `name`,
 * or why it could not be made, in words.
 */
export function generateHeader(rule: GeneratedRule): { dir: string } | { why: string } {
  const print = fingerprint(rule);
  if (!print) return { why: `an input of the rule at ${rule.at} cannot be read` };
  const dir = join(outputRoot(), print);
  const out = join(dir, rule.name);
  if (existsSync(out)) return { dir };
  // Made in a folder of its own, then moved in place: another process may be making it too.
  const work = `${dir}.${process.pid}.tmp`;
  const cwd = join(work, INCLUDE_PREFIX);
  let input: number | undefined;
  try {
    mkdirSync(dirname(join(cwd, rule.target)), { recursive: true });
    if (rule.stdin) input = openSync(rule.stdin, 'r');
    const r = spawnSync('awk', rule.args, {
      cwd,
      stdio: [input ?? 'ignore', rule.stdout ? 'pipe' : 'ignore', 'pipe'],
      timeout: GENERATOR_TIMEOUT_MS,
      maxBuffer: MAX_HEADER_BYTES,
      encoding: 'buffer',
    });
    if (r.error) return { why: `awk: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}` };
    if (r.status !== 0) return { why: `awk exited with ${r.status ?? r.signal}: ${String(r.stderr).trim().split('\n')[0] ?? ''}` };
    if (rule.stdout) writeFileSync(join(cwd, rule.target), r.stdout);
    if (!existsSync(join(cwd, rule.target))) return { why: `awk did not write ${rule.target}` };
    mkdirSync(dirname(out), { recursive: true });
    renameInto(join(cwd, rule.target), out);
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
