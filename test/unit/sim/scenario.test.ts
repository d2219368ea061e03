/** Scenario validation: every bad input names the file, the line, the key and what was expected. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario, ScenarioError } from '../../../kernel-sim/scenario';

function err(text: string): ScenarioError {
  try {
    parseScenario(text, 'bad.ksim.json', '/tmp');
  } catch (e) {
    assert.ok(e instanceof ScenarioError, String(e));
    return e;
  }
  assert.fail('expected a ScenarioError');
}

const ok = '{ "kernel": "illumos-13917", "threads": [ { "name": "a", "entry": "builtin:spin" } ] }';

test('a valid scenario gets its defaults', () => {
  const s = parseScenario(ok, 'x.ksim.json', '/tmp');
  assert.deepEqual([s.cpus, s.seed, s.quantum, s.tickCycles, s.builtFor, s.threads[0]!.lwp, s.threads[0]!.pri], [1, 1, 2, 100, 'illumos-13917', false, 60]);
});

test('JSON syntax errors have line and column', () => {
  const e = err('{\n  "kernel": "illumos-13917",\n  "threads": [ }\n');
  assert.equal(e.message, 'bad.ksim.json:3:16: invalid JSON: expected a value');
});

test('unknown kernel names the choices', () => {
  const e = err('{\n "kernel": "illumos-99999",\n "threads": [{"name":"a","entry":"builtin:spin"}] }');
  assert.equal(e.message, 'bad.ksim.json:2:12: "kernel": unknown kernel "illumos-99999" (one of illumos-pre12477, illumos-12477, illumos-13915, illumos-13917)');
});

test('unknown keys, wrong types, duplicates and missing threads', () => {
  assert.match(err('{"kernel":"illumos-13917","thread":[]}').message, /^bad\.ksim\.json:1:27: unknown key "thread"/);
  assert.equal(err('{"kernel":"illumos-13917","cpus":0,"threads":[{"name":"a","entry":"builtin:spin"}]}').message, 'bad.ksim.json:1:34: "cpus": expected an integer from 1 to 64, got 0');
  assert.equal(err('{"kernel":"illumos-13917"}').message, 'bad.ksim.json:1:1: missing key "threads": an array of {"name", "entry", "arg", "lwp"}');
  assert.match(err('{"kernel":"illumos-13917","threads":[{"name":"a","entry":"builtin:spin"},{"name":"a","entry":"builtin:spin"}]}').message, /"threads\[1\]\.name": duplicate thread name "a"/);
  assert.match(err('{"kernel":"illumos-13917","threads":[{"name":"a","entry":"vcpu_run"}]}').message, /"threads\[0\]\.entry": "vcpu_run" is a C function but the scenario has no "sources"/);
  assert.match(err('{"kernel":"illumos-13917","threads":[{"name":"a","entry":"builtin:spin","lwp":"yes"}]}').message, /"threads\[0\]\.lwp": expected true or false, got "yes"/);
  assert.match(err('{"kernel":"illumos-13917","sources":["x.txt"],"threads":[{"name":"a","entry":"f"}]}').message, /"sources\[0\]": expected a path to a \.c or \.h file/);
});

test('a huge file is refused by its size', () => {
  const e = err('{' + ' '.repeat(5_000_000) + '}');
  assert.match(e.message, /not a scenario \(limit 1 MB\)/);
});
