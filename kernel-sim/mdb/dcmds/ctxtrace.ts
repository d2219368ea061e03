/**
 * `::ctxtrace [-n N] [-t THREAD]` (kctx): the last N ctxop hook calls, in `dtrace -F` form
 * (`CPU FUNCTION`, `->` and `<-` with the flow indent), from the event ring that `kctx mdb`
 * and the debugger keep. Each call appears inside its savectx/restorectx/exitctx/freectx.
 */
import { getopts, DcmdUsage, MdbError, type Dcmd } from '../types';
import type { KEvent } from '../../trace/events';
import { FlowFormatter } from '../../trace/flow';
import { formatAddr } from '../../machine/memory';

const WRAPPERS = new Set(['savectx', 'restorectx', 'exitctx', 'freectx', 'forkctx', 'lwp_createctx']);
const HOOK_DETAIL = /^(save|restore|fork|lwp_create|exit|free) [0-9a-f]+$/;

export const ctxtraceDcmd: Dcmd = {
  name: 'ctxtrace',
  usage: '[-n count] [-t thread]',
  description: 'print the last ctxop hook calls in dtrace -F form (kctx)',
  module: 'kctx',
  stability: 'Evolving',
  help:
    'Print the most recent ctxop hook calls (save, restore, fork, lwp_create, exit and\n' +
    'free handlers) from the simulator\'s event ring, as `dtrace -F` would show them.\n\n' +
    '  -n count   the last count calls (default 20; decimal unless 0x)\n' +
    '  -t thread  only the calls made on this thread (an address or expression)',
  run(c) {
    const o = getopts(c.args, '', 'nt');
    if (o.rest.length) throw new DcmdUsage();
    const m = c.m;
    const ring = m.eventRing;
    if (!ring) {
      throw new MdbError('::ctxtrace needs the event ring, which this session does not record (use `kctx mdb`, or the debug console)');
    }
    const nText = o.values.get('n');
    const n = nText === undefined ? 20 : /^\d+$/.test(nText) ? parseInt(nText, 10) : c.mdb.evaluate(nText);
    const thread = o.values.has('t') ? c.mdb.evaluate(o.values.get('t')!) : c.flags.addrspec ? c.addr : undefined;
    // Keep the wrappers and the handlers (entries whose detail is "op ctx", and their returns).
    const open = new Map<number, string[]>();
    const sel: KEvent[] = [];
    for (const e of ring.events()) {
      if (e.type === 'probe') continue;
      if (thread !== undefined && e.thread !== thread) continue;
      const stack = open.get(e.thread) ?? [];
      open.set(e.thread, stack);
      if (e.type === 'entry') {
        const hook = HOOK_DETAIL.test(e.detail ?? '');
        if (hook || WRAPPERS.has(e.fn)) {
          sel.push(e);
          stack.push(e.fn);
        } else stack.push('');
      } else {
        const top = stack.pop();
        if (top) sel.push(e);
      }
    }
    // Start at the Nth-last handler entry (and its wrapper's entry just before it, if any).
    let start = sel.length;
    let count = 0;
    for (let i = sel.length - 1; i >= 0 && count < n; i--) {
      const e = sel[i]!;
      if (e.type === 'entry' && HOOK_DETAIL.test(e.detail ?? '')) {
        count++;
        start = i;
      }
    }
    if (count === 0) {
      c.out('no ctxop hook calls recorded' + (thread !== undefined ? ` on thread ${formatAddr(thread)}` : ''));
      return;
    }
    const prev = sel[start - 1];
    if (prev && prev.type === 'entry' && WRAPPERS.has(prev.fn) && prev.thread === sel[start]!.thread) start--;
    const names = (a: number) => m.byAddr.get(a)?.name ?? formatAddr(a);
    const f = new FlowFormatter((l) => c.out(l), { threadName: names });
    f.header();
    for (const e of sel.slice(start)) f.event(e);
  },
};
