/**
 * `kctx dap`: the debug adapter over stdio, or `kctx dap --server=PORT` listening on
 * 127.0.0.1:PORT (one session per connection; PORT 0 picks a free port, printed on stderr).
 */
import { createServer, type Socket } from 'node:net';
import { KctxDebugSession } from './session';

const USAGE = 'usage: kctx dap [--server=PORT]\n';

export async function dapCommand(argv: string[]): Promise<number> {
  let port: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let v: string | undefined;
    if (a.startsWith('--server=')) v = a.slice(9);
    else if (a === '--server') v = argv[++i];
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else {
      process.stderr.write(`kctx dap: unknown argument '${a}'\n${USAGE}`);
      return 2;
    }
    if (v === undefined || !/^\d{1,5}$/.test(v) || Number(v) > 65535) {
      process.stderr.write(`kctx dap: --server expects a port number (0-65535), got '${v ?? ''}'\n${USAGE}`);
      return 2;
    }
    port = Number(v);
  }
  if (port === undefined) {
    // stdout carries the protocol: anything else printed goes to stderr.
    console.log = console.info = (...args: unknown[]) => process.stderr.write(args.map(String).join(' ') + '\n');
    const session = new KctxDebugSession();
    process.on('SIGTERM', () => session.shutdown());
    session.start(process.stdin, process.stdout);
    return -1;
  }
  const server = createServer((socket: Socket) => {
    const session = new KctxDebugSession();
    session.setRunAsServer(true);
    socket.on('error', () => socket.destroy());
    session.start(socket, socket);
  });
  return new Promise<number>((resolve) => {
    server.on('error', (e) => {
      process.stderr.write(`kctx dap: cannot listen on 127.0.0.1:${port}: ${(e as Error).message}\n`);
      resolve(1);
    });
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      process.stderr.write(`kctx dap: listening on 127.0.0.1:${actual}\n`);
      resolve(-1);
    });
  });
}
