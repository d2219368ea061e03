import { dcmdCommand } from './types';

/** kctx: ::cpuinfo */
export default dcmdCommand('kctx.mdb.cpuinfo', '::cpuinfo');
