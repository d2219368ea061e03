/**
 * Keeps test/dap/COVERAGE.md honest: every test it names exists, and every request the
 * adapter claims in its initialize response has a row.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inProc, ROOT } from './helpers';

const DIR = resolve(ROOT, 'test', 'dap');

function rows(): Array<{ what: string; file: string; title: string }> {
  const out: Array<{ what: string; file: string; title: string }> = [];
  for (const line of readFileSync(resolve(DIR, 'COVERAGE.md'), 'utf8').split('\n')) {
    const m = /^\| (.+?) \| ([\w-]+\.test\.ts): (.+) \|$/.exec(line);
    if (m) out.push({ what: m[1]!, file: m[2]!, title: m[3]! });
  }
  return out;
}

const CLAIMS: Record<string, string> = {
  supportsConfigurationDoneRequest: 'configurationDone',
  supportsFunctionBreakpoints: 'setFunctionBreakpoints',
  supportsConditionalBreakpoints: 'setBreakpoints (condition, log point)',
  supportsHitConditionalBreakpoints: 'setBreakpoints (hit count)',
  supportsLogPoints: 'setBreakpoints (condition, log point)',
  supportsDataBreakpoints: 'setDataBreakpoints',
  supportsBreakpointLocationsRequest: 'breakpointLocations',
  supportsExceptionFilterOptions: 'setExceptionBreakpoints (swtch + condition)',
  supportsExceptionInfoRequest: 'exceptionInfo',
  supportsStepBack: 'stepBack',
  supportsRestartRequest: 'restart',
  supportsTerminateRequest: 'terminate',
  supportsDelayedStackTraceLoading: 'stackTrace (delayed loading)',
  supportsEvaluateForHovers: 'evaluate (hover, watch, repl C)',
  supportsSetVariable: 'setVariable',
  supportsCompletionsRequest: 'completions',
  supportsReadMemoryRequest: 'readMemory',
  supportsANSIStyling: 'evaluate (repl mdb, in colour)',
};

describe('COVERAGE.md', () => {
  it('every test it names exists in the named file', () => {
    const list = rows();
    assert.ok(list.length > 50, `${list.length} rows`);
    for (const r of list) {
      const src = readFileSync(resolve(DIR, r.file), 'utf8');
      assert.ok(src.includes(`it('${r.title}'`), `${r.what}: no test '${r.title}' in ${r.file}`);
    }
  });

  it('every capability the adapter claims has a row', async () => {
    const dc = inProc();
    const caps = (await dc.init()).body as Record<string, unknown>;
    await dc.close();
    const whats = new Set(rows().map((r) => r.what));
    for (const [cap, what] of Object.entries(CLAIMS)) {
      if (caps[cap] === true) assert.ok([...whats].some((w) => w === what || w.startsWith(what.split(' ')[0]!)), `${cap} -> ${what}`);
    }
    for (const [cap, v] of Object.entries(caps)) {
      if (v === true && cap.startsWith('supports')) assert.ok(cap in CLAIMS, `claimed capability ${cap} has no coverage row mapping`);
    }
  });
});
