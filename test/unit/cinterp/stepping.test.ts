import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelFor, HEADERS } from './helpers';
import type { StopPoint, Machine } from '../../../kernel-sim/machine/machine';
import { Memory } from '../../../kernel-sim/machine/memory';
import { setFlagsFromString } from 'node:v8';

const SRC = `${HEADERS}
static int
square(int x)
{
	int y = x * x;
	return (y);
}

void
entry(void *arg)
{
	int i, sum = 0;

	for (i = 0; i < 2; i++)
		sum += square(i + 1);
	if (sum == 5)
		sum = -sum;
}
`;

function collect(m: Machine, limit: number): Array<{ p: StopPoint; pos: string }> {
  const stops: Array<{ p: StopPoint; pos: string }> = [];
  m.policy = { shouldStop: (_m, p) => p.kind === 'statement' };
  for (let i = 0; i < limit; i++) {
    const r = m.run(1_000_000);
    if (r.kind !== 'stopped') break;
    const d = r.point.detail as { file: string; line: number; column: number };
    stops.push({ p: r.point, pos: `${d.line}:${d.column}` });
    m.skipStopOnce = true;
  }
  return stops;
}

test('a policy that stops at every statement sees each statement position (line:column) in order', async () => {
  const { m, dir } = await kernelFor({ 'drv.c': SRC });
  const stops = collect(m, 100);
  assert.ok(stops.every((s) => (s.p.detail as { file: string }).file === `${dir}/drv.c`));
  assert.deepEqual(stops.map((s) => s.pos), [
    '19:2', '21:7', '21:14', '22:3', '12:2', '13:2', '21:14', '22:3', '12:2', '13:2', '21:14', '23:2', '24:3', '25:1',
  ]);
});

test('parameters and locals are read from the simulated stack through CDebug', async () => {
  const { m } = await kernelFor({ 'drv.c': SRC });
  const stops = collect(m, 100);
  // The second stop inside square(): `return (y);` with x = 2.
  const at = stops.filter((s) => s.pos === '13:2')[1]!;
  void at;
  const { m: m2 } = await kernelFor({ 'drv.c': SRC });
  m2.policy = { shouldStop: (_m, p) => p.kind === 'statement' && (p.detail as { line: number }).line === 13 };
  let r = m2.run(1_000_000);
  m2.skipStopOnce = true;
  r = m2.run(1_000_000);
  assert.equal(r.kind, 'stopped');
  const t = (r as { point: StopPoint }).point.thread;
  const top = t.stack[t.stack.length - 1]!;
  const info = m2.program!.frameInfo(m2, t, top);
  assert.equal(info.fn, 'square');
  assert.equal(info.line, 13);
  assert.deepEqual(info.params.map((p) => [p.name, p.type, p.value]), [['x', 'int', '2']]);
  assert.deepEqual(info.locals.map((p) => [p.name, p.type, p.value]), [['y', 'int', '4']]);
  const callerIndex = t.stack.length - 2;
  const caller = m2.program!.frameInfo(m2, t, t.stack[callerIndex]!);
  assert.equal(caller.fn, 'entry');
  assert.deepEqual(caller.locals.map((p) => [p.name, p.value]), [['i', '1'], ['sum', '1']]);
  assert.equal(m2.program!.evaluate(m2, t, callerIndex, 'sum + i * 10').value, '11');
  assert.equal(m2.program!.evaluate(m2, t, t.stack.length - 1, 'y').value, '4');
  assert.throws(() => m2.program!.evaluate(m2, t, callerIndex, 'sum = 3'), /side effects/);
  // The stack shows the C frames with their positions.
  const st = m2.stackOf(t).filter((e) => e.kind === 'c').map((e) => `${e.name}:${e.line}`);
  assert.deepEqual(st, ['square:13', 'entry:22']);
  assert.deepEqual(m2.program!.statementLines(info.file), [12, 13, 14, 19, 21, 22, 23, 24, 25]);
});

test('a data breakpoint stops right after the store', async () => {
  const { m } = await kernelFor({ 'drv.c': `${HEADERS}\nint watched;\nvoid\nentry(void *arg)\n{\n\tint k = 1;\n\twatched = 7;\n\tk = 2;\n}\n` });
  const addr = m.sym.data.get('watched')!.addr;
  m.setWatchpoints([{ id: 1, addr, size: 4 }]);
  m.policy = { shouldStop: (_m, p) => p.kind === 'data' };
  const r = m.run(1_000_000);
  assert.equal(r.kind, 'stopped');
  assert.deepEqual((r as { point: StopPoint }).point.detail, { id: 1, addr });
  assert.equal(m.mem.readI32(addr), 7);
  const t = (r as { point: StopPoint }).point.thread;
  // Stopped after the store: the next statement (k = 2) is where execution resumes.
  assert.equal(m.stackOf(t)[0]!.line, 15);
});

