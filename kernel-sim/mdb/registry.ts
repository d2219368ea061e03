/**
 * The table of dcmds and walkers: one entry per file under dcmds/ and walkers/.
 */
import { DCMDS, WALKERS, findDcmd, findWalker } from './table';
import { threadDcmd } from './dcmds/thread';
import { threadlistDcmd } from './dcmds/threadlist';
import { findstackDcmd } from './dcmds/findstack';
import { stackCDcmd, stackVDcmd, stackDcmd } from './dcmds/stack';
import { stacksDcmd } from './dcmds/stacks';
import { cpuinfoDcmd } from './dcmds/cpuinfo';
import { psDcmd } from './dcmds/ps';
import { walkDcmd } from './dcmds/walk';
import { printDcmd } from './dcmds/print';
import { findleaksDcmd } from './dcmds/findleaks';
import { bufctlDcmd } from './dcmds/bufctl';
import { kmemVerifyDcmd } from './dcmds/kmem_verify';
import { whatisDcmd } from './dcmds/whatis';
import { kmemCacheDcmd } from './dcmds/kmem_cache';
import { msgbufDcmd } from './dcmds/msgbuf';
import { panicinfoDcmd } from './dcmds/panicinfo';
import { statusDcmd } from './dcmds/status';
import { ctxopsDcmd } from './dcmds/ctxops';
import { ctxtraceDcmd } from './dcmds/ctxtrace';
import { dcmdsDcmd } from './dcmds/dcmds';
import { walkersDcmd } from './dcmds/walkers';
import { helpDcmd } from './dcmds/help';
import { quitDcmd, quitDcmd2 } from './dcmds/quit';
import { vnetsDcmd } from './dcmds/vnets';
import { vnetSysinitDcmd } from './dcmds/vnet_sysinit';
import { slashDcmd } from './dcmds/slash';
import { equalsDcmd } from './dcmds/equals';
import { formatsDcmd } from './dcmds/formats';
import { sizeofDcmd } from './dcmds/sizeof';
import { offsetofDcmd } from './dcmds/offsetof';
import { nmDcmd } from './dcmds/nm';
import { threadWalker } from './walkers/thread';
import { procWalker } from './walkers/proc';
import { ctxopWalker } from './walkers/ctxop';
import { cpuWalker } from './walkers/cpu';
import { kmemCacheWalker } from './walkers/kmem_cache';
import { kmemWalker } from './walkers/kmem';
import { freememWalker } from './walkers/freemem';
import { leakWalker } from './walkers/leak';

if (!DCMDS.length) {
  DCMDS.push(
    threadDcmd, threadlistDcmd, findstackDcmd, stackCDcmd, stackVDcmd, stackDcmd, stacksDcmd,
    cpuinfoDcmd, psDcmd, walkDcmd, printDcmd, findleaksDcmd, bufctlDcmd, kmemVerifyDcmd,
    whatisDcmd, kmemCacheDcmd, msgbufDcmd, panicinfoDcmd, statusDcmd, ctxopsDcmd, ctxtraceDcmd,
    dcmdsDcmd, walkersDcmd, helpDcmd, quitDcmd, quitDcmd2, slashDcmd, equalsDcmd, formatsDcmd,
    sizeofDcmd, offsetofDcmd, nmDcmd,
  );
  WALKERS.push(threadWalker, procWalker, ctxopWalker, cpuWalker, kmemCacheWalker, kmemWalker, freememWalker, leakWalker);
}

/**
 * The FreeBSD target's dcmds (::vnets, ::vnet_sysinit), loaded like a dmod once a freebsd-14
 * kernel exists in the process, so an illumos session's ::dcmds list stays as it was.
 */
export function loadFreebsdDcmds(): void {
  for (const d of [vnetsDcmd, vnetSysinitDcmd]) if (!DCMDS.includes(d)) DCMDS.push(d);
}

export { DCMDS, WALKERS, findDcmd, findWalker };
