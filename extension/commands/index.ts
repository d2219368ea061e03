/** The command registry: every palette command, one file each. */
import * as vscode from 'vscode';
import type { Ctx, KctxCommand } from './types';
import threadlist from './mdb-threadlist';
import findleaks from './mdb-findleaks';
import kmemVerify from './mdb-kmemVerify';
import ctxops from './mdb-ctxops';
import cpuinfo from './mdb-cpuinfo';
import stacks from './mdb-stacks';
import mdbRun from './mdb-run';
import simulate from './simulate';
import timelineShow from './timeline-show';
import threadsRefresh from './threads-refresh';
import threadsSelect from './threads-select';
import openExample from './open-example';
import explore from './explore';
import openDump from './open-dump';
import scheduleOpen from './schedule-open';

export const COMMANDS: readonly KctxCommand[] = [
  threadlist, findleaks, kmemVerify, ctxops, cpuinfo, stacks, mdbRun,
  simulate, timelineShow, threadsRefresh, threadsSelect, openExample, explore, openDump, scheduleOpen,
];

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return COMMANDS.map((c) => vscode.commands.registerCommand(c.id, (...args: unknown[]) => c.run(ctx, ...args)));
}
