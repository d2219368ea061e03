import type * as vscode from 'vscode';
import type { KctxModel } from '../model';
import type { MdbRunner } from '../mdb';
import type { ThreadsTree } from '../views/threads';
import type { TimelineView } from '../views/timeline';

/** What a command can use. */
export interface Ctx {
  extension: vscode.ExtensionContext;
  model: KctxModel;
  mdb: MdbRunner;
  threads: ThreadsTree;
  timeline: TimelineView;
}

/** One palette command: its id in package.json and what it does. */
export interface KctxCommand {
  id: string;
  run(ctx: Ctx, ...args: unknown[]): unknown;
}

/** A command that runs one dcmd. */
export function dcmdCommand(id: string, dcmd: string): KctxCommand {
  return { id, run: (ctx) => ctx.mdb.run(dcmd) };
}
