/** `$q` / `::quit`: the engine does not own the session; `kctx mdb` itself quits on them. */
import type { Dcmd } from '../types';

const msg = 'quit is handled by the session: in `kctx mdb` type $q (or end the input); in the debug console, stop the debug session';

export const quitDcmd: Dcmd = { name: '$q', usage: '', description: 'quit debugger', run: (c) => c.out(msg) };
export const quitDcmd2: Dcmd = { name: 'quit', usage: '', description: 'quit debugger', run: (c) => c.out(msg) };
