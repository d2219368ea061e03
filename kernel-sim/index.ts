/**
 * The kernel simulator's public entry: everything the front ends use (the debug adapter, the
 * `kctx` commands, the extension through the adapter) comes from here, and the architecture
 * test (test/unit/architecture.test.ts) checks that nothing outside kernel-sim/ reaches past it.
 * Inside, the layers point one way (ARCHITECTURE.md): kernel.ts composes cinterp/, freebsd/,
 * abi/ and workloads/ over machine/; mdb/, trace/, dump/ and explore/ read a machine; cli/ is
 * the command line over all of them.
 */

// Building and running a kernel.
export { createKernel, type DriverProgram, type DriverLoader, type KernelOptions } from './kernel';
export { loadScenarioFile, scenarioFromObject, ScenarioError, SCENARIO_KEYS, type Scenario } from './scenario';
export { loadDriver } from './cinterp/index';
export type { Machine, MachineSnapshot, RunOutcome, StopPoint, StopPolicy, PanicInfo, StackEntry, Frame } from './machine/machine';
export { Schedule, parseSchedule, type ScheduleFile } from './machine/schedule';
export { formatPanic } from './panic';
export { readBoundedFile } from './files';

// What the machine's state looks like: kthread_t and cpu_t fields, ctxop rings, addresses.
export { type KThread } from './machine/thread';
export { CPU, CTXOP, CTXOP_PRE12477, KTHREAD, TS_ZOMB, stateName, type StructLayout, type Layouts } from './machine/layout';
export { formatAddr, parseAddr } from './machine/memory';
export { ringNewestFirst, walkList } from './abi/ring';
export { atWalkStart } from './machine/dispatcher';
export { builtinLine } from './workloads/builtins';
export type { CValueView, StatementPos } from './machine/debug-api';

// Events, mdb, dumps.
export { EventRing, TeeSink, type EventSink, type KEvent } from './trace/events';
export { FlowFormatter } from './trace/flow';
export { createMdb, DCMD_NAMES, findLeaks } from './mdb/index';
export { FORMATS } from './mdb/fmt';
export { readDump } from './dump/dump';
export { nativePrototype } from './native-protos';

// The `kctx` commands (kctx.ts loads this module only for them, so `kctx lint` never loads the simulator).
export { runCommand, mdbCommand } from './cli/run';
export { exploreCommand, exploreWorker } from './cli/explore';
export { diffCommand } from './freebsd/diff';
