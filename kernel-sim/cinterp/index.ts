/** The C interpreter's entry point: being built (issue 3). Until then, C sources are refused. */
import { ScenarioError, type Scenario } from '../scenario';
import type { Machine } from '../machine/machine';
import type { DriverProgram } from '../kernel';

export async function loadDriver(_m: Machine, s: Scenario): Promise<DriverProgram> {
  throw new ScenarioError(s.file, 1, 1, `C sources (${s.sources.join(', ')}) need the C interpreter, which this build does not have yet`);
}
