/**
 * `.kctx.json`, the project's lint configuration, found by walking up from a file's folder (the
 * nearest one wins, as with .clang-tidy). Its keys are the VS Code settings' (`kctx.` optional):
 *
 *   { "kernelEra": "auto", "gate": "../illumos-gate",
 *     "lint": { "rules": { "assert-side-effect": "off" }, "exclude": ["**\/gen/*.c"] } }
 *
 * (or `"kctx.lint.rules": {...}` flat). Comments are allowed. `kctx lint` and the language server
 * read it; command-line flags and the editor's own settings come on top. A malformed file is an
 * error naming the file, line and key.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { EraSetting, RuleSetting } from './engine';
import { RULES_BY_ID } from './rules/index';
import { globToRegExp } from './glob';
import { API_ERAS } from '../core/eras';

export const CONFIG_NAME = '.kctx.json';
export const ERA_SETTINGS: ReadonlySet<string> = new Set(['auto', ...API_ERAS]);
export const RULE_LEVELS: ReadonlySet<string> = new Set(['error', 'warning', 'information', 'hint', 'off']);

export interface ProjectConfig {
  /** The file it came from (absolute). */
  path: string;
  kernelEra?: EraSetting;
  rules: Record<string, RuleSetting>;
  exclude: string[];
  /** The kernel tree (absolute), for era detection. */
  gate?: string;
}

export class ConfigError extends Error {}

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Reads and checks one .kctx.json; throws ConfigError (file:line: why) when it is malformed. */
export function loadConfig(path: string): ProjectConfig {
  let text: string;
  try {
    if (statSync(path).size > 1024 * 1024) throw new ConfigError(`${path}: over 1 MB; not a configuration file`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  const errors: ParseError[] = [];
  const raw = parse(text, errors, { allowTrailingComma: true }) as unknown;
  if (errors.length) throw new ConfigError(`${path}:${lineOf(text, errors[0]!.offset)}: ${printParseErrorCode(errors[0]!.error)}`);
  const where = (key: string) => { const i = text.indexOf(`"${key}"`); return `${path}:${i >= 0 ? lineOf(text, i) : 1}`; };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${path}:1: expected an object`);
  // Flatten `kctx.` prefixes and dotted keys into the nested shape.
  const obj: Record<string, unknown> = {};
  const lint: Record<string, unknown> = {};
  for (const [k0, v] of Object.entries(raw as Record<string, unknown>)) {
    const k = k0.replace(/^kctx\./, '');
    if (k === 'lint' && v && typeof v === 'object' && !Array.isArray(v)) Object.assign(lint, v);
    else if (k.startsWith('lint.')) lint[k.slice(5)] = v;
    else obj[k] = v;
  }
  const out: ProjectConfig = { path, rules: {}, exclude: [] };
  for (const k of Object.keys(obj)) {
    if (k === 'kernelEra' || k === 'era') {
      const v = obj[k];
      if (typeof v !== 'string' || !ERA_SETTINGS.has(v)) throw new ConfigError(`${where(k)}: ${k} must be one of auto, 12477, 13915, 13917`);
      out.kernelEra = v as EraSetting;
    } else if (k === 'gate') {
      const v = obj[k];
      if (typeof v !== 'string' || !v) throw new ConfigError(`${where(k)}: gate must be a path`);
      out.gate = isAbsolute(v) ? v : resolve(dirname(path), v);
    } else if (k !== '$schema') throw new ConfigError(`${where(k)}: unknown key '${k}' (kernelEra, gate, lint.rules, lint.exclude)`);
  }
  for (const k of Object.keys(lint)) {
    const v = lint[k];
    if (k === 'rules') {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where('rules')}: lint.rules must be an object of rule id to level`);
      for (const [id, lv] of Object.entries(v as Record<string, unknown>)) {
        if (!RULES_BY_ID.has(id)) throw new ConfigError(`${where(id)}: unknown rule '${id}'`);
        if (typeof lv !== 'string' || !RULE_LEVELS.has(lv)) throw new ConfigError(`${where(id)}: level of ${id} must be error, warning, information, hint or off`);
        out.rules[id] = lv as RuleSetting;
      }
    } else if (k === 'exclude') {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError(`${where('exclude')}: lint.exclude must be an array of globs`);
      out.exclude = v as string[];
    } else if (k !== 'workBudget' && k !== 'maxFileSize') throw new ConfigError(`${where(k)}: unknown key 'lint.${k}' (rules, exclude)`);
  }
  return out;
}

/** Finds the nearest .kctx.json at or above a folder (memoized per folder by the cache given). */
export class ConfigFinder {
  private byDir = new Map<string, ProjectConfig | null>();

  forFile(file: string): ProjectConfig | null {
    return this.forDir(dirname(resolve(file)));
  }

  forDir(dir: string): ProjectConfig | null {
    const seen: string[] = [];
    let d = dir;
    let found: ProjectConfig | null = null;
    for (;;) {
      const c = this.byDir.get(d);
      if (c !== undefined) { found = c; break; }
      seen.push(d);
      const p = join(d, CONFIG_NAME);
      let isFile = false;
      try { isFile = statSync(p).isFile(); } catch { /* none here */ }
      if (isFile) { found = loadConfig(p); break; }
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
    for (const s of seen) this.byDir.set(s, found);
    return found;
  }
}

/** Is a file excluded by a configuration's globs (matched against the path from the config's folder, and the absolute path)? */
export function excludedBy(cfg: ProjectConfig | null, file: string): boolean {
  if (!cfg || !cfg.exclude.length) return false;
  const abs = resolve(file);
  const rel = relative(dirname(cfg.path), abs).split('\\').join('/');
  return cfg.exclude.some((g) => { const re = globToRegExp(g); return re.test(abs) || (!rel.startsWith('..') && re.test(rel)); });
}
