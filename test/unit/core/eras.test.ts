/**
 * core/: the one era inference and the era facts, and that the linter and the extension ask it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiOfCode, apiRank, lintEraOf, runEraOf, eraOfKernelHeaders } from '../../../core/infer-era';
import { ERA_FACTS, ERA_IDS, installctxArity, walkOrder, REMOVECTX_ARITY } from '../../../core/eras';
import { ERAS } from '../../../kernel-sim/abi/eras';
import { lintText } from '../../../language-server/engine';
import { eraOfCalls } from '../../../extension/cscan';

const call = (name: string, args: number) => ({ name, args });

test('apiOfCode: ctxop_* or a template is 13917, preallocate or 9 arguments 13915, other legacy calls 12477', () => {
  assert.equal(apiOfCode({ calls: [call('installctx', 9), call('ctxop_attach', 2)] }), '13917');
  assert.equal(apiOfCode({ calls: [call('installctx', 9)], template: true }), '13917');
  assert.equal(apiOfCode({ calls: [call('installctx', 8), call('installctx_preallocate', 0)] }), '13915');
  assert.equal(apiOfCode({ calls: [call('installctx', 9)] }), '13915');
  assert.equal(apiOfCode({ calls: [call('installctx', 8)] }), '12477');
  assert.equal(apiOfCode({ calls: [call('removectx', 8)] }), '12477');
  assert.equal(apiOfCode({ calls: [call('kmem_alloc', 2)] }), undefined);
  assert.deepEqual([undefined, '12477', '13915', '13917'].map((a) => apiRank(a as never)), [0, 1, 2, 3]);
});

test('an 8-argument installctx: linted against 13917 (README), simulated on illumos-12477 (docs/extension.md)', () => {
  const ev = { calls: [call('installctx', 8)] };
  assert.equal(lintEraOf(ev), '13917');
  assert.equal(runEraOf(ev), 'illumos-12477');
  assert.equal(eraOfCalls([{ name: 'installctx', args: 8, line: 3 }]), 'illumos-12477');
  assert.equal(eraOfCalls([{ name: 'installctx', args: 9, line: 3 }]), 'illumos-13915');
  assert.equal(eraOfCalls([{ name: 'ctxop_install', args: 3, line: 3 }]), 'illumos-13917');
  assert.equal(eraOfCalls([]), undefined);
  assert.equal(lintEraOf({ calls: [] }), '13917');
});

test('the linter reads the era through core: 8 arguments is legacy on 13917, 9 arguments is clean on 13915', async () => {
  const src = (n: number) => `#include <sys/thread.h>\nstatic void s(void *a) {}\nvoid f(kthread_t *t, void *a) {\n\tinstallctx(t, a, s, s, NULL, NULL, NULL, NULL${n === 9 ? ', NULL' : ''});\n}\n`;
  const eight = await lintText(src(8), 'eight.c', { era: 'auto' });
  assert.deepEqual(eight.map((d) => d.code).filter((r) => r === 'legacy-ctxop-api' || r === 'installctx-arity'), ['legacy-ctxop-api']);
  const nine = await lintText(src(9), 'nine.c', { era: 'auto' });
  assert.deepEqual(nine.map((d) => d.code).filter((r) => r === 'legacy-ctxop-api' || r === 'installctx-arity'), []);
});

test('era facts: installctx arity by interface, removectx 8, walk orders, the simulator table is derived', () => {
  assert.equal(installctxArity('12477'), 8);
  assert.equal(installctxArity('13915'), 9);
  assert.equal(installctxArity('13917'), null);
  assert.equal(REMOVECTX_ARITY, 8);
  assert.equal(walkOrder(ERA_FACTS['illumos-pre12477'], 'restore'), 'newest-first');
  assert.equal(walkOrder(ERA_FACTS['illumos-12477'], 'restore'), 'oldest-first');
  for (const id of ERA_IDS) {
    assert.equal(walkOrder(ERA_FACTS[id], 'save'), 'newest-first');
    for (const [k, v] of Object.entries(ERA_FACTS[id])) assert.equal((ERAS[id] as unknown as Record<string, unknown>)[k], v, `${id}.${k}`);
  }
});

test('the era a kernel tree declares: one reader of proc.h and thread.h for the gate and for lint --era auto', () => {
  const eight = 'extern void installctx(kthread_t *, void *, void (*)(void *), void (*)(void *),\n    void (*)(void *, void *), void (*)(void *, void *), void (*)(void *), void (*)(void *, int));';
  const nine = eight.replace('int));', 'int),\n    struct ctxop *);');
  const ring = 'struct ctxop {\n\tstruct ctxop *next;\n\tstruct ctxop *prev;\n};';
  const list = 'struct ctxop {\n\tstruct ctxop *next;\n\t/* no struct ctxop *prev; here */\n};';
  assert.deepEqual(eraOfKernelHeaders('struct ctxop_template {\n\tuint32_t ct_rev;\n};'), { era: 'illumos-13917', why: 'declares struct ctxop_template' });
  assert.equal(eraOfKernelHeaders('extern void ctxop_install(kthread_t *, const struct ctxop_template *, void *);')!.era, 'illumos-13917');
  assert.equal(eraOfKernelHeaders(`${nine}\nextern struct ctxop *installctx_preallocate(void);`)!.why, 'declares installctx_preallocate()');
  assert.deepEqual(eraOfKernelHeaders(nine), { era: 'illumos-13915', why: 'declares installctx() with 9 parameters' });
  assert.deepEqual(eraOfKernelHeaders(eight), { era: 'illumos-12477', why: 'declares installctx() with 8 parameters' });
  assert.equal(eraOfKernelHeaders(eight, ring)!.era, 'illumos-12477');
  assert.equal(eraOfKernelHeaders(eight, list)!.era, 'illumos-pre12477');
  // A declaration inside a comment is no declaration; a header that declares none is no tree.
  assert.equal(eraOfKernelHeaders(`/* ${nine.replace(/\*\//g, '')} */\n${eight}`)!.era, 'illumos-12477');
  assert.equal(eraOfKernelHeaders('extern int p_flag;'), null);
});
