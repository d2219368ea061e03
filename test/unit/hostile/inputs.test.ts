/**
 * Issue 17, cases 1, 3 and 5: input files are checked before they are read (devices, FIFOs,
 * folders, symlinks to them: a clear error at once, bounded memory), folder walks visit each
 * real path once and end, and scenario sources and includes are confined to the scenario's
 * folder (the error says "outside" and names the rule; a file that is not C is not echoed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kctx, scenario, tempDir } from './helpers';

const dir = tempDir('hostile-in');
const C = '#include <sys/types.h>\nvoid t(void *a) { }\n';
writeFileSync(join(dir, 'ok.c'), C);
symlinkSync('/dev/zero', join(dir, 'zero.c'));
execFileSync('mkfifo', [join(dir, 'fifo.c')]);
mkdirSync(join(dir, 'folder.c'));
// Bounded memory: well under what reading /dev/zero for a moment costs (GBs); a plain run is ~100 MB.
const PEAK = 200;

test('kctx run /dev/zero and a FIFO: a usage error naming what the file is, at once', () => {
  const r = kctx(['run', '/dev/zero']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^kctx: \/dev\/zero:1:1: cannot read the scenario: a character device, not a file$/m);
  assert.ok(r.peakMb < PEAK, `peak ${r.peakMb} MB`);
  const f = kctx(['run', join(dir, 'fifo.c')]);
  assert.equal(f.code, 2);
  assert.match(f.err, /cannot read the scenario: a FIFO \(named pipe\), not a file/);
});

test('a scenario source that is a FIFO or a folder is a usage error (not a hang, not exit 70 EISDIR)', () => {
  const f = kctx(['run', scenario(dir, 'fifo.ksim.json', ['fifo.c'])]);
  assert.equal(f.code, 2, f.err);
  assert.match(f.err, /fifo\.ksim\.json:1:1: cannot read the source 'fifo\.c': a FIFO \(named pipe\), not a file/);
  const d = kctx(['run', scenario(dir, 'folder.ksim.json', ['folder.c'])]);
  assert.equal(d.code, 2, d.err);
  assert.match(d.err, /cannot read the source 'folder\.c': a folder, not a file/);
  assert.doesNotMatch(d.err, /internal error|EISDIR/);
});

test('a source symlinked to /dev/zero, an absolute source, a symlink out: refused as outside, naming the rule', () => {
  const z = kctx(['run', scenario(dir, 'zero.ksim.json', ['zero.c'])]);
  assert.equal(z.code, 2, z.err);
  assert.match(z.err, /zero\.ksim\.json:1:\d+: "sources\[0\]": 'zero\.c' is outside the scenario's folder and its declared gate and includePaths \(/);
  assert.ok(z.peakMb < PEAK, `peak ${z.peakMb} MB`);
  const other = tempDir('hostile-out');
  writeFileSync(join(other, 'secret.c'), 'root:x:0:0:root:/root:/bin/bash\n');
  const a = kctx(['run', scenario(dir, 'abs.ksim.json', [join(other, 'secret.c')])]);
  assert.equal(a.code, 2);
  assert.match(a.err, /"sources\[0\]": '.*secret\.c' is outside the scenario's folder/);
  assert.doesNotMatch(a.err, /root:x/);
  symlinkSync(join(other, 'secret.c'), join(dir, 'link.c'));
  const l = kctx(['run', scenario(dir, 'link.ksim.json', ['link.c'])]);
  assert.equal(l.code, 2);
  assert.match(l.err, /"sources\[0\]": 'link\.c' is outside/);
  // An #include through a symlink out of the folder, and an absolute one.
  writeFileSync(join(dir, 'inc.c'), '#include "zero.c"\nvoid t(void *a) { }\n');
  const i = kctx(['run', scenario(dir, 'inc.ksim.json', ['inc.c'])]);
  assert.equal(i.code, 2);
  assert.match(i.err, /inc\.c:1:10: #include "zero\.c": outside the scenario's folder and its declared gate and includePaths/);
  // Inline in a scenario object the same holds (modules of freebsd-14 too).
  const fb = join(dir, 'fb.ksim.json');
  writeFileSync(fb, JSON.stringify({ kernel: 'freebsd-14', modules: [{ sources: ['../' + other.split('/').pop() + '/secret.c'] }], threads: [{ name: 't', entry: 't' }] }));
  const f = kctx(['run', fb]);
  assert.equal(f.code, 2);
  assert.match(f.err, /"modules\[0\]\.sources\[0\]": '.*secret\.c' is outside/);
});

test('a file that is not C, inside the folder: the syntax error quotes one token, not the line', () => {
  writeFileSync(join(dir, 'pw.c'), 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n');
  const r = kctx(['run', scenario(dir, 'pw.ksim.json', ['pw.c'])]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /pw\.c:\d+:\d+: (error: )?syntax error: unexpected '[^' ]{1,27}'$/m);
  assert.doesNotMatch(r.err, /root:\/root|bin\/bash|daemon:x|0 : 0/);
});

test('kctx lint: /dev/zero and a FIFO named on the command line are refused at once; in a folder walk they are skipped', () => {
  const z = kctx(['lint', '/dev/zero']);
  assert.equal(z.code, 2);
  assert.match(z.err, /kctx lint: cannot read '\/dev\/zero': a character device, not a file/);
  assert.ok(z.peakMb < PEAK, `peak ${z.peakMb} MB`);
  const f = kctx(['lint', join(dir, 'fifo.c')]);
  assert.equal(f.code, 2);
  assert.match(f.err, /a FIFO \(named pipe\), not a file/);
  const w = tempDir('hostile-walk-dev');
  writeFileSync(join(w, 'a.c'), C);
  symlinkSync('/dev/zero', join(w, 'z.c'));
  execFileSync('mkfifo', [join(w, 'p.c')]);
  const d = kctx(['lint', w]);
  assert.equal(d.code, 0, d.err);
  assert.match(d.err, /kctx lint: 1 file, 3 lines/);
});

test('kctx lint walks: two self links end, one self link lints the file once, --follow-symlinks detects the cycle', () => {
  const w = tempDir('hostile-walk');
  writeFileSync(join(w, 'a.c'), C);
  mkdirSync(join(w, 'sub'));
  writeFileSync(join(w, 'sub', 'b.c'), C);
  symlinkSync('.', join(w, 'x'));
  symlinkSync('.', join(w, 'y'));
  symlinkSync('..', join(w, 'sub', 'up'));
  symlinkSync('a.c', join(w, 'also-a.c'));
  const r = kctx(['lint', '--format', 'json', w]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /kctx lint: 2 files, 6 lines/);
  const f = kctx(['lint', '--follow-symlinks', w]);
  assert.equal(f.code, 0, f.err);
  assert.match(f.err, /kctx lint: 2 files, 6 lines/);
  // A symlinked folder elsewhere is followed only when asked.
  const ext = tempDir('hostile-ext');
  writeFileSync(join(ext, 'c.c'), C);
  symlinkSync(ext, join(w, 'ext'));
  assert.match(kctx(['lint', w]).err, /kctx lint: 2 files/);
  assert.match(kctx(['lint', '--follow-symlinks', w]).err, /kctx lint: 3 files/);
  // Named twice, or through a link: once.
  assert.match(kctx(['lint', join(w, 'a.c'), join(w, 'also-a.c'), w]).err, /kctx lint: 2 files/);
});
