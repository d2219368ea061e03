/**
 * Helpers for the hostile-input tests (issue 17): run the bundled `kctx` in a child that reports
 * its own peak memory (VmHWM) when it exits, with a hard time limit that only catches a hang
 * (the tests never depend on speed: the limit is many times what a normal run takes).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scratchDir } from '../../scratch';

export const KCTX = resolve(__dirname, '..', '..', '..', '..', 'dist', 'kctx.js');

export interface Ran {
  /** Exit status; null when it had to be killed (a hang). */
  code: number | null;
  out: string;
  err: string;
  /** Peak resident memory of the child, in MB (-1 when it did not say). */
  peakMb: number;
}

const REPORT = `process.on('exit',()=>{try{const s=require('fs').readFileSync('/proc/self/status','utf8');require('fs').writeSync(2,'\\n#HWM '+/VmHWM:\\s+(\\d+)/.exec(s)[1]+'\\n')}catch{}});`;

export function kctx(args: string[], opts: { cwd?: string; input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Ran {
  const code = `${REPORT}process.argv=[process.argv[0],${JSON.stringify(KCTX)},...JSON.parse(process.env.KCTX_TEST_ARGS)];require(${JSON.stringify(KCTX)});`;
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: opts.cwd, input: opts.input ?? '', encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL',
    env: { ...process.env, ...opts.env, KCTX_TEST_ARGS: JSON.stringify(args) }, maxBuffer: 512 * 1024 * 1024,
  });
  const m = /\n#HWM (\d+)\n/.exec(r.stderr ?? '');
  return { code: r.status, out: r.stdout ?? '', err: (r.stderr ?? '').replace(/\n#HWM \d+\n/, ''), peakMb: m ? Number(m[1]) / 1024 : -1 };
}

export function tempDir(prefix: string): string {
  return scratchDir(`kctx-${prefix}-`);
}

/** A scenario of one thread running `entry` from the given sources, written into `dir`. */
export function scenario(dir: string, name: string, sources: string[], extra: Record<string, unknown> = {}, entry = 't'): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify({ kernel: 'illumos-13917', sources, threads: [{ name: 't', entry }], ...extra }));
  return p;
}
