// Writes the extension's keys of package.json (contributes, activationEvents, capabilities, ...).
// Run under `flock /tmp/kctx-pkg.lock node extension/tools/contributes.mjs`: others edit package.json
// too, so it re-reads the file just before writing and touches only the keys this issue owns.
import { readFileSync, writeFileSync } from 'node:fs';

const KERNELS = ['illumos-pre12477', 'illumos-12477', 'illumos-13915', 'illumos-13917'];
const FILTERS = ['swtch', 'ctxop', 'panic', 'assert', 'sleep-preempt-disabled', 'deadlock', 'leak'];

const threadSchema = {
  type: 'object',
  required: ['name', 'entry'],
  properties: {
    name: { type: 'string', description: 'Thread name (shown in the call stack and ::threadlist).' },
    entry: { type: 'string', description: 'A `void f(void *)` function in one of the sources.' },
    arg: { description: 'The argument passed to the entry function (a number).', type: ['number', 'string'] },
    lwp: { type: 'boolean', description: 'Give the thread the kernel\'s own ctxops first (segment registers, then FPU), as a user LWP has.' },
  },
};
const scenarioProps = {
  kernel: { type: 'string', enum: KERNELS, description: 'The kernel era to simulate.', enumDescriptions: [
    'Before illumos#12477: save and restore both run newest-first.',
    'illumos#12477: ctxops on a ring; restore runs oldest-first.',
    'illumos#13915: installctx() takes a 9th argument (the exit hook).',
    'illumos#13917: the ctxop_template API (ctxop_allocate/attach/detach/free); installctx() is gone.'] },
  cpus: { type: 'integer', minimum: 1, maximum: 64, description: 'Number of simulated CPUs.' },
  seed: { type: 'integer', description: 'Scheduler seed: the same scenario and seed give the same run.' },
  sources: { type: 'array', items: { type: 'string' }, description: 'The driver\'s C files (relative to the scenario or the workspace).' },
  defines: { type: 'object', additionalProperties: { type: ['number', 'string', 'boolean'] }, description: 'Preprocessor definitions, e.g. {"DEBUG": 1}.' },
  threads: { type: 'array', items: threadSchema, description: 'Kernel threads to create at boot.' },
};
const launchProps = {
  scenario: { type: 'string', description: 'Path of a .ksim.json scenario. Or give the scenario keys inline.' },
  ...scenarioProps,
  stopOnEntry: { type: 'boolean', default: true, description: 'Stop before the first thread runs.' },
  maxSteps: { type: 'integer', minimum: 1, description: 'Stop the run after this many interpreter steps.' },
  trace: { type: 'boolean', default: false, description: 'Print the dtrace -F style flow trace to the debug console.' },
  showIdleThreads: { type: 'boolean', default: false, description: 'Show the CPUs\' idle threads in the call stack.' },
  adapterMode: { type: 'string', enum: ['inline', 'process', 'server'],
    description: 'How this session\'s debug adapter runs (overrides the kctx.debugAdapter.mode setting).' },
  adapterPort: { type: ['integer', 'string'], minimum: 1, maximum: 65535, description: 'Port of `kctx dap --server=PORT`, or the path of `kctx dap --server=unix:PATH`, when adapterMode is "server".' },
  serverToken: { type: 'string', description: 'The token `kctx dap --server=PORT` printed at start (adapterMode "server" over a port); default: the kctx.debugAdapter.serverToken setting.' },
};

const mdbCommands = [
  ['threadlist', '::threadlist'], ['findleaks', '::findleaks'], ['kmemVerify', '::kmem_verify'],
  ['ctxops', '::ctxops'], ['cpuinfo', '::cpuinfo'], ['stacks', '::stacks'],
];

const commands = [
  ...mdbCommands.map(([id, dcmd]) => ({ command: `kctx.mdb.${id}`, title: dcmd, category: 'kctx' })),
  { command: 'kctx.mdb.run', title: 'Run mdb command...', category: 'kctx' },
  { command: 'kctx.simulate', title: 'Simulate this driver', category: 'kctx', icon: '$(debug-alt)' },
  { command: 'kctx.timeline.show', title: 'Show Timeline', category: 'kctx' },
  { command: 'kctx.threads.refresh', title: 'Refresh', category: 'kctx', icon: '$(refresh)' },
  { command: 'kctx.threads.select', title: 'Select in Call Stack', category: 'kctx' },
  { command: 'kctx.openExample', title: 'Open the example driver', category: 'kctx' },
];

