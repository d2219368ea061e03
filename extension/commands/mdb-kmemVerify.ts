import { dcmdCommand } from './types';

/** kctx: ::kmem_verify */
export default dcmdCommand('kctx.mdb.kmemVerify', '::kmem_verify');
