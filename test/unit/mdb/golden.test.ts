/**
 * Golden transcripts of every dcmd on fixed scenarios and seeds (test/fixtures/mdb/*.ksim.json,
 * stopped at a fixed step). Regenerate with KCTX_UPDATE_GOLDEN=1 and read the diff by eye.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { machine, transcript, golden, goldenPath } from './helpers';
import type { Machine } from '../../../kernel-sim/machine/machine';
import { T_KFPU } from '../../../kernel-sim/machine/layout';
import { formatAddr } from '../../../kernel-sim/machine/memory';

interface Case {
  name: string;
  fixture: string;
  steps: number;
  /** Commands; `{name}` is replaced by that thread's address, `{cache:NAME}` by a cache's. */
  cmds: string[];
  setup?: (m: Machine) => void;
}

function expand(m: Machine, cmd: string): string {
  return cmd
    .replace(/\{cache:([\w]+)\}/g, (_a, n: string) => formatAddr(m.kmem.caches.get(n)!.addr))
    .replace(/\{ctx:([\w./-]+)\}/g, (_a, n: string) => formatAddr(m.tCtx(m.threadByName(n)!)))
    .replace(/\{([\w./-]+)\}/g, (_a, n: string) => formatAddr(m.threadByName(n)!.addr));
}

