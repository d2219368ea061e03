/**
 * The `kctx` command: one binary for the simulator (`run`, `mdb`), the linter (`lint`),
 * the debug adapter (`dap`) and the language server (`lsp`).
 */
import { lintProcess, oneShotProcess, ONE_SHOT_COMMANDS } from './core/one-shot';

const USAGE = `usage: kctx <command> [options]

commands:
  run SCENARIO [--seed N] [--trace flow|none] [--mdb CMD]... [--max-steps N] [--stats]
               [--export-trace FILE.json]
               [--schedule FILE]   replay a schedule kctx explore found
  mdb SCENARIO [--seed N]          run, then read mdb commands from standard input
  explore SCENARIO [--budget N] [--strategy pct|random|preempt-bound] [--depth D]
               [--until panic,assert,hazard,deadlock,leak] [--jobs N] [--shard I/N]
               [--out DIR] [--format text|json]
                                   search schedules (interleavings) for failures
  explore --merge DIR...           combine the results of shards
  diff A[@K/M] B[@K/M] [--no-asserts] [--seed N]
                                   run two configurations, show where their traces part
  lint [--format text|json|sarif] [--era 13915|13917|auto] PATH...
  dap [--server=PORT]              the debug adapter over stdio or 127.0.0.1:PORT
  lsp --stdio                      the language server
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && ONE_SHOT_COMMANDS.has(cmd)) oneShotProcess();
  else if (cmd === 'lint') lintProcess();
  switch (cmd) {
    case 'run':
      return (await import('./kernel-sim/index')).runCommand(rest);
    case 'mdb':
      return (await import('./kernel-sim/index')).mdbCommand(rest);
    case 'explore':
      return (await import('./kernel-sim/index')).exploreCommand(rest);
    case 'diff':
      return (await import('./kernel-sim/index')).diffCommand(rest);
    case 'lint':
      return (await import('./language-server/cli')).lintCommand(rest);
    case 'dap':
      return (await import('./debug-adapter/main')).dapCommand(rest);
    case 'lsp':
      return (await import('./language-server/main')).lspCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`kctx: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

// A worker thread of `kctx explore --jobs N` runs this script too, with no command (its argv is
// empty): it runs its part of the search. A command never loads node:worker_threads here.
const wt = process.argv.length > 2 ? null : (require('node:worker_threads') as typeof import('node:worker_threads'));
if (wt && !wt.isMainThread && (wt.workerData as { kctxExplore?: boolean } | null)?.kctxExplore) {
  void import('./kernel-sim/index').then((e) => e.exploreWorker());
} else main(process.argv.slice(2)).then(
  (code) => {
    // Servers (dap, lsp) resolve to -1 and keep the process alive.
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`kctx: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
