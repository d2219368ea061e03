import { dcmdCommand } from './types';

/** kctx: ::ctxops */
export default dcmdCommand('kctx.mdb.ctxops', '::ctxops');