const CASES: Case[] = [
  {
    name: 'bhyve-13917-threads',
    fixture: 'bhyve-13917',
    steps: 400,
    cmds: [
      '::threadlist', '::threadlist -v', '::thread', '::thread -bdp', '::thread -dm', '{vcpu0}::thread -d',
      '::walk thread', '::walk thread | ::thread -d', '{vcpu0}::findstack', '{vcpu0}::findstack -v',
      '{spin}::findstack', '{thread_reaper}::findstack -v', '$c', '$C', '::stack', '{thread_reaper}$c', '{thread_reaper}$C 0',
      '::stacks', '::stacks -a', '::stacks -c swtch', '::stacks -t onproc', '::stacks -i', '::walk thread | ::stacks',
      '::cpuinfo', '::cpuinfo -v', '1::cpuinfo', '::walk cpu', '::ps', '::ps -tl', '::status',
    ],
  },
  {
    name: 'bhyve-13917-ctxops',
    fixture: 'bhyve-13917',
    steps: 400,
    cmds: [
      '{vcpu0}::walk ctxop', '{vcpu0}::walk ctxop | ::print struct ctxop',
      '{vcpu0}::walk ctxop | ::print -t ctxop_t save_op restore_op arg save_ts restore_ts',
      '::walk ctxop', '{spin}::walk ctxop', '::ctxops', '{vcpu1}::ctxops -v', '{spin}::ctxops',
      '::walk thread | ::ctxops | ::print ctxop_t arg', '::ctxtrace -n 4', '::ctxtrace -n 2 -t {vcpu1}',
      '{vcpu0}::print kthread_t', '{vcpu0}::print -t kthread_t t_preempt t_ctx t_state t_name', '{vcpu0}::print kthread_t t_bogus',
      'cpu::print cpu_t cpu_id cpu_thread cpu_runrun cpu_kprunrun', 'vmm_ctxop_tpl::print -t struct ctxop_template',
      '{ctx:vcpu0}::whatis', '{ctx:vcpu0}+0x10::whatis', '{vcpu0}::whatis', 'allthreads::whatis', 'vmm_savectx::whatis',
      '*allthreads::thread', 'allthreads=K', '{vcpu0}+0x10=K',
    ],
  },
  {
    name: 'bhyve-13917-kmem',
    fixture: 'bhyve-13917',
    steps: 400,
    cmds: [
      '::kmem_cache', '::kmem_cache -n alloc_9', '::kmem_verify', '{cache:kmem_alloc_96}::kmem_verify',
      '{cache:kmem_alloc_96}::walk kmem', '{cache:kmem_alloc_96}::walk kmem | ::bufctl', '{ctx:vcpu0}::bufctl -v',
      '::findleaks', '::findleaks -v', '::msgbuf',
    ],
  },
  {
    name: 'bhyve-13917-errors',
    fixture: 'bhyve-13917',
    steps: 400,
    cmds: [
      '::foo', '::walk foo', '::walk', '::findstack', '::thread -z', '::threadlist -x',
      'ffffffffdeadbeef::thread', 'ffffffffdeadbeef::findstack', '0::print kthread_t', 'nosuchsym::thread',
      '::print no_such_t', '::panicinfo', '$q', '::quit', '$<foo', '::help', '::help findstack', '::help ctxops', '::help nosuch',
      '::dcmds', '::walkers', '::dcmds thread', '::walk thread | ::foo', '1+2=D', '(1+2)*3=D', '0t10=X', 'ls ! sh',
      '0/X', 'allthreads/j', 'allthreads/Z', '::sizeof nosuch_t', '::offsetof kthread_t t_nope', '::print -t kthread_t', '::formats',
      '::help /', '::help print',
    ],
  },
  {
    name: 'kvm-12477-pressure',
    fixture: 'kvm-12477-pressure',
    steps: 300,
    cmds: ['::threadlist -v', '::stacks', '::thread -b', '::ctxops -v', '::cpuinfo -v', '::ctxtrace', '::findleaks', '::kmem_verify'],
  },
  {
    name: 'kfpu-pre12477',
    fixture: 'kfpu-pre12477',
    steps: 250,
    cmds: ['::threadlist', '{zfs0}::walk ctxop', '{zfs0}::walk ctxop | ::print ctxop_t', '::ctxops', '{zfs0}$C', '::stacks'],
  },
  {
    // Post-mortem: the spinning kernel thread has T_KFPU set without a kernel-FPU ctxop, so its
    // next switch panics in kernel_fpu_no_swtch().
    name: 'kfpu-panic',
    fixture: 'kfpu-pre12477',
    steps: 250,
    setup(m) {
      const t = m.threadByName('spin')!;
      m.setFlag(t, m.tFlag(t) | T_KFPU);
      m.run(100000);
    },
    cmds: ['::panicinfo', '::status', '$c', '$C', '::stack', '::stacks', '::cpuinfo', '::threadlist -v', '::thread', '{spin}::findstack -v', '::msgbuf'],
  },
  {
    // The C driver of examples/vmm, mid-run: C frames in stacks, the driver's structs and globals.
    name: 'c-vmm-13917',
    fixture: 'examples/vmm/vmm.ksim.json',
    steps: 300,
    cmds: [
      '::stacks', '$c', '$C', '::threadlist -v 2', '::ctxops', '{vcpu0}::walk ctxop | ::print ctxop_t arg | ::print vm_thread_ctx_t',
      'vmm_ctxop_tpl::print -t struct ctxop_template', 'vmm_vcpus_done::whatis', '::findleaks', '::ctxtrace -n 3',
      // Formatting dcmds and typed ::print of the driver's globals and types.
      'vmm_vcpus_done/D', 'vmm_vcpus_done::print -t', 'vmm_ctxop_tpl::print', 'vmm_ctxop_tpl,2/K', 'vmm_ctxop_tpl/XXpp',
      '::sizeof vm_thread_ctx_t', '::offsetof struct vcpu vtc.vtc_status', '{vcpu0}::print -t kthread_t t_ctx t_name t_cpu',
      '{vcpu0}::print kthread_t t_ctx | ::print -t ctxop_t save_op arg', '{vcpu0}::print kthread_t t_ctx->arg | ::print -a vm_thread_ctx_t',
      '{vcpu0},4/K', 'allthreads::print t_name',
    ],
  },
  {
    // Post-panic with a C driver: ctxop_allocate's template revision VERIFY.
    name: 'c-vmm-badrev-panic',
    fixture: 'examples/vmm/vmm-badrev.ksim.json',
    steps: 1000000,
    cmds: ['::panicinfo', '$c', '$C', '::stacks', '::threadlist -v', '::msgbuf'],
  },
  {
    name: 'c-leaky-end',
    fixture: 'examples/leaky/leaky.ksim.json',
    steps: 10000000,
    cmds: ['::findleaks', '::findleaks -d', '::walk leak', '::msgbuf', '::ctxops'],
  },
  {
    name: 'bhyve-13917-end',
    fixture: 'bhyve-13917',
    steps: Infinity,
    cmds: ['::threadlist', '::stacks', '::ctxops', '::findleaks', '::kmem_verify', '::cpuinfo', '$c'],
  },
];

for (const c of CASES) {
  test(`mdb golden: ${c.name}`, async () => {
    const m = await machine(c.fixture, c.steps);
    c.setup?.(m);
    const cmds = c.cmds.map((x) => expand(m, x));
    // Show the command as written (with the placeholder resolved) in the transcript.
    const text = transcript(m, cmds);
    const want = golden(c.name, text);
    if (want !== undefined) assert.equal(text, want);
  });
}

test('a missing golden fails unless KCTX_UPDATE_GOLDEN=1', () => {
  const name = 'no-such-golden-for-this-test';
  assert.equal(existsSync(goldenPath(name)), false);
  assert.throws(() => golden(name, 'text\n', {}), /no golden file .*no-such-golden-for-this-test\.txt: run the test with KCTX_UPDATE_GOLDEN=1/);
  assert.equal(existsSync(goldenPath(name)), false, 'nothing was written');
});
