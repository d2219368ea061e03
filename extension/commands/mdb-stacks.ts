import { dcmdCommand } from './types';

/** kctx: ::stacks */
export default dcmdCommand('kctx.mdb.stacks', '::stacks');
