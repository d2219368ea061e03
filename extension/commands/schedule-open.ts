import type { KctxCommand } from './types';

/** kctx: Open Schedule in an Editor (the Schedule view as a wide editor tab). */
const command: KctxCommand = {
  id: 'kctx.schedule.open',
  async run(ctx) {
    ctx.timeline.openPanel();
    await ctx.model.refresh();
    return true;
  },
};
export default command;
