/**
 * The four kernel eras of the thread context-op interface (core/eras.ts), with the layout of
 * `struct ctxop` the simulated kernel uses in each.
 */
import { CTXOP, CTXOP_PRE12477, type StructLayout } from '../machine/layout';
import { ERA_FACTS, ERA_IDS, type EraFacts, type EraId } from '../../core/eras';

export { ERA_IDS, type EraId };

export interface Era extends EraFacts {
  ctxopLayout: StructLayout;
}

export const ERAS: Record<EraId, Era> = Object.fromEntries(
  ERA_IDS.map((id) => [id, { ...ERA_FACTS[id], ctxopLayout: ERA_FACTS[id].ring ? CTXOP : CTXOP_PRE12477 }]),
) as Record<EraId, Era>;