const contributes = {
  debuggers: [{
    type: 'kctx',
    label: 'Kernel (kctx simulator)',
    languages: ['c'],
    configurationAttributes: { launch: { properties: launchProps } },
    initialConfigurations: [{
      type: 'kctx', request: 'launch', name: 'Simulate driver (kctx)',
      scenario: '${workspaceFolder}/driver.ksim.json', stopOnEntry: true,
    }],
    configurationSnippets: [
      { label: 'kctx: Simulate a scenario file', description: 'Run a .ksim.json scenario in the kernel simulator',
        body: { type: 'kctx', request: 'launch', name: 'Simulate ${1:scenario}', scenario: '^"\\${workspaceFolder}/${1:driver}.ksim.json"', stopOnEntry: true } },
      { label: 'kctx: Simulate with an inline scenario', description: 'Kernel era, CPUs, sources and threads in launch.json',
        body: { type: 'kctx', request: 'launch', name: 'Simulate ${1:driver}', kernel: 'illumos-13917', cpus: 2, seed: 1,
          sources: ['^"\\${workspaceFolder}/${1:driver}.c"'], threads: [{ name: 'worker0', entry: '${2:worker}', arg: 0, lwp: true }], stopOnEntry: true } },
    ],
  }],
  breakpoints: [{ language: 'c' }],
  commands,
  menus: {
    commandPalette: [
      { command: 'kctx.threads.refresh', when: 'debugType == kctx' },
      { command: 'kctx.threads.select', when: 'false' },
      { command: 'kctx.simulate', when: 'editorLangId == c' },
    ],
    'view/title': [{ command: 'kctx.threads.refresh', when: 'view == kctx.threads', group: 'navigation' }],
    'editor/title/run': [{ command: 'kctx.simulate', when: 'resourceLangId == c', group: 'navigation@10' }],
  },
  views: {
    debug: [
      { id: 'kctx.threads', name: 'Kernel threads', when: 'debugType == kctx || kctx.hasState' },
      { id: 'kctx.timeline', name: 'Timeline', type: 'webview', when: 'debugType == kctx || kctx.hasState' },
    ],
  },
  languages: [{
    id: 'kctx-mdb', aliases: ['mdb', 'kctx mdb'], extensions: ['.mdb'],
    configuration: './syntaxes/mdb.language-configuration.json',
  }],
  grammars: [
    { language: 'kctx-mdb', scopeName: 'source.mdb', path: './syntaxes/mdb.tmLanguage.json' },
    { scopeName: 'source.c.kctx-ctxops', path: './syntaxes/c-ctxops.injection.tmLanguage.json', injectTo: ['source.c'] },
  ],
  configuration: {
    title: 'kctx',
    properties: {
      'kctx.kernelEra': { type: 'string', enum: ['auto', '13915', '13917'], default: 'auto', scope: 'resource',
        markdownDescription: 'Kernel era the linter checks against. `auto` infers it from the file (falls back to 13917).' },
      'kctx.lint.rules': { type: 'object', default: {}, scope: 'resource',
        additionalProperties: { type: 'string', enum: ['error', 'warning', 'information', 'hint', 'off'] },
        markdownDescription: 'Severity per rule id, or `"off"`; e.g. `{"legacy-ctxop-api": "error"}`.' },
      'kctx.lint.exclude': { type: 'array', items: { type: 'string' }, default: [], scope: 'resource',
        markdownDescription: 'Glob patterns of files not to lint.' },
      'kctx.debugAdapter.mode': { type: 'string', enum: ['inline', 'process', 'server'], default: 'inline',
        enumDescriptions: ['Run the adapter in the extension host (fastest).', 'Run `kctx dap` as a separate process.',
          'Connect to an adapter already listening on `kctx.debugAdapter.port` (`kctx dap --server=PORT`).'],
        markdownDescription: 'How the debug adapter runs. `server` is for adapter development.' },
      'kctx.debugAdapter.port': { type: ['integer', 'string'], default: 4711, minimum: 1, maximum: 65535,
        markdownDescription: 'Port of `kctx dap --server=PORT`, or the path of a `kctx dap --server=unix:PATH` socket, when `kctx.debugAdapter.mode` is `server`.' },
      'kctx.debugAdapter.serverToken': { type: 'string', default: '', scope: 'machine',
        markdownDescription: 'The token `kctx dap --server=PORT` prints at start (`token=...`); sent as the launch attribute `serverToken` in `server` mode.' },
      'kctx.codeLens.enable': { type: 'boolean', default: true, scope: 'resource', description: 'Show "Simulate" above functions that install or attach ctxops.' },
    },
  },
  walkthroughs: [{
    id: 'kctx.gettingStarted',
    title: 'Get started with kctx',
    description: 'Lint, migrate, simulate and inspect a driver that uses thread context ops.',
    steps: [
      { id: 'open', title: 'Open the example driver', description: 'A small vmm-like driver that installs ctxops for its vCPU threads.\n[Open the example](command:kctx.openExample)',
        media: { markdown: 'extension/media/walkthrough/open.md' }, completionEvents: ['onCommand:kctx.openExample'] },
      { id: 'diagnostic', title: 'See the diagnostic', description: 'The linter flags the legacy `installctx()` call for a 13917 kernel.\n[Open Problems](command:workbench.actions.view.problems)',
        media: { markdown: 'extension/media/walkthrough/diagnostic.md' }, completionEvents: ['onCommand:workbench.actions.view.problems'] },
      { id: 'fix', title: 'Apply the migration fix', description: 'Put the cursor on the call and choose **Migrate to ctxop_template** from the quick fixes.\n[Quick Fix...](command:editor.action.quickFix)',
        media: { markdown: 'extension/media/walkthrough/fix.md' }, completionEvents: ['onCommand:editor.action.quickFix'] },
      { id: 'simulate', title: 'Start the simulator', description: 'Run the driver\'s C code on simulated CPUs and threads (interpreted, never run natively).\n[Simulate this driver](command:kctx.simulate)',
        media: { markdown: 'extension/media/walkthrough/simulate.md' }, completionEvents: ['onCommand:kctx.simulate'] },
      { id: 'swtch', title: 'Break on a context switch', description: 'Tick **swtch** in the Breakpoints view and continue: the debugger stops on the next context switch with every thread in the call stack.\n[Open Run and Debug](command:workbench.view.debug)',
        media: { markdown: 'extension/media/walkthrough/swtch.md' }, completionEvents: ['onView:kctx.threads'] },
      { id: 'findleaks', title: 'Run ::findleaks', description: 'Ask the simulated kernel for leaked buffers, as mdb would.\n[Run ::findleaks](command:kctx.mdb.findleaks)',
        media: { markdown: 'extension/media/walkthrough/findleaks.md' }, completionEvents: ['onCommand:kctx.mdb.findleaks'] },
    ],
  }],
};

