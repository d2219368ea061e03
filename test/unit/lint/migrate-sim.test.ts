/**
 * The 13917 migration on the example drivers: source.fixAll.kctx applied, the result re-lints clean,
 * and the migrated module loads and runs in the simulator on the 13917 kernel (while the original
 * does not load there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LintDocument, fixAllEdits, lintText } from '../../../language-server/engine';
import { applyEdits } from '../../../language-server/fixes/edits';
import { REPO } from './helpers';
import { scratchDir } from '../../scratch';

const KVM = join(REPO, 'examples', 'kvm');

async function migrate(src: string): Promise<string> {
  const doc = await LintDocument.create(src);
  const diags = doc.lint('kvm.c', { era: '13917' });
  const m = doc.model('kvm.c', { era: '13917' })!;
  const out = applyEdits(src, fixAllEdits(m, diags));
  doc.dispose();
  return out;
}

function run(dir: string, source: string): ReturnType<typeof spawnSync> {
  const base = JSON.parse(readFileSync(join(KVM, 'kvm-pre13915.ksim.json'), 'utf8'));
  const scenario = { ...base, kernel: 'illumos-13917', builtFor: 'illumos-13917', sources: [source] };
  const f = join(dir, `${source.replace(/\W/g, '_')}.ksim.json`);
  writeFileSync(f, JSON.stringify(scenario));
  return spawnSync(process.execPath, [join(REPO, 'dist', 'kctx.js'), 'run', f, '--trace', 'none', '--stats'], { encoding: 'utf8', timeout: 60_000 });
}

for (const era of ['pre13915', '13915']) {
  test(`examples/kvm/${era}/kvm.c migrated by fix-all re-lints clean and runs on the 13917 kernel`, { skip: !existsSync(join(KVM, era, 'kvm.c')) && 'example not present' }, async () => {
    const src = readFileSync(join(KVM, era, 'kvm.c'), 'utf8');
    const before = await lintText(src, 'kvm.c', { era: '13917' });
    assert.ok(before.some((d) => d.code === 'legacy-ctxop-api'));
    const out = await migrate(src);
    assert.deepEqual((await lintText(out, 'kvm.c', { era: '13917' })).map((d) => `${d.code}: ${d.message}`), []);
    assert.match(out, /static const struct ctxop_template \w+ = \{\n\t\.ct_rev\t\t= CTXOP_TPL_REV,/);
    assert.doesNotMatch(out.replace(/\/\*[\s\S]*?\*\//g, ''), /\b(installctx|removectx|installctx_preallocate)\s*\(/);

    const dir = scratchDir('kctx-mig-');
    mkdirSync(join(dir, 'mig'));
    mkdirSync(join(dir, 'orig'));
    copyFileSync(join(KVM, 'kvm_common.h'), join(dir, 'kvm_common.h'));
    writeFileSync(join(dir, 'mig', 'kvm.c'), out);
    writeFileSync(join(dir, 'orig', 'kvm.c'), src);
    const ok = run(dir, 'mig/kvm.c');
    assert.equal(ok.status, 0, `${ok.stdout}\n${ok.stderr}`);
    const stats = JSON.parse((ok.stdout as string).trim().split('\n').pop()!);
    assert.ok(stats.hooks > 0 && stats.switches > 0, 'the migrated ctxops run');
    const bad = run(dir, 'orig/kvm.c');
    assert.notEqual(bad.status, 0, 'the unmigrated module must not run on 13917');
  });
}

/*
 * The extension walkthrough's driver (examples/walkthrough): flagged, does not build for the
 * 13917 kernel as it is, runs once migrated by fix-all, and ::findleaks then finds its one bug.
 */
test('examples/walkthrough: lint, the flag-day failure, fix-all, and the leak ::findleaks finds', async () => {
  const WT = join(REPO, 'examples', 'walkthrough');
  const src = readFileSync(join(WT, 'vcpu.c'), 'utf8');
  const before = await lintText(src, 'vcpu.c', { era: '13917' });
  assert.deepEqual(before.map((d) => `${d.range.start.line + 1}:${d.code}`), ['76:legacy-ctxop-api', '85:legacy-ctxop-api']);
  const kctx = (scenario: string) => spawnSync(process.execPath, [join(REPO, 'dist', 'kctx.js'), 'run', scenario, '--trace', 'none', '--mdb', '::findleaks'], { encoding: 'utf8', timeout: 60_000 });
  const orig = kctx(join(WT, 'vcpu.ksim.json'));
  assert.equal(orig.status, 2, orig.stdout + orig.stderr);
  assert.match(orig.stderr, /vcpu\.c:76:2: implicit declaration of function 'installctx'/);

  const out = await migrate(src);
  assert.deepEqual(await lintText(out, 'vcpu.c', { era: '13917' }), []);
  assert.match(out, /\tctxop_install\(curthread, &vmm_ctxop_tpl, vtc\);/);
  assert.match(out, /\t\(void\) ctxop_remove\(curthread, &vmm_ctxop_tpl, vtc\);/);
  const dir = scratchDir('kctx-wt-');
  writeFileSync(join(dir, 'vcpu.c'), out);
  copyFileSync(join(WT, 'vcpu.ksim.json'), join(dir, 'vcpu.ksim.json'));
  const mig = kctx(join(dir, 'vcpu.ksim.json'));
  assert.equal(mig.status, 0, mig.stdout + mig.stderr);
  // Three vCPUs on two CPUs switch: the ctxop's restore handler runs.
  const restores = [...mig.stdout.matchAll(/NOTICE: vcpu\d: 3 runs, (\d+) saves, (\d+) restores/g)];
  assert.equal(restores.length, 3);
  assert.ok(restores.some((r) => Number(r[2]) > 0), mig.stdout);
  // One row: the three exit-statistics arrays, all from the same call in vcpu_init.
  assert.match(mig.stdout, /\n[0-9a-f]{16}       3 [0-9a-f]{16} vcpu_init\+0x[0-9a-f]+\n-{72}\n\s+Total       3 buffers, 192 bytes\n/);
});
