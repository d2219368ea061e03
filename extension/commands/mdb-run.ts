import type { KctxCommand } from './types';

/** kctx: Run mdb command... (with an argument: run it without asking). */
const command: KctxCommand = {
  id: 'kctx.mdb.run',
  run: (ctx, cmd) => (typeof cmd === 'string' ? ctx.mdb.run(cmd) : ctx.mdb.prompt()),
};
export default command;
