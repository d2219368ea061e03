/**
 * A call of another file that ends an object's life or gives up a hold on it (`contract_destroy(ct)`,
 * `ill_refrele_tail(ill)`), handed the variable the lock is reached through as its last argument, drops or destroys the lock
 * by contract: the path leaves with the lock's state unknown, not held. A call with another name, or
 * one handed something else, keeps it held. Exact rule ids and ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockFindings } from './helpers';

const lint = (src: string) => lockFindings(src, '/x/ctproc.c');

const SRC = [
  'void',
  'ctproc_exit(struct ctproc *ctp, struct proc *p)',
  '{',
  '\tstruct contract *ct = &ctp->ctp_contract;',
  '',
  '\tmutex_enter(&ct->ct_lock);',
  '\tctp->ctp_nmembers--;',
  '\tp->p_ct = NULL;',
  '\tif (ctp->ctp_nmembers == 0 && ct->ct_state == CTS_ORPHAN) {',
  '\t\tcontract_destroy(ct);',
  '\t\treturn;',
  '\t}',
  '\tmutex_exit(&ct->ct_lock);',
  '}',
  '',
].join('\n');

test('a lock whose object is handed to a destroy or rele call of another file is not held after it', async () => {
  assert.deepEqual(await lint(SRC), []);
  assert.deepEqual(await lint(SRC.replace('contract_destroy(ct)', 'ill_refrele_tail(ct)')), []);
});

test('a call with another name, or handed another object, leaves the lock held', async () => {
  assert.deepEqual(await lint(SRC.replace('contract_destroy(ct)', 'contract_orphan(ct)')), ['lock-not-released 6:2-6:27']);
  assert.deepEqual(await lint(SRC.replace('contract_destroy(ct)', 'contract_destroy(p->p_ct_next)')), ['lock-not-released 6:2-6:27']);
  // the object it ends is its last argument: handed the lock's object first, it frees something else
  assert.deepEqual(await lint(SRC.replace('contract_destroy(ct)', 'contract_event_free(ct, p)')), ['lock-not-released 6:2-6:27']);
  assert.deepEqual(await lint(SRC.replace('contract_destroy(ct)', 'contract_event_free(p, ct)')), []);
});
