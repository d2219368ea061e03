/**
 * `kctx dap`: the debug adapter over stdio; `kctx dap --server=PORT` listening on 127.0.0.1:PORT
 * (one session per connection; PORT 0 picks a free port), where every session must pass the
 * token printed at start as the launch attribute `serverToken`; or `kctx dap --server=unix:PATH`,
 * a Unix socket only its owner can open (mode 0600), which needs no token.
 */
import { createServer, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { KctxDebugSession } from './session';

const USAGE = 'usage: kctx dap [--server=PORT [--token=TOKEN] | --server=unix:PATH]\n';

export async function dapCommand(argv: string[]): Promise<number> {
  let port: number | undefined;
  let socketPath: string | undefined;
  let token: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let v: string | undefined;
    if (a.startsWith('--token=') || a === '--token') {
      token = a === '--token' ? argv[++i] : a.slice(8);
      if (!token || !/^[\x21-\x7e]{16,256}$/.test(token)) {
        process.stderr.write(`kctx dap: --token expects 16 to 256 printable characters\n${USAGE}`);
        return 2;
      }
      continue;
    }
    if (a.startsWith('--server=')) v = a.slice(9);
    else if (a === '--server') v = argv[++i];
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else {
      process.stderr.write(`kctx dap: unknown argument '${a}'\n${USAGE}`);
      return 2;
    }
    if (v !== undefined && v.startsWith('unix:') && v.length > 5) {
      socketPath = v.slice(5);
      continue;
    }
    if (v === undefined || !/^\d{1,5}$/.test(v) || Number(v) > 65535) {
      process.stderr.write(`kctx dap: --server expects a port number (0-65535) or unix:PATH, got '${v ?? ''}'\n${USAGE}`);
      return 2;
    }
    port = Number(v);
  }
  if (port === undefined && socketPath === undefined) {
    if (token) {
      process.stderr.write(`kctx dap: --token goes with --server=PORT\n${USAGE}`);
      return 2;
    }
    // stdout carries the protocol: anything else printed goes to stderr.
    console.log = console.info = (...args: unknown[]) => process.stderr.write(args.map(String).join(' ') + '\n');
    const session = new KctxDebugSession();
    process.on('SIGTERM', () => session.shutdown());
    session.start(process.stdin, process.stdout);
    return -1;
  }
  // A TCP port: any local user can connect, so a launch must carry the token.
  const need = socketPath === undefined ? (token ?? randomBytes(24).toString('hex')) : undefined;
  const server = createServer((socket: Socket) => {
    const session = new KctxDebugSession();
    session.setRunAsServer(true);
    if (need) session.requireToken(need, () => socket.end());
    socket.on('error', () => socket.destroy());
    session.start(socket, socket);
  });
  return new Promise<number>((resolve) => {
    const where = socketPath !== undefined ? socketPath : `127.0.0.1:${port}`;
    server.on('error', (e) => {
      process.stderr.write(`kctx dap: cannot listen on ${where}: ${(e as Error).message}\n`);
      resolve(1);
    });
    if (socketPath !== undefined) {
      // A stale socket of ours may be replaced; anything else at the path is left alone.
      try {
        if (lstatSync(socketPath).isSocket()) unlinkSync(socketPath);
      } catch { /* nothing there */ }
      // Created with no permission for group and others (no window before the chmod).
      const old = process.umask(0o177);
      server.listen(socketPath, () => {
        process.umask(old);
        try { chmodSync(socketPath!, 0o600); } catch { /* the umask did it */ }
        process.stderr.write(`kctx dap: listening on unix:${socketPath} (mode 0600)\n`);
        resolve(-1);
      });
      return;
    }
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      process.stderr.write(`kctx dap: listening on 127.0.0.1:${actual} token=${need}\n`);
      process.stderr.write('kctx dap: a client passes the token as the launch attribute "serverToken"\n');
      resolve(-1);
    });
  });
}
