/**
 * The formatting dcmds (`addr/FMT`, `value=FMT`), typed ::print of C globals, ::sizeof and
 * ::offsetof, against a running machine with a small C driver whose globals have known values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cMachine, machine } from './helpers';
import { createMdb } from '../../../kernel-sim/mdb/index';
import { formatAddr } from '../../../kernel-sim/machine/memory';
import { KTHREAD } from '../../../kernel-sim/machine/layout';
import type { Machine } from '../../../kernel-sim/machine/machine';

const SRC = `#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/disp.h>
#include <sys/ddi.h>
#include <sys/cmn_err.h>

typedef struct sample {
	int		s_id;
	char		s_name[12];
	uint16_t	s_port;
	void		(*s_cb)(void *);
	struct sample	*s_next;
} sample_t;

struct flags {
	unsigned int	f_on : 1;
	int		f_level : 4;
	int		f_after;
};

static void sample_cb(void *arg) { }

int neg = -5;
uint_t counts[6] = { 1, 2, 3, 0xdeadbeef, 5, 6 };
uint64_t big = 0xfeedfacecafef00dULL;
char banner[16] = "kctx mdb";
const char *msg = "hello";
void (*hook)(void *) = sample_cb;
short shorty = -2;
unsigned char bytes[4] = { 0x41, 0x0a, 0x00, 0xff };
sample_t second = { 8, "second", 443, 0, 0 };
sample_t first = { 7, "first", 80, sample_cb, &second };
sample_t *head = &first;
int *nullp;
struct flags fl;

void
entry(void *arg)
{
	fl.f_on = 1;
	fl.f_level = -3;
	fl.f_after = 9;
	counts[5] = 0x66;
}
`;

let cached: Machine | undefined;
async function drv(): Promise<Machine> {
  cached ??= await cMachine(SRC);
  return cached;
}

const addrOf = (m: Machine, name: string): number => m.sym.data.get(name)!.addr;

test('addr/FMT: the sym: line, the label in a 16-column field, values in their printf widths', async () => {
  const m = await drv();
  const mdb = createMdb(m);
  assert.equal(mdb.execute('neg/D'), 'neg:\nneg:            -5              \n');
  assert.equal(mdb.execute('neg/X'), 'neg:\nneg:            fffffffb        \n');
  assert.equal(mdb.execute('neg/U'), 'neg:\nneg:            4294967291      \n');
  // The entry ran: counts[5] was written by the driver.
  assert.equal(mdb.execute('counts/6X'), [
    'counts:',
    'counts:         1               2               3               deadbeef',
    '                5               66              ',
    '',
  ].join('\n'));
  // J/K take 17 columns when the top nibble is set; E is unsigned decimal.
  assert.equal(mdb.execute('big/J'), 'big:\nbig:            feedfacecafef00d \n');
  assert.equal(mdb.execute('big/E'), `big:\nbig:            ${BigInt('0xfeedfacecafef00d').toString(10)}\n`);
  assert.equal(mdb.execute('big/e'), `big:\nbig:            ${BigInt.asIntN(64, 0xfeedfacecafef00dn).toString(10)}\n`);
  // 2-byte and 1-byte formats.
  assert.equal(mdb.execute('shorty/d'), 'shorty:\nshorty:         -2      \n');
  assert.equal(mdb.execute('shorty/x'), 'shorty:\nshorty:         fffe    \n');
  assert.equal(mdb.execute('shorty/o'), 'shorty:\nshorty:         0177776 \n');
  assert.equal(mdb.execute('bytes/4B'), 'bytes:\nbytes:          41      a       0       ff      \n');
  assert.equal(mdb.execute('bytes/4V'), 'bytes:\nbytes:          65      10      0       255     \n');
  assert.equal(mdb.execute('bytes/4C'), 'bytes:\nbytes:          A\\n\\0\\377\n');
  assert.equal(mdb.execute('bytes/c'), 'bytes:\nbytes:          A\n');
  // Strings: s raw, S with C escapes; a pointer read as a symbol.
  assert.equal(mdb.execute('banner/s'), 'banner:\nbanner:         kctx mdb\n');
  const p = m.mem.readPtr(addrOf(m, 'msg'));
  assert.equal(mdb.execute('*msg/s'), `${`0x${formatAddr(p)}:`.padEnd(32)}hello\n`);
  assert.equal(mdb.execute('hook/p'), 'hook:\nhook:           sample_cb       \n');
  assert.equal(mdb.execute('first+0x20/P'), `first+0x20:     second          \n`);
  assert.equal(mdb.execute('hook/K'), `hook:\nhook:           ${formatAddr(m.sym.lookup('sample_cb')!.addr)} \n`);
  assert.equal(mdb.execute('nullp/K'), 'nullp:\nnullp:          0               \n');
});

test('addr/FMT: several formats, repeat counts, addr,count, the increment, strings, pipelines', async () => {
  const m = await drv();
  const mdb = createMdb(m);
  // Several format characters in one list, each where the previous stopped.
  assert.equal(mdb.execute('counts/DX'), 'counts:\ncounts:         1               2               \n');
  assert.equal(mdb.execute('counts/2Dn"next:"X'), 'counts:\ncounts:         1               2               \n                next:3               \n');
  // addr,count applies the list count times, one label, dot advancing by the bytes read.
  assert.equal(mdb.execute('counts,6/X'), mdb.execute('counts/6X'));
  // s_id (D), then s_name[0..1] (d: "fi"), then from +6: s_name[2..5] ("rst\0") and [6..7].
  assert.equal(mdb.execute('first,2/Dd'), 'first:\nfirst:          7               26982   7631730         0       \n');
  // `+` is dot plus the increment of the last command: the next word.
  mdb.execute('counts/X');
  assert.equal(mdb.execute('+/X'), 'counts+4:       2               \n');
  assert.equal(mdb.execute('+/X'), 'counts+8:       3               \n');
  // A member's address piped into `/`: the label is symbol+offset, no sym: line.
  assert.equal(mdb.execute('first::print -a s_port | /d'), 'first+0x10:     80      \n');
  // Into a pipe `/` prints no label; each value goes on.
  assert.equal(mdb.execute('head/K | /D'), 'first:\nfirst:          7               \n');
});

test('addr/FMT errors: unmapped memory, bad format characters, writes', async () => {
  const m = await drv();
  const mdb = createMdb(m);
  const nomap = 'mdb: failed to read data from target: no mapping for address';
  // The warning comes out before the label line still being built, once per call.
  assert.equal(mdb.execute('0/X'), `${nomap}\n0:              \n`);
  assert.equal(mdb.execute('0,2/K'), `${nomap}\n${nomap}\n0:              \n`);
  assert.equal(mdb.execute('nullp/K; *nullp/D'), `nullp:\nnullp:          0               \n${nomap}\n0:              \n`);
  assert.equal(mdb.execute('neg/j'), "neg:\nmdb: invalid format character -- 'j'\nneg:            \n");
  assert.equal(mdb.execute('neg/Xj'), "neg:\nmdb: invalid format character -- 'j'\nneg:            fffffffb        \n");
  assert.equal(mdb.execute('neg/W'), 'mdb: expected value to write following W\n');
  assert.match(mdb.execute('neg/W 0'), /^mdb: writing to the target is not available in the simulator/);
  assert.equal(m.mem.readI32(addrOf(m, 'neg')), -5);
  // l/L/M first search for a value from dot.
  assert.equal(mdb.execute('counts/L 0xdeadbeef'), 'counts+0xc\n');
  assert.equal(mdb.execute('nosuch/X'), 'mdb: failed to dereference symbol: unknown symbol name\n');
});

test('value=FMT shares the table: the value\'s own bytes, on the 16-column margin', async () => {
  const m = await drv();
  const mdb = createMdb(m);
  const eq = (v: string) => `${' '.repeat(16)}${v}\n`;
  assert.equal(mdb.execute('0t255=B'), eq('ff      '));
  assert.equal(mdb.execute('-1=D'), eq('-1              '));
  assert.equal(mdb.execute('-1=E'), eq('18446744073709551615'));
  assert.equal(mdb.execute('0x4142=c'), eq('B'));
  assert.equal(mdb.execute('0t10=XD'), eq('a               10              '));
  assert.equal(mdb.execute('sample_cb+4=p'), eq('sample_cb+4     '));
  assert.equal(mdb.execute('first+0x10=a'), 'first+0x10:     \n');
  // Values that are neither small nor kernel addresses keep all their bits.
  assert.equal(mdb.execute('0x20000=X'), eq('20000           '));
  assert.equal(mdb.execute('0x20001=X'), eq('20001           '));
  assert.equal(mdb.execute('0x20001+0x20001=X'), eq('40002           '));
  assert.equal(mdb.execute('0xfeedfacecafef00d=J'), eq('feedfacecafef00d '));
  assert.equal(mdb.execute('5='), "mdb: expected one or more format characters following '='\n");
});

test('::print of C globals: inferred types, structs, arrays, pointers as symbols, member paths', async () => {
  const m = await drv();
  const mdb = createMdb(m);
  const strP = formatAddr(m.mem.readPtr(addrOf(m, 'msg')));
  assert.equal(mdb.execute('first::print'), [
    '{',
    '    s_id = 0x7',
    '    s_name = [ "first" ]',
    '    s_port = 0x50',
    '    s_cb = sample_cb',
    '    s_next = second',
    '}',
    '',
  ].join('\n'));
  assert.equal(mdb.execute('first::print -t'), [
    'struct sample {',
    '    int s_id = 0x7',
    '    char [12] s_name = [ "first" ]',
    '    uint16_t s_port = 0x50',
    '    void (*)() s_cb = sample_cb',
    '    struct sample *s_next = second',
    '}',
    '',
  ].join('\n'));
  assert.equal(mdb.execute('head::print'), 'first\n');
  assert.equal(mdb.execute('neg::print'), '0xfffffffb\n');
  assert.equal(mdb.execute('neg::print -d'), '-0t5\n');
  assert.equal(mdb.execute('neg::print -t'), 'int 0xfffffffb\n');
  assert.equal(mdb.execute('counts::print'), '[ 0x1, 0x2, 0x3, 0xdeadbeef, 0x5, 0x66 ]\n');
  assert.equal(mdb.execute('counts::print -d -l 2'), '[ 1, 2, ... ]\n');
  assert.equal(mdb.execute('banner::print'), '[ "kctx mdb" ]\n');
  assert.equal(mdb.execute('bytes::print'), '[ 0x41, 0xa, 0, 0xff ]\n');
  assert.equal(mdb.execute('msg::print'), `0x${strP} "hello"\n`);
  assert.equal(mdb.execute('hook::print'), 'sample_cb\n');
  assert.equal(mdb.execute('shorty::print'), '0xfffe\n');
  // Member paths: through a pointer, into an array, a nested struct prefixes its members.
  assert.equal(mdb.execute('head::print s_next->s_name s_port'), 's_next->s_name = [ "second" ]\ns_port = 0x50\n');
  assert.equal(mdb.execute('first::print -t s_next'), 'struct sample *s_next = second\n');
  assert.equal(mdb.execute('first::print s_name[1]'), "s_name[1] = 'i'\n");
  assert.equal(mdb.execute('first::print -a s_id'), `${formatAddr(addrOf(m, 'first'))} s_id = 0x7\n`);
  // Bit-fields, read through the interpreter: unsigned in hex, signed in decimal.
  assert.equal(mdb.execute('fl::print'), '{\n    f_on = 0x1\n    f_level = -0t3\n    f_after = 0x9\n}\n');
  // In a pipeline a member passes its value on.
  assert.equal(mdb.execute('first::print s_next | ::print sample_t s_id s_port'), 's_id = 0x8\ns_port = 0x1bb\n');
  // With the type named explicitly, and without an address (the layout).
  assert.equal(mdb.execute('second::print sample_t s_id'), 's_id = 0x8\n');
  assert.equal(mdb.execute('::print -t sample_t'), 'sample_t {\n    int s_id \n    char [12] s_name \n    uint16_t s_port \n    void (*)() s_cb \n    struct sample *s_next \n}\n');
  // Errors.
  assert.equal(mdb.execute('first::print nope'), 'mdb: failed to find member nope of struct sample: no such member of structure or union\n');
  assert.equal(mdb.execute('first+4::print'), 'mdb: no symbol information for first+4: no symbol corresponds to address\n');
  assert.match(mdb.execute('sample_cb::print'), /^mdb: no type data available for sample_cb \[\d+\]: Symbol table entry is not a data object\n$/);
  assert.equal(mdb.execute('first::print nosuch_t s_id'), 'mdb: failed to find member nosuch_t of struct sample: no such member of structure or union\n');
  assert.equal(mdb.execute('0::print sample_t'), '{\nmdb: failed to read 4 bytes at 0: no mapping for address\nmdb: failed to print type: no mapping for address\n');
});

test('::sizeof and ::offsetof of kernel and driver types', async () => {
  const m = await drv();
  const mdb = createMdb(m);
  // sample_t: int, char[12], uint16_t, padding to 8, a function pointer, a pointer.
  assert.equal(mdb.execute('::sizeof sample_t'), 'sizeof (sample_t) = 0x28\n');
  assert.equal(mdb.execute('::sizeof struct sample'), 'sizeof (struct sample) = 0x28\n');
  assert.equal(mdb.execute('::sizeof uint16_t'), 'sizeof (uint16_t) = 2\n');
  assert.equal(mdb.execute('::sizeof "struct sample *"'), 'sizeof (struct sample *) = 8\n');
  assert.equal(mdb.execute('::sizeof "char [12]"'), 'sizeof (char [12]) = 0xc\n');
  assert.equal(mdb.execute('::offsetof sample_t s_cb'), 'offsetof (sample_t, s_cb) = 0x18, sizeof (...->s_cb) = 8\n');
  assert.equal(mdb.execute('::offsetof struct sample s_port'), 'offsetof (struct sample, s_port) = 0x10, sizeof (...->s_port) = 2\n');
  assert.equal(mdb.execute('::offsetof sample_t s_name'), 'offsetof (sample_t, s_name) = 4, sizeof (...->s_name) = 0xc\n');
  const hex = (n: number) => (n > 9 ? '0x' : '') + n.toString(16);
  assert.equal(mdb.execute('::sizeof kthread_t'), `sizeof (kthread_t) = ${hex(KTHREAD.size)}\n`);
  assert.equal(mdb.execute('::offsetof kthread_t t_ctx'), `offsetof (kthread_t, t_ctx) = ${hex(KTHREAD.offsets.t_ctx!)}, sizeof (...->t_ctx) = 8\n`);
  assert.equal(mdb.execute('::offsetof kthread_t t_name'), `offsetof (kthread_t, t_name) = ${hex(KTHREAD.offsets.t_name!)}, sizeof (...->t_name) = 0x20\n`);
  // Into a pipe only the number.
  assert.equal(mdb.execute('::sizeof sample_t | =D'), `${' '.repeat(16)}40              \n`);
  // Errors.
  assert.equal(mdb.execute('::sizeof nosuch_t'), 'mdb: failed to look up type nosuch_t: No type information available for that name\n');
  assert.equal(mdb.execute('::offsetof sample_t s_nope'), 'mdb: failed to find member s_nope of type sample_t: no such member of structure or union\n');
  assert.match(mdb.execute('::sizeof'), /^Usage: ::sizeof type\n/);
  assert.match(mdb.execute('first::sizeof sample_t'), /^Usage: ::sizeof type/);
});

test('::formats lists every format character with its size', async () => {
  const m = await drv();
  const rows = createMdb(m).execute('::formats').trimEnd().split('\n');
  for (const r of ['B - hexadecimal int (1 byte)', 'D - decimal signed int (4 bytes)', 'K - hexadecimal uintptr_t (8 bytes)',
    'X - hexadecimal int (4 bytes)', 'd - decimal signed short (2 bytes)', 'p - symbol (8 bytes)', 's - raw string (variable size)',
    'v - write decimal signed int (1 byte)', 'Z - write hexadecimal long long (8 bytes)', 'a - dot as symbol+offset', 'L - match int (4 bytes)']) {
    assert.ok(rows.includes(r), r);
  }
});

test('the vmm example: a driver global read with / and ::print, a kernel-typed symbol, a builtin template', async () => {
  const m = await machine('examples/vmm/vmm.ksim.json', 300, false);
  const mdb = createMdb(m);
  const done = m.mem.readU32(addrOf(m, 'vmm_vcpus_done'));
  assert.equal(mdb.execute('vmm_vcpus_done/D'), `vmm_vcpus_done:\nvmm_vcpus_done: ${String(done).padEnd(16)}\n`);
  assert.equal(mdb.execute('vmm_vcpus_done::print -t'), `uint_t ${done ? '0x' + done.toString(16) : '0'}\n`);
  assert.equal(mdb.execute('vmm_ctxop_tpl::print ct_rev ct_save ct_restore ct_free'), 'ct_rev = 0x1\nct_save = vmm_savectx\nct_restore = vmm_restorectx\nct_free = 0\n');
  assert.equal(mdb.execute('vmm_ctxop_tpl+8/p'), 'vmm_ctxop_tpl+8:vmm_savectx     \n');
  assert.equal(mdb.execute('::sizeof vm_thread_ctx_t'), 'sizeof (vm_thread_ctx_t) = 0x20\n');
  assert.equal(mdb.execute('::offsetof struct vcpu vtc.vtc_status'), 'offsetof (struct vcpu, vtc.vtc_status) = 0x18, sizeof (...->vtc.vtc_status) = 4\n');
  const first = formatAddr(m.mem.readPtr(m.sym.data.get('allthreads')!.addr));
  assert.equal(mdb.execute('allthreads::print'), `0x${first}\n`);
  assert.equal(mdb.execute('allthreads/K'), `allthreads:\nallthreads:     ${first} \n`);
  const b = await machine('bhyve-13917', 400, false);
  assert.equal(createMdb(b).execute('vmm_ctxop_tpl::print -t ct_save'), 'void (*)() ct_save = vmm_savectx\n');
});

test('::nm: the symbol table as mdb prints it, one symbol by address, one object, sorted', async () => {
  const m = await drv();
  const mdb = createMdb(m);
  const hdr = 'Value              Size               Type  Bind  Other Shndx    Name';
  const cb = formatAddr(m.sym.lookup('sample_cb')!.addr);
  const first = formatAddr(addrOf(m, 'first'));
  assert.equal(mdb.execute('sample_cb+0x10::nm'), `${hdr}\n0x${cb}|0x0000000000000100|FUNC |GLOB |0x0  |1       |sample_cb\n`);
  assert.equal(mdb.execute('first+4::nm -h'), `0x${first}|0x0000000000000028|OBJT |GLOB |0x0  |3       |first\n`);
  const objs = mdb.execute('::nm -h -n -t objt drv').trimEnd().split('\n').map((l) => l.split('|').pop());
  assert.deepEqual(objs, ['banner', 'big', 'bytes', 'counts', 'first', 'fl', 'head', 'hook', 'msg', 'neg', 'nullp', 'second', 'shorty']);
  assert.equal(mdb.execute('::nm -h -d -t func drv').split('\n')[0], `${BigInt('0x' + cb).toString(10)}|256                 |FUNC |GLOB |0    |1       |sample_cb`);
  assert.equal(mdb.execute('0::nm'), 'mdb: 0: no symbol corresponds to address\n');
  assert.match(mdb.execute('::nm -d -x'), /^mdb: -d\/-o\/-x options are mutually exclusive\nUsage: \[address\]::nm/);
});