const pkgPath = new URL('../../package.json', import.meta.url);
const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
pkg.categories = ['Debuggers', 'Linters'];
pkg.keywords = ['illumos', 'kernel', 'mdb', 'ctxop', 'debugger', 'lint'];
pkg.icon = 'extension/media/icon.png';
pkg.repository ??= { type: 'git', url: 'https://example.invalid/kctx.git' };
pkg.activationEvents = ['onDebugResolve:kctx', 'onDebugDynamicConfigurations:kctx', 'onLanguage:c', 'onLanguage:kctx-mdb',
  ...commands.map((c) => `onCommand:${c.command}`), 'onView:kctx.threads', 'onView:kctx.timeline'];
pkg.capabilities = {
  untrustedWorkspaces: {
    supported: 'limited',
    description: 'Linting works in restricted mode. The simulator interprets the driver\'s C code and never runs it natively, but debugging needs a trusted workspace.',
    restrictedConfigurations: ['kctx.debugAdapter.mode', 'kctx.debugAdapter.port', 'kctx.debugAdapter.serverToken'],
  },
  virtualWorkspaces: { supported: false, description: 'The language server and the simulator read files from disk.' },
};
// Keys of contributes that other issues own (e.g. problemMatchers of the linter) are kept.
pkg.contributes = { ...(pkg.contributes ?? {}), ...contributes };
pkg.scripts ??= {};
pkg.scripts.package = 'node extension/tools/package.mjs';
pkg.scripts['test:grammar'] = 'vscode-tmgrammar-test -g test/grammar/c-stub.tmLanguage.json "test/grammar/*.test.*"';
pkg.scripts['test:e2e'] = 'npm run build && node test/e2e/run.mjs';
if (process.argv.includes('--wire-test')) pkg.scripts.test = 'npm run build && node test/run.mjs && npm run test:grammar && node test/e2e/run.mjs';
writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
console.log('package.json: contributes written');
