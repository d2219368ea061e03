/**
 * The one era inference: which ctxop interface a piece of C is written against, from the calls it
 * makes. The linter (language-server/model.ts, per file and per `#if` branch), the extension's
 * "Simulate this driver" and code lens (extension/cscan.ts) all ask it; each tool gathers the
 * evidence with its own parse and applies its own documented default.
 */
import { CTXOP_API } from './ctxop-api';
import { ERA_OF_API, type ApiEra, type EraId } from './eras';

/** What the code uses: each ctxop call's name and argument count, and a `struct ctxop_template`. */
export interface EraEvidence {
  calls: Iterable<{ name: string; args: number }>;
  /** `struct ctxop_template` appears (a template declared or named). */
  template?: boolean;
}

/**
 * The interface the code is written against, or undefined when it uses none: any ctxop_* call or
 * a ctxop_template means 13917; installctx_preallocate() or a 9-argument installctx() means 13915;
 * another installctx() or a removectx() means the kernels before 13915 ('12477').
 */
export function apiOfCode(ev: EraEvidence): ApiEra | undefined {
  let legacy = false;
  let api13915 = false;
  for (const c of ev.calls) {
    if (CTXOP_API.has(c.name)) return '13917';
    if (c.name === 'installctx_preallocate' || (c.name === 'installctx' && c.args === 9)) api13915 = true;
    else if (c.name === 'installctx' || c.name === 'removectx') legacy = true;
  }
  if (ev.template) return '13917';
  if (api13915) return '13915';
  return legacy ? '12477' : undefined;
}

/** Newer interfaces rank higher: 0 none, 1 pre-13915, 2 13915, 3 13917. */
export function apiRank(api: ApiEra | undefined): number {
  return api === '13917' ? 3 : api === '13915' ? 2 : api === '12477' ? 1 : 0;
}

/**
 * The kernel the linter checks against under `--era auto` (README "kctx lint"): 13915 for code
 * written against 13915, otherwise 13917, the current kernel, so that legacy calls written for
 * older kernels are reported as gone.
 */
export function lintEraOf(ev: EraEvidence): ApiEra {
  return apiOfCode(ev) === '13915' ? '13915' : '13917';
}

/**
 * The kernel to simulate code on (docs/extension.md "Simulate this driver": the era from the
 * API the file uses): one where its calls exist, so an 8-argument installctx() runs on
 * illumos-12477. Undefined when the code uses no ctxop interface.
 */
export function runEraOf(ev: EraEvidence): EraId | undefined {
  const api = apiOfCode(ev);
  return api ? ERA_OF_API[api] : undefined;
}

/** The era a kernel tree's own headers declare, and the words that say why. */
export interface HeaderEra { era: EraId; why: string }

/**
 * The era a kernel tree declares, from the text of its `common/sys/proc.h` (and, to tell the
 * kernels before 12477 apart, `common/sys/thread.h`): `struct ctxop_template` or `ctxop_install()`
 * means 13917; `installctx_preallocate()` or a 9-parameter `installctx()` means 13915; an
 * 8-parameter `installctx()` means 12477, or before it when thread.h is given and its
 * `struct ctxop` has no `prev` link (the NULL-terminated list). Null when proc.h declares no
 * ctxop interface. The simulator's `gate` and the linter's `--era auto` both read trees with it.
 */
export function eraOfKernelHeaders(procH: string, threadH?: string): HeaderEra | null {
  const p = procH.replace(/\/\*[\s\S]*?\*\//g, ' ');
  if (/\bstruct\s+ctxop_template\s*\{/.test(p)) return { era: 'illumos-13917', why: 'declares struct ctxop_template' };
  if (/\bctxop_install\s*\(/.test(p)) return { era: 'illumos-13917', why: 'declares ctxop_install()' };
  if (/\binstallctx_preallocate\s*\(/.test(p)) return { era: 'illumos-13915', why: 'declares installctx_preallocate()' };
  const m = /\bvoid\s+installctx\s*\(([^;]*)\)\s*;/.exec(p);
  if (!m) return null;
  // Top-level commas of the parameter list (function-pointer parameters nest parentheses).
  let depth = 0;
  let params = 1;
  for (const c of m[1]!) { if (c === '(') depth++; else if (c === ')') depth--; else if (c === ',' && depth === 0) params++; }
  const why = `declares installctx() with ${params} parameters`;
  if (params >= 9) return { era: 'illumos-13915', why };
  if (threadH === undefined) return { era: 'illumos-12477', why };
  const ring = /\bstruct\s+ctxop\s*\*\s*prev\s*;/.test(threadH.replace(/\/\*[\s\S]*?\*\//g, ' '));
  return ring
    ? { era: 'illumos-12477', why: `${why}, and thread.h gives struct ctxop a prev link` }
    : { era: 'illumos-pre12477', why: `${why}, and thread.h gives struct ctxop no prev link` };
}
