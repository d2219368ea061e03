/**
 * Differential testing against gcc with csmith's random programs (Debian's `csmith` and
 * `libcsmith-dev`). A program prints the CRC-32 of its globals; gcc -O0 runs it as a user
 * program, kctx runs it as a kernel thread: they must print the same checksum.
 *
 * kctx builds a program with its own prelude in place of csmith's runtime header (kernel
 * types, the CRC written here, printf as cmn_err, main renamed) and a copy of the installed
 * safe_math.h without its floating-point helpers (kernel C has no floating point; csmith's
 * default options generate none in the programs themselves).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKernel } from '../../kernel-sim/kernel';
import { scenarioFromObject, ScenarioError } from '../../kernel-sim/scenario';
import { loadDriver } from '../../kernel-sim/cinterp/index';

export const CSMITH_INCLUDE = '/usr/include/csmith';

export function csmithAvailable(): boolean {
  return existsSync(join(CSMITH_INCLUDE, 'safe_math.h')) && spawnSync('csmith', ['--version']).status === 0;
}

export function gccAvailable(): boolean {
  return spawnSync('gcc', ['--version']).status === 0;
}

/** Writes csmith's program for `seed` (default options) to dir/prog.c. */
export function generate(seed: number, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'prog.c');
  execFileSync('csmith', ['--seed', String(seed), '-o', file], { stdio: 'ignore' });
  return file;
}

/** gcc -O0's checksum of the program, or why there is none (it ran over `ms`, or did not build). */
export function gccChecksum(file: string, ms = 2000): { sum?: string; why?: string } {
  const exe = file.replace(/\.c$/, '.gcc');
  const b = spawnSync('gcc', ['-O0', '-w', `-I${CSMITH_INCLUDE}`, '-o', exe, file], { encoding: 'utf8' });
  if (b.status !== 0) return { why: `gcc: ${(b.stderr || '').split('\n')[0]}` };
  const r = spawnSync(exe, [], { encoding: 'utf8', timeout: ms });
  if (r.error || r.status !== 0) return { why: r.error ? 'timeout' : `exit ${r.status}` };
  const m = /checksum = ([0-9A-F]+)/.exec(r.stdout);
  return m ? { sum: m[1]! } : { why: 'no checksum' };
}

/** The prelude kctx includes as "csmith.h". */
const PRELUDE = `/* csmith's runtime for a kctx kernel thread (written for kctx). */
#include <sys/types.h>
#include <sys/cmn_err.h>
#define INT8_MIN (-128)
#define INT8_MAX 127
#define INT16_MIN (-32768)
#define INT16_MAX 32767
#define INT32_MIN (-2147483647 - 1)
#define INT32_MAX 2147483647
#define INT64_MIN (-9223372036854775807L - 1)
#define INT64_MAX 9223372036854775807L
#define UINT8_MAX 255
#define UINT16_MAX 65535
#define UINT32_MAX 4294967295U
#define UINT64_MAX 18446744073709551615UL
#define INT_MIN INT32_MIN
#define INT_MAX INT32_MAX
#define UINT_MAX UINT32_MAX
#define STATIC static
#define UNDEFINED(v) (v)
#define LOG_INDEX
#define LOG_EXEC
#define printf(...) cmn_err(CE_CONT, __VA_ARGS__)
#define FUNC_NAME(x) (safe_##x)
#include "safe_math.h"
#undef FUNC_NAME

static uint32_t crc32_tab[256];
static uint32_t crc32_context = 0xFFFFFFFFU;
uint32_t csmith_checksum;

static void
crc32_gentab(void)
{
	int n, k;
	for (n = 0; n < 256; n++) {
		uint32_t r = n;
		for (k = 0; k < 8; k++)
			r = (r & 1) ? (r >> 1) ^ 0xEDB88320U : r >> 1;
		crc32_tab[n] = r;
	}
}

static void
crc32_byte(uint8_t b)
{
	crc32_context = (crc32_context >> 8) ^ crc32_tab[(crc32_context ^ b) & 0xFF];
}

static void
transparent_crc(uint64_t val, char *vname, int flag)
{
	int i;
	for (i = 0; i < 8; i++)
		crc32_byte((val >> (8 * i)) & 0xff);
}

static void
transparent_crc_bytes(char *ptr, int nbytes, char *vname, int flag)
{
	int i;
	for (i = 0; i < nbytes; i++)
		crc32_byte(ptr[i]);
}

static void
platform_main_begin(void)
{
}

static void
platform_main_end(uint32_t crc, int flag)
{
	csmith_checksum = crc;
	cmn_err(CE_CONT, "checksum = %X\\n", crc);
}

#define main csmith_main
`;

