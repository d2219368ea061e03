import type { KctxCommand } from './types';

/** Refresh the Kernel threads view from the adapter. */
const command: KctxCommand = {
  id: 'kctx.threads.refresh',
  run: (ctx) => ctx.model.refresh(),
};
export default command;
