import { dcmdCommand } from './types';

/** kctx: ::threadlist */
export default dcmdCommand('kctx.mdb.threadlist', '::threadlist');
