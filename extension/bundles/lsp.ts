/**
 * The lazily loaded language client library (dist/extension-lsp.js): vscode-languageclient is
 * most of the extension's code, and is needed only once a C file is open.
 */
export { LanguageClient, RevealOutputChannelOn } from 'vscode-languageclient/node';
