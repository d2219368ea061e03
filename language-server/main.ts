/** `kctx lsp --stdio`: the language server over standard input and output. */
import { createConnection } from 'vscode-languageserver/node';
import { StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { startServer } from './server';
import { resyncFraming } from './framing';

export async function lspCommand(argv: string[]): Promise<number> {
  const bad = argv.filter((a) => a !== '--stdio');
  if (bad.length) {
    process.stderr.write(`kctx lsp: unknown option '${bad[0]}'\nusage: kctx lsp --stdio\n`);
    return 2;
  }
  // stdout carries the protocol: anything else printed there would corrupt it.
  console.log = (...a: unknown[]) => process.stderr.write(a.map(String).join(' ') + '\n');
  const input = process.stdin.pipe(resyncFraming());
  const connection = createConnection(new StreamMessageReader(input), new StreamMessageWriter(process.stdout));
  startServer(connection);
  return -1;
}
