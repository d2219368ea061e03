/**
 * The `kctx` command's loader (dist/kctx.js): runs the CLI's bundle (dist/kctx-cli.js) with V8's
 * code cache, so a new process does not compile the 1.5 MB bundle again (about 60 ms of CPU of a
 * warm `kctx run`). On node 22.1 and later, node's own module.enableCompileCache() does it;
 * before, the bundle is compiled here as node compiles a CommonJS module (the same wrapper, the
 * module's own `require`), with the cached data of an earlier process, and the process leaves
 * the data for the next one when there was none or V8 refused it (another node, other flags).
 * The data lives in the kctx cache folder (disk-cache.ts: `$KCTX_CACHE_DIR`, `$XDG_CACHE_HOME/kctx`
 * or `~/.cache/kctx`) under `code/`, named by the bundle's size and time and node's version;
 * `KCTX_CACHE=0` and `--no-cache` turn it off, as they do every kctx cache. It changes only how fast the bundle
 * starts: what runs is the same code.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';
import Module from 'node:module';
import { fingerprint } from './fingerprint';
import { lintProcess, oneShotProcess, ONE_SHOT_COMMANDS } from './one-shot';

const bundle = join(__dirname, 'kctx-cli.js');
/** Most code caches kept (builds, node versions); the oldest go first. */
const KEEP = 4;

/** The folder of the code cache, or null (off, or under node's test runner without KCTX_CACHE_DIR). */
function folder(): string | null {
  if (process.env.KCTX_CACHE === '0' || process.argv.includes('--no-cache')) return null;
  if (process.env.KCTX_CACHE_DIR) return join(process.env.KCTX_CACHE_DIR, 'code');
  if (process.env.NODE_TEST_CONTEXT) return null;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'kctx', 'code');
}

function run(): void {
  // V8 refuses code cached under other flags: the one-shot commands' flag is set before the
  // bundle is compiled, as it will be when the data is made (the CLI sets it again: no change).
  const cmd = process.argv[2];
  const oneShot = cmd !== undefined && ONE_SHOT_COMMANDS.has(cmd);
  if (oneShot) oneShotProcess();
  // kctx lint's flag (one-shot.ts lintProcess), for the same reason
  const lint = cmd === 'lint';
  if (lint) lintProcess();
  const dir = folder();
  const mod = Module as unknown as { enableCompileCache?: (dir: string) => unknown; wrap(src: string): string };
  if (dir && typeof mod.enableCompileCache === 'function') {
    mod.enableCompileCache(dir);
    require(bundle);
    return;
  }
  const src = readFileSync(bundle, 'utf8');
  let file: string | null = null;
  let cached: Buffer | undefined;
  if (dir) {
    const st = statSync(bundle);
    const id = fingerprint(`${bundle} ${st.size} ${st.mtimeMs} ${process.version} ${process.arch} ${process.execArgv.join(' ')} ${oneShot} ${lint}`);
    file = join(dir, `${id}.v8`);
    try {
      cached = readFileSync(file);
    } catch {
      /* none yet */
    }
  }
  // The bundle's own `import()` (web-tree-sitter loads a node module so) goes to node's loader, as from a module.
  const dynamicImport = (vmConstants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (!dynamicImport) {
    require(bundle);
    return;
  }
  const script = new Script(mod.wrap(src), { filename: bundle, cachedData: cached, importModuleDynamically: dynamicImport as never });
  const m = new Module(bundle, module) as Module & { filename: string; paths: string[]; loaded: boolean };
  m.filename = bundle;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(__dirname);
  const fn = script.runInThisContext() as (e: unknown, r: NodeRequire, m: Module, f: string, d: string) => void;
  if (file && (!cached || script.cachedDataRejected)) {
    // At exit: the data then holds the functions this run compiled too.
    process.once('exit', () => {
      try {
        const data = script.createCachedData();
        mkdirSync(dir!, { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, data, { mode: 0o600 });
        renameSync(tmp, file!);
        const all = readdirSync(dir!).filter((n) => n.endsWith('.v8')).map((n) => ({ p: join(dir!, n), t: statSync(join(dir!, n)).mtimeMs }));
        all.sort((a, b) => b.t - a.t || (a.p < b.p ? -1 : 1));
        for (const old of all.slice(KEEP)) unlinkSync(old.p);
      } catch {
        /* a cache that cannot be written is no cache */
      }
    });
  }
  fn.call(m.exports, m.exports, Module.createRequire(bundle), m, bundle, __dirname);
  m.loaded = true;
}

run();
