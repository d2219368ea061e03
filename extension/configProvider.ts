/**
 * Debug configurations of type `kctx`: F5 without a launch.json simulates the open C file;
 * launch.json gets one entry per scenario file of the workspace; paths are made absolute.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { simulateConfig, targetFile } from './simulate';

async function scenarioFiles(): Promise<vscode.Uri[]> {
  return vscode.workspace.findFiles('**/*.ksim.json', '**/node_modules/**', 20);
}

export class KctxConfigurationProvider implements vscode.DebugConfigurationProvider {
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): Promise<vscode.DebugConfiguration[]> {
    const files = await scenarioFiles();
    const rel = (u: vscode.Uri) => (folder ? '${workspaceFolder}/' + path.relative(folder.uri.fsPath, u.fsPath).split(path.sep).join('/') : u.fsPath);
    if (!files.length) return [{ type: 'kctx', request: 'launch', name: 'Simulate driver (kctx)', scenario: '${workspaceFolder}/driver.ksim.json', stopOnEntry: true }];
    return files.map((u) => ({ type: 'kctx', request: 'launch', name: `Simulate ${path.basename(u.fsPath, '.ksim.json')}`, scenario: rel(u), stopOnEntry: true }));
  }

  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined | null> {
    if (!config.type && !config.request && !config.name) {
      // F5 with no launch.json: simulate the open C file.
      const file = targetFile();
      if (!file) {
        void vscode.window.showInformationMessage('kctx: open a driver C file (or a launch.json with a scenario) to simulate it.');
        return undefined;
      }
      return simulateConfig(file);
    }
    if (!config.scenario && !Array.isArray(config.sources) && !config.dump) {
      void vscode.window.showErrorMessage('kctx: the launch configuration needs "scenario" (a .ksim.json path), the scenario keys inline ("sources", "threads"), or "dump" (a crash dump).');
      return null; // null: open launch.json
    }
    return config;
  }

  /** After ${workspaceFolder} and friends are substituted: relative paths are the workspace's. */
  resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration {
    const base = folder?.uri.fsPath ?? (vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
    if (!base) return config;
    if (typeof config.scenario === 'string' && !path.isAbsolute(config.scenario)) config.scenario = path.resolve(base, config.scenario);
    if (Array.isArray(config.sources)) config.sources = config.sources.map((s: unknown) => (typeof s === 'string' && !path.isAbsolute(s) ? path.resolve(base, s) : s));
    for (const k of ['schedule', 'dump']) if (typeof config[k] === 'string' && !path.isAbsolute(config[k])) config[k] = path.resolve(base, config[k]);
    if (typeof config.cwd !== 'string') config.cwd = base;
    // Server mode: the token `kctx dap --server=PORT` printed, from the setting unless the configuration has one.
    const token = vscode.workspace.getConfiguration('kctx.debugAdapter', folder?.uri).get<string>('serverToken', '');
    if (token && config.serverToken === undefined) config.serverToken = token;
    // The kctx.gate setting: the kernel tree of scenarios that name none.
    const gate = vscode.workspace.getConfiguration('kctx', folder?.uri).get<string>('gate', '');
    if (gate && config.gate === undefined && config.defaultGate === undefined) config.defaultGate = gate;
    return config;
  }
}

/** "Dynamic" configurations in the Run and Debug dropdown: one per scenario file. */
export class KctxDynamicProvider implements vscode.DebugConfigurationProvider {
  async provideDebugConfigurations(): Promise<vscode.DebugConfiguration[]> {
    return (await scenarioFiles()).map((u) => ({ type: 'kctx', request: 'launch', name: `kctx: ${path.basename(u.fsPath)}`, scenario: u.fsPath, stopOnEntry: true }));
  }
}