const ENTRY = `extern int csmith_main(int, char **);

void
csmith_entry(void *arg)
{
	char *argv[2] = { "prog", 0 };
	(void) csmith_main(1, argv);
}
`;

/** The installed safe_math.h without the functions that take or return floating types. */
function safeMathWithoutFloat(): string {
  const text = readFileSync(join(CSMITH_INCLUDE, 'safe_math.h'), 'utf8');
  // Each helper starts at a line "STATIC <type>"; drop the ones whose signature has float/double.
  const parts = text.split(/\n(?=STATIC )/);
  // A dropped helper keeps its conditional directives, so every #if still has its #endif.
  return parts.map((p) => (p.startsWith('STATIC ') && /\b(float|double)\b/.test(p.split('{')[0]!)
    ? p.split('\n').filter((l) => /^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b/.test(l)).join('\n')
    : p)).join('\n');
}

export type KctxResult =
  | { kind: 'ok'; sum: string }
  | { kind: 'load'; why: string }
  | { kind: 'panic'; why: string }
  | { kind: 'limit' }
  | { kind: 'crash'; why: string };

/** The kctx scenario of the program from/prog.c (its files written to from/kctx). */
export function kctxScenario(from: string): ReturnType<typeof scenarioFromObject> {
  // Its own folder: gcc, which includes csmith's csmith.h, may build from `from` again.
  const dir = join(from, 'kctx');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prog.c'), readFileSync(join(from, 'prog.c')));
  writeFileSync(join(dir, 'csmith.h'), PRELUDE);
  writeFileSync(join(dir, 'safe_math.h'), safeMathWithoutFloat());
  writeFileSync(join(dir, 'entry.c'), ENTRY);
  return scenarioFromObject({
    kernel: 'illumos-13917', cpus: 1, sources: ['prog.c', 'entry.c'], tickCycles: 100000, quantum: 1000, slice: 100000,
    threads: [{ name: 'csmith', entry: 'csmith_entry', arg: 0 }],
  }, join(dir, 'csmith.ksim.json'), dir);
}

/** Runs the program (from/prog.c) in kctx for at most `maxSteps` steps. */
export async function kctxChecksum(from: string, maxSteps = 2_000_000_000): Promise<KctxResult> {
  const s = kctxScenario(from);
  let m;
  try {
    m = await createKernel(s, { loadDriver });
  } catch (e) {
    if (e instanceof ScenarioError) return { kind: 'load', why: e.message };
    return { kind: 'crash', why: String((e as Error).stack ?? e).split('\n').slice(0, 3).join(' | ') };
  }
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  try {
    const r = m.run(maxSteps);
    if (r.kind === 'panic') return { kind: 'panic', why: r.info.message };
    if (r.kind !== 'end') return { kind: 'limit' };
  } catch (e) {
    return { kind: 'crash', why: String((e as Error).stack ?? e).split('\n').slice(0, 3).join(' | ') };
  }
  const hit = /checksum = ([0-9A-F]+)/.exec(out.join(''));
  return hit ? { kind: 'ok', sum: hit[1]! } : { kind: 'panic', why: 'no checksum printed' };
}
