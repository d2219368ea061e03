import { dcmdCommand } from './types';

/** kctx: ::findleaks */
export default dcmdCommand('kctx.mdb.findleaks', '::findleaks');