test('a data breakpoint stops after a kernel bzero/strcpy that writes the watched bytes, and not after one that writes beside them', async () => {
  const src = `${HEADERS}#include <sys/systm.h>\nchar before[8];\nchar watched[8];\nvoid\nentry(void *arg)\n{\n\tint k = 1;\n\tbzero(before, sizeof (before));\n\tk = 2;\n\t(void) strcpy(watched, "vcpu");\n\tk = 3;\n\tbzero(watched, sizeof (watched));\n\tk = 4;\n}\n`;
  const { m } = await kernelFor({ 'drv.c': src });
  const addr = m.sym.data.get('watched')!.addr;
  m.setWatchpoints([{ id: 1, addr: addr + 2, size: 1 }]);
  m.policy = { shouldStop: (_m, p) => p.kind === 'data' };
  const lines: number[] = [];
  const bytes: number[] = [];
  for (;;) {
    const r = m.run(1_000_000);
    if (r.kind !== 'stopped') break;
    const t = (r as { point: StopPoint }).point.thread;
    assert.deepEqual((r as { point: StopPoint }).point.detail, { id: 1, addr: addr + 2 });
    lines.push(m.stackOf(t)[0]!.line ?? -1);
    bytes.push(m.mem.u8[addr + 2]!);
  }
  // Stopped when strcpy returned (its 'p' written) and when the second bzero returned (0), still on the
  // call's line, as a stop in a kernel call is; never after the bzero of the array beside it.
  const at = (text: string) => src.split('\n').findIndex((l) => l.includes(text)) + 1;
  assert.deepEqual(lines, [at('strcpy(watched'), at('bzero(watched')]);
  assert.deepEqual(bytes, ['vcpu'.charCodeAt(2), 0]);
});

/** V8's own answer: does o keep fast (shape-described) properties, or is it a dictionary? */
function fastProperties(o: object): boolean {
  setFlagsFromString('--allow-natives-syntax');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return (new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean)(o);
}

test('data breakpoints see every store a kernel function makes: kmem_alloc/kmem_free/kmem_zalloc on a buffer, snprintf into a name, mutex_enter/mutex_exit on the owner word', async () => {
  const src = `${HEADERS}#include <sys/systm.h>\n#include <sys/mutex.h>\nchar name[16];\nkmutex_t lock;\nuint32_t *first, *again;\nvoid\nentry(void *arg)\n{\n\tint k = 1;\n\tmutex_init(&lock, NULL, MUTEX_DEFAULT, NULL);\n\tfirst = kmem_alloc(16, KM_SLEEP);\n\tkmem_free(first, 16);\n\tagain = kmem_zalloc(16, KM_SLEEP);\n\t(void) snprintf(name, sizeof (name), "vcpu%d", 3);\n\tmutex_enter(&lock);\n\tk = 2;\n\tmutex_exit(&lock);\n\tkmem_free(again, 16);\n\tk = 3;\n}\n`;
  const at = (text: string) => src.split('\n').findIndex((l) => l.includes(text)) + 1;
  // Where the buffer will be: a first run to the end (the run is deterministic).
  const pre = (await kernelFor({ 'drv.c': src })).m;
  assert.equal(pre.run(1_000_000).kind, 'end');
  const buf = pre.mem.readPtr(pre.sym.data.get('first')!.addr);
  assert.equal(pre.mem.readPtr(pre.sym.data.get('again')!.addr), buf, 'kmem_zalloc gets the freed buffer back');
  const { m } = await kernelFor({ 'drv.c': src });
  const nameAt = m.sym.data.get('name')!.addr;
  const lockAt = m.sym.data.get('lock')!.addr;
  m.setWatchpoints([{ id: 1, addr: buf + 4, size: 4 }, { id: 2, addr: nameAt + 4, size: 1 }, { id: 3, addr: lockAt, size: 8 }]);
  m.policy = { shouldStop: (_m, p) => p.kind === 'data' };
  const seen: string[] = [];
  for (;;) {
    const r = m.run(1_000_000);
    if (r.kind !== 'stopped') break;
    const p = (r as { point: StopPoint }).point;
    const { id } = p.detail as { id: number };
    const value = id === 1 ? m.mem.readU32(buf + 4).toString(16) : id === 2 ? m.mem.readCString(nameAt) : (m.mem.readPtr(lockAt) === p.thread.addr ? 'curthread' : m.mem.readPtr(lockAt).toString(16));
    seen.push(`${id} ${m.stackOf(p.thread)[0]!.name}:${m.stackOf(p.thread)[0]!.line} ${value}`);
  }
  assert.deepEqual(seen, [
    `3 entry:${at('mutex_init(')} 0`,
    `1 entry:${at('first = kmem_alloc')} baddcafe`,
    `1 entry:${at('kmem_free(first')} deadbeef`,
    `1 entry:${at('again = kmem_zalloc')} 0`,
    `2 entry:${at('snprintf(')} vcpu3`,
    `3 entry:${at('mutex_enter(')} curthread`,
    `3 entry:${at('mutex_exit(')} 0`,
    `1 entry:${at('kmem_free(again')} deadbeef`,
  ]);
  // Disarmed: the memory's store methods are the class's again, and the object keeps its fast
  // shape (a deleted own method would leave it a dictionary: every later property read slower).
  m.setWatchpoints([]);
  const proto = Memory.prototype as unknown as Record<string, unknown>;
  const own = m.mem as unknown as Record<string, unknown>;
  for (const name of ['writePtr', 'writeU32', 'fill', 'fillPattern32', 'copy', 'stored']) assert.equal(own[name], proto[name], name);
  assert.equal(fastProperties(m.mem), true);
});
